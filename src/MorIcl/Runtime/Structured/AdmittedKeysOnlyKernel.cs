using System.Numerics;
using System.Numerics.Tensors;
using MorIcl.Numerics.Simd;
using MorIcl.Construction.Model;
using MorIcl.Runtime.Kernels;

namespace MorIcl.Runtime.Structured;

/// <summary>
/// <see cref="HeadPattern.AdmittedKeysOnly"/> (docs/math.md §9). For each query i only its admitted keys are
/// formed — itself (Self) and the admitted single-token roles — as the dense kernel forms them: the exact
/// positional part P(i, j) from the block's <see cref="PositionalForm"/>, then the content dimensions in order,
/// each product rounded and added (as the dense kernel). Every other block is bounded by <see cref="ScoreBound"/> from its
/// positional maximum and the O(N) maxima of |q_a| over the block's queries and |k_a| over its keys.
/// ReLU: when every bound is ≤ 0, no unformed score is positive, so (1/N)·Σ over the formed keys of
/// ReLU(s)·v_j (ascending j, as the dense sparse sum) is the head's output; margin = −max bound.
/// Softmax: when every bound lies below the row's best formed score m_i, the row maximum is m_i and the
/// unformed keys carry weight ≤ Σ_b |b|·e^{U_b − m_i} / Σ_formed ≤ e^{max U − min m}·Σ_b |b|·e^{U_b − max U},
/// reported as the leakage; margin = min_i m_i − max_b U_b. When the bound does not prove the head's domain (margin &lt; 0, leakage above the
/// tolerance, NaN, or a prompt past the positional scheme) nothing is written and the caller runs the
/// head densely, so the certificate is then the dense one.
/// <para>
/// A query or key that is the same on every token of a role (it reads only such rows, checked per
/// prompt) is projected once for the role; other rows are read from H when they are ±1 times one
/// residual row, else projected once (<see cref="RowSources{T}"/>). O(N·(d_k + d_v)) per formed key.
/// </para>
/// </summary>
internal static class AdmittedKeysOnlyKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>What the kernel needs besides the plan: the content rows of Q and K, V's rows, and the formed key roles per query role.</summary>
    internal sealed class Compiled
    {
        public required CompiledModel<T>.SparseRows QContent, KContent;
        public required RowSources<T> Queries, Keys, Values;
        /// <summary>Per query role, its formed key roles (ascending, so keys come in ascending token order).</summary>
        public required int[][] Formed;
        public required int PositionBase, Digits;
        /// <summary>The head dimension: the stride of the per-role query, key and maxima arrays.</summary>
        public required int Dk;
        /// <summary>The first head of a ReLU pair whose second head is taken too: it writes the pair's output.</summary>
        public bool PairLeader;
        /// <summary>
        /// Per value row: no other head of the layer writes its output row (a pair's second head writes nothing)
        /// and no head of the layer reads it, so the head's examples update is their whole update and may be
        /// committed at once (<see cref="StructuredRowKernels{T}.CommitWeightedValue"/>).
        /// </summary>
        public bool[] CommitsExamples = Array.Empty<bool>();
        /// <summary>
        /// Per value row: the next layer's example mean sums the output row over the examples with this weight
        /// (StructuredExecutor.SumsAhead), or null. The fused commit then forms that sum while the rows are in cache.
        /// </summary>
        public T?[] SumWeight = Array.Empty<T?>();
        /// <summary>
        /// Per value row: the row may be left summed only (<see cref="SummedOnlyRows{T}"/>): it is summed ahead, its value row
        /// is a row of H no later layer writes, the next layer reads it only through those sums, and the layer after resets it
        /// without reading it otherwise (StructuredExecutor.SummedOnly).
        /// </summary>
        public bool[] SummedOnly = Array.Empty<bool>();
        /// <summary>The bounds' block layout for the last prompt length seen (<see cref="BlockLayout"/>).</summary>
        internal BlockLayout? Layout;
    }

    public static Compiled Compile(HeadPlan plan, CompiledModel<T>.Head head, EmbeddingRows rows)
    {
        int R = plan.Roles;
        var q = Rows(head.QRows, plan.PositionalDims);
        var k = Rows(head.KRows, plan.PositionalDims);
        return new Compiled
        {
            QContent = q, KContent = k, Queries = new RowSources<T>(q), Keys = new RowSources<T>(k), Values = new RowSources<T>(head.VRows),
            Formed = Enumerable.Range(0, R).Select(qr => Enumerable.Range(0, R).Where(kr => plan.Blocks![qr * R + kr] != BlockTreatment.Bounded).ToArray()).ToArray(),
            PositionBase = rows.PositionBase, Digits = rows.Digits, Dk = head.Dk,
        };
    }

    /// <summary>Rows [from, Rows) of a sparse matrix.</summary>
    private static CompiledModel<T>.SparseRows Rows(CompiledModel<T>.SparseRows m, int from)
    {
        int e0 = m.Start[from];
        return new CompiledModel<T>.SparseRows
        {
            Start = m.Start.Skip(from).Select(e => e - e0).ToArray(),
            Cols = m.Cols[e0..], Values = m.Values[e0..],
        };
    }

    /// <summary>Per prompt: whether the content queries (keys) are role-constant (one vector per role).</summary>
    internal readonly record struct Operands(bool QueryConstant, bool KeyConstant)
    {
        /// <summary>Role r's queries (keys) are one vector: role-constant rows, or a single token.</summary>
        public bool QueryPerRole(int count) => QueryConstant || count == 1;
        public bool KeyPerRole(int count) => KeyConstant || count == 1;
    }

    /// <summary>False (nothing written) when the bound does not prove the head's domain on this prompt.</summary>
    public static bool Run(CompiledModel<T>.Head head, HeadPlan plan, Compiled c, in HeadStream<T> s, long maxPosition, out double margin, out double leak)
    {
        margin = double.PositiveInfinity; leak = 0;
        if (s.Examples > maxPosition) return false;             // positions wrap: distinct tokens may share one
        int R = plan.Roles;
        var o = new Operands(RoleConstantRows(c.QContent, s), RoleConstantRows(c.KContent, s));
        if (!o.QueryConstant) c.Queries.Project(s.H, s.Ld, s.QT);
        if (!o.KeyConstant) c.Keys.Project(s.H, s.Ld, s.KT);
        if (head.OutRows.Length > 0) c.Values.Project(s.H, s.Ld, s.VT);
        // Maxima known so far: [r] for the queries of role r, [R + r] for its keys.
        Span<bool> known = stackalloc bool[2 * R];
        PerRoleOperands(c, s, o, R, known);
        for (int qr = 0; qr < R; qr++)
            foreach (int kr in c.Formed[qr]) Scores(plan, c, s, o, qr, kr, known);
        RemainingMaxima(c, s, R, known);
        Span<double> bound = stackalloc double[R * R];
        Span<long> pairs = stackalloc long[R * R];
        double worst = Bounds(plan, c, s, bound, pairs);
        bool relu = head.Activation != Activation.Softmax;
        if (relu && !(worst <= 0)) return false;                  // some unformed score may be positive (or NaN)
        s.Scratch.Varying(head.OutRows);
        if (relu)
        {
            margin = worst == double.NegativeInfinity ? double.PositiveInfinity : -worst;
            // The first head of a ReLU pair computes both: ReLU(ŝ)·v + ReLU(−ŝ)·(−v) = ŝ·v.
            for (int qr = 0; qr < R; qr++) Outputs(head, c, s, qr, c.PairLeader ? Weights.Score : Weights.Relu);
            return true;
        }
        for (int qr = 0; qr < R; qr++)
        {
            var (m, l) = SoftmaxWeights(plan, c, s, qr, bound, pairs);
            margin = Math.Min(margin, m); leak = Math.Max(leak, l);
        }
        if (!(margin >= 0) || !(leak <= Certificate.LeakageTolerance)) return false;
        for (int qr = 0; qr < R; qr++) Outputs(head, c, s, qr, Weights.Softmax);
        return true;
    }

    /// <summary>
    /// The block schedule (docs/math.md §9.6), once per prompt before the blocks: the operands (per role or per
    /// token, as <see cref="Run"/> decides them), the per-role queries and keys with their maxima (<paramref name="known"/>:
    /// [r] queries of role r, [R + r] its keys), and the other maxima set to 0 to be accumulated block by block.
    /// False when the head cannot run structurally on this prompt (a prompt past the positional scheme).
    /// </summary>
    internal static bool Prepare(Compiled c, in HeadStream<T> s, long maxPosition, int roles, out Operands o, Span<bool> known)
    {
        o = default;
        if (s.Examples > maxPosition) return false;
        o = new Operands(RoleConstantRows(c.QContent, s), RoleConstantRows(c.KContent, s));
        PerRoleOperands(c, s, o, roles, known);
        int dc = c.QContent.Rows;
        for (int r = 0; r < roles; r++)
        {
            if (!known[r]) s.Scratch.MaxQ.AsSpan(r * c.Dk, dc).Clear();
            if (!known[roles + r]) s.Scratch.MaxK.AsSpan(r * c.Dk, dc).Clear();
        }
        return true;
    }

    /// <summary>
    /// A ReLU head's work on the window of <paramref name="s"/>: the projections there, the formed scores, the maxima of
    /// the per-token operands (the largest so far kept), and the outputs, as <see cref="Run"/> computes them on these
    /// tokens. The outputs are written before the bound is known: the schedule checks it after the last block
    /// (<see cref="Finish"/>) and, when it fails, runs the prompt again layer by layer.
    /// </summary>
    internal static void RunWindow(CompiledModel<T>.Head head, HeadPlan plan, Compiled c, in HeadStream<T> s, Operands o, ReadOnlySpan<bool> known)
    {
        int R = plan.Roles, lo = s.Lo, count = Math.Min(s.Hi, s.N) - s.Lo;
        if (!o.QueryConstant) c.Queries.Project(s.H, s.Ld, s.QT, lo, count);
        if (!o.KeyConstant) c.Keys.Project(s.H, s.Ld, s.KT, lo, count);
        if (head.OutRows.Length > 0) c.Values.Project(s.H, s.Ld, s.VT, lo, count);
        Span<bool> tracked = stackalloc bool[2 * R];
        known.CopyTo(tracked);                 // per window: the scores track the maxima they can, the rest below
        for (int qr = 0; qr < R; qr++)
            foreach (int kr in c.Formed[qr]) Scores(plan, c, s, o, qr, kr, tracked);
        WindowMaxima(c, s, R, tracked);
        for (int qr = 0; qr < R; qr++) Outputs(head, c, s, qr, c.PairLeader ? Weights.Score : Weights.Relu);
    }

    /// <summary>After every block: the bound from the maxima (as <see cref="Run"/>); whether it proves the ReLU head's domain, and its margin.</summary>
    internal static bool Finish(HeadPlan plan, Compiled c, in HeadStream<T> s, out double margin)
    {
        int R = plan.Roles;
        Span<double> bound = stackalloc double[R * R];
        Span<long> pairs = stackalloc long[R * R];
        double worst = Bounds(plan, c, s, bound, pairs);
        margin = worst == double.NegativeInfinity ? double.PositiveInfinity : -worst;
        return worst <= 0;
    }

    /// <summary>max |q_a|, |k_a| over the window's tokens of every role whose operands are per token, kept if larger.</summary>
    private static void WindowMaxima(Compiled c, in HeadStream<T> s, int roles, ReadOnlySpan<bool> known)
    {
        var sc = s.Scratch;
        int dc = c.QContent.Rows;
        for (int r = 0; r < roles; r++)
        {
            var (start, count) = s.Span(r);
            if (count == 0) continue;
            if (!known[r])
                for (int a = 0; a < dc; a++)
                    sc.MaxQ[r * c.Dk + a] = Math.Max(sc.MaxQ[r * c.Dk + a], FixedOrder<T>.MaxAbs(c.Queries.Row(a, s.H, s.QT, s.Ld, start, count)));
            if (!known[roles + r])
                for (int a = 0; a < dc; a++)
                    sc.MaxK[r * c.Dk + a] = Math.Max(sc.MaxK[r * c.Dk + a], FixedOrder<T>.MaxAbs(c.Keys.Row(a, s.H, s.KT, s.Ld, start, count)));
        }
    }

    private static bool RoleConstantRows(CompiledModel<T>.SparseRows m, in HeadStream<T> s)
    {
        foreach (int col in m.Cols) if (!s.RoleConstant(col)) return false;
        return true;
    }

    /// <summary>q(r), k(r) and their magnitudes for roles whose queries (keys) are one vector (and for roles without tokens).</summary>
    private static void PerRoleOperands(Compiled c, in HeadStream<T> s, Operands o, int roles, Span<bool> known)
    {
        var sc = s.Scratch;
        int dc = c.QContent.Rows, dk = c.Dk;
        // The one-token roles (the query, then each auxiliary token: consecutive tokens and roles) projected together.
        int singles = roles - 1 - TokenRoles.Example;
        if (singles > 0)
        {
            int first = s.Range(TokenRoles.Query).Start;
            FixedOrder<T>.ProjectTokens(c.QContent, s.H, s.Ld, first, singles, sc.QueryOfRole.AsSpan(TokenRoles.Query * dk), dk);
            FixedOrder<T>.ProjectTokens(c.KContent, s.H, s.Ld, first, singles, sc.KeyOfRole.AsSpan(TokenRoles.Query * dk), dk);
            for (int r = TokenRoles.Query; r < roles; r++)
            {
                known[r] = known[roles + r] = true;
                for (int a = 0; a < dc; a++)
                {
                    sc.MaxQ[r * dk + a] = Math.Abs(double.CreateChecked(sc.QueryOfRole[r * dk + a]));
                    sc.MaxK[r * dk + a] = Math.Abs(double.CreateChecked(sc.KeyOfRole[r * dk + a]));
                }
            }
        }
        {
            int r = TokenRoles.Example;
            var (start, count) = s.Range(r);
            var maxQ = sc.MaxQ.AsSpan(r * dk, dc); var maxK = sc.MaxK.AsSpan(r * dk, dc);
            if (count == 0) { maxQ.Clear(); maxK.Clear(); known[r] = known[roles + r] = true; return; }
            if (known[r] = o.QueryPerRole(count)) PerRole(c.QContent, s, start, sc.QueryOfRole.AsSpan(r * dk, dc), maxQ);
            if (known[roles + r] = o.KeyPerRole(count)) PerRole(c.KContent, s, start, sc.KeyOfRole.AsSpan(r * dk, dc), maxK);
        }
    }

    /// <summary>max |q_a|, |k_a| over the tokens of every role whose maxima the score passes did not track.</summary>
    private static void RemainingMaxima(Compiled c, in HeadStream<T> s, int roles, ReadOnlySpan<bool> known)
    {
        var sc = s.Scratch;
        int dc = c.QContent.Rows;
        for (int r = 0; r < roles; r++)
        {
            var (start, count) = s.Range(r);
            if (!known[r]) for (int a = 0; a < dc; a++) sc.MaxQ[r * c.Dk + a] = FixedOrder<T>.MaxAbs(c.Queries.Row(a, s.H, s.QT, s.Ld, start, count));
            if (!known[roles + r]) for (int a = 0; a < dc; a++) sc.MaxK[r * c.Dk + a] = FixedOrder<T>.MaxAbs(c.Keys.Row(a, s.H, s.KT, s.Ld, start, count));
        }
    }

    private static void PerRole(CompiledModel<T>.SparseRows m, in HeadStream<T> s, int token, Span<T> value, Span<double> max)
    {
        FixedOrder<T>.ProjectToken(m, s.H, s.Ld, token, value);
        for (int a = 0; a < value.Length; a++) max[a] = Math.Abs(double.CreateChecked(value[a]));
    }

    /// <summary>U_b and the number of unformed pairs per query for every block; returns max_b U_b (−∞ when none).</summary>
    private static double Bounds(HeadPlan plan, Compiled c, in HeadStream<T> s, Span<double> bound, Span<long> pairs)
    {
        int R = plan.Roles, dc = c.QContent.Rows;
        bool single = typeof(T) == typeof(float);
        var layout = BlockLayout.Of(plan, c, s);
        int m = layout.Blocks.Length;
        layout.Pairs.CopyTo(pairs);
        bound[..(R * R)].Fill(double.NegativeInfinity);
        // The blocks with unformed pairs, bounded together (ScoreBound.UpperOfBlocks: the bits of one Upper per block).
        Span<double> upper = stackalloc double[R * R];
        ScoreBound.UpperOfBlocks(layout.Positional, layout.QOffset, layout.KOffset, s.Scratch.MaxQ, s.Scratch.MaxK, dc, single, upper);
        double worst = double.NegativeInfinity;
        for (int j = 0; j < m; j++)
        {
            bound[layout.Blocks[j]] = upper[j];
            worst = double.IsNaN(upper[j]) ? double.NaN : Math.Max(worst, upper[j]);
        }
        return worst;
    }

    /// <summary>
    /// What <see cref="Bounds"/> needs of the plan for a prompt of n examples: per block its unformed pairs per query, and the blocks
    /// that have some, with their offsets into the maxima and their positional maxima. It depends on n alone, so it is formed
    /// once per prompt length and kept on the head (one immutable object, replaced whole: safe to share between threads).
    /// </summary>
    internal sealed class BlockLayout
    {
        public required int Examples;
        public required long[] Pairs;
        public required int[] Blocks, QOffset, KOffset;
        public required double[] Positional;

        public static BlockLayout Of(HeadPlan plan, Compiled c, in HeadStream<T> s)
        {
            var kept = Volatile.Read(ref c.Layout);
            if (kept is not null && kept.Examples == s.Examples) return kept;
            var layout = Build(plan, c, s);
            Volatile.Write(ref c.Layout, layout);
            return layout;
        }

        /// <summary>The layout for the prompt of <paramref name="s"/> (apart from <see cref="Of"/>: its lambdas allocate at entry).</summary>
        private static BlockLayout Build(HeadPlan plan, Compiled c, in HeadStream<T> s)
        {
            int R = plan.Roles;
            var pairs = new long[R * R];
            var blocks = new List<int>();
            for (int qr = 0; qr < R; qr++)
                for (int kr = 0; kr < R; kr++)
                {
                    int b = qr * R + kr;
                    long keys = s.Range(kr).Count;
                    pairs[b] = s.Range(qr).Count == 0 ? 0 : plan.Blocks![b] switch
                    {
                        BlockTreatment.Bounded => keys,
                        BlockTreatment.SelfFormedRestBounded => keys - 1,
                        _ => 0,
                    };
                    if (pairs[b] > 0) blocks.Add(b);
                }
            int dk = c.Dk;
            return new BlockLayout
            {
                Examples = s.Examples, Pairs = pairs, Blocks = blocks.ToArray(),
                QOffset = blocks.Select(b => b / R * dk).ToArray(), KOffset = blocks.Select(b => b % R * dk).ToArray(),
                Positional = blocks.Select(b => plan.Forms![b].Max(plan.DistinctPositions![b])).ToArray(),
            };
        }
    }

    /// <summary>Token of the key of block (qr, kr) for query i: itself within its own role, else the role's single token.</summary>
    private static int Key(in HeadStream<T> s, int qr, int kr, int i) => kr == qr ? i : s.Range(kr).Start;

    /// <summary>
    /// Scores of the formed block (qr, kr) for the queries of role qr into its slot row of the scratch: the exact
    /// positional part, then Σ_a q_a·k_a over the content dimensions in order (each product rounded, then added), each operand
    /// a per-token row (up to its sign) or one number. Products commute and a sign moves exactly between the
    /// factors, so every score is the dense kernel's.
    /// </summary>
    private static void Scores(HeadPlan plan, Compiled c, in HeadStream<T> s, Operands o, int qr, int kr, Span<bool> known)
    {
        int roleCount = s.Range(qr).Count;
        var (start, count) = s.Span(qr);
        if (count == 0) return;
        int ld = s.Ld, R = plan.Roles, dk = c.Dk, dc = c.QContent.Rows;
        var sc = s.Scratch;
        var score = sc.Scores.AsSpan(Array.IndexOf(c.Formed[qr], kr) * ld + start, count);
        var form = plan.Forms![qr * R + kr];
        bool self = kr == qr, product = plan.PositionalDims == 0;
        int key = Key(s, qr, kr, start);
        bool qVector = !o.QueryPerRole(roleCount), kVector = self && !o.KeyPerRole(roleCount);
        // A single key (another role's token, or a role whose keys are one vector) is read per role.
        T[] h = s.H, kt = s.KT;
        int keyRole = self ? qr : kr;
        bool keyPerRole = o.KeyPerRole(s.Range(keyRole).Count);
        T QOne(int a) => sc.QueryOfRole[qr * dk + a];
        T KOne(int a) => keyPerRole ? sc.KeyOfRole[keyRole * dk + a] : c.Keys.At(a, h, kt, ld, key);
        if (!qVector && !kVector && (self || form.Kind == PositionalFormKind.Constant))
        {
            // Every query of the role has the same score.
            T acc = product ? (dc == 0 ? T.Zero : QOne(0) * KOne(0)) : T.CreateChecked(form.Constant);
            for (int a = product ? 1 : 0; a < dc; a++) acc += QOne(a) * KOne(a);
            score.Fill(acc);
            return;
        }
        // Per-token queries against one key: every content dimension and the queries' maxima in one pass (the passes
        // below, fused); the maxima are the role's, so they are known from here on.
        // Only where the passes below would track the maximum (the first formed key of the role): a later key adds
        // (x·k) + score, whose NaN payload can differ from score + x·k's when both are NaN.
        bool fused = sc.Fused && qVector != kVector && !product && dc > 0 && !s.Windowed && !known[qVector ? qr : plan.Roles + qr];
        bool constantForm = self || form.Kind == PositionalFormKind.Constant;
        if (!product)
        {
            if (constantForm) { if (!fused) score.Fill(T.CreateChecked(form.Constant)); }
            // Positioned tokens: example i has position i, the query position n — their token indices.
            else for (int i = 0; i < count; i++) score[i] = T.CreateChecked(form.At(start + i, key, c.PositionBase, c.Digits));
        }
        if (fused)
        {
            // The per-token operand is the queries (one key per role) or the keys of the role itself (one query per role).
            Span<T> other = stackalloc T[dc];
            for (int a = 0; a < dc; a++) other[a] = qVector ? c.Queries.Sign[a] * KOne(a) : c.Keys.Sign[a] * QOne(a);
            var rows = qVector ? c.Queries : c.Keys;
            var maxima = (qVector ? sc.MaxQ : sc.MaxK).AsSpan(qr * dk, dc);
            // Maxima an earlier head formed on this pass hold until a layer writes the row (StructuredScratch.KnownMaxima).
            bool knownMaxima = sc.KnownMaxima(rows, qr, dc, maxima);
            FusedRowKernels<T>.DotTrackingMax(score, T.CreateChecked(form.Constant), !constantForm, rows, s.H, qVector ? s.QT : s.KT,
                ld, start, other, maxima, trackMax: !knownMaxima);
            if (!knownMaxima) sc.KeepMaxima(rows, qr, dc, maxima);
            known[qVector ? qr : plan.Roles + qr] = true;
            sc.Counts.Scores++;
            return;
        }
        var tmp = sc.Max.AsSpan(start, count);
        // A per-token operand's maximum over the role is tracked in the same pass (once per role).
        int roles = plan.Roles;
        bool trackQ = qVector && !kVector && !product && !known[qr], trackK = kVector && !qVector && !product && !known[roles + qr];
        for (int a = 0; a < dc; a++)
        {
            var q = qVector ? c.Queries.Row(a, s.H, s.QT, ld, start, count) : default;
            var k = kVector ? c.Keys.Row(a, s.H, s.KT, ld, start, count) : default;
            T sign = (qVector ? c.Queries.Sign[a] : T.One) * (kVector ? c.Keys.Sign[a] : T.One);
            bool first = product && a == 0;
            if (qVector && kVector)
            {
                if (sign < T.Zero) { TensorPrimitives.Negate(q, tmp); q = tmp; }
                if (first) TensorPrimitives.Multiply(q, k, score);
                else TensorPrimitives.MultiplyAdd(q, k, score, score);
            }
            else if (qVector || kVector)
            {
                T other = sign * (qVector ? KOne(a) : QOne(a));
                if (first) TensorPrimitives.Multiply(qVector ? q : k, other, score);
                else if (trackQ) Track(sc.MaxQ, qr * dk + a, StructuredRowKernels<T>.AddScaledTrackingMax(score, q, other), s.Windowed);
                else if (trackK) Track(sc.MaxK, qr * dk + a, StructuredRowKernels<T>.AddScaledTrackingMax(score, k, other), s.Windowed);
                else TensorPrimitives.MultiplyAdd(qVector ? q : k, other, score, score);
            }
            else
            {
                T x = QOne(a), y = KOne(a);
                for (int i = 0; i < count; i++) score[i] = first ? x * y : score[i] + x * y;
            }
        }
        if (trackQ) known[qr] = true;
        if (trackK) known[roles + qr] = true;
    }

    /// <summary>A maximum tracked while scoring: the role's (whole pass) or the largest so far (a window of the block schedule).</summary>
    private static void Track(double[] max, int i, double value, bool windowed) => max[i] = windowed ? Math.Max(max[i], value) : value;

    /// <summary>
    /// Softmax weights of the formed keys in place (e^{s − m_i}), their sum per token; returns the role's
    /// (margin, leakage bound). A row with no formed key has margin −∞ and leakage 1 (as the dense kernel says).
    /// </summary>
    private static (double Margin, double Leak) SoftmaxWeights(HeadPlan plan, Compiled c, in HeadStream<T> s, int qr, ReadOnlySpan<double> bound, ReadOnlySpan<long> pairs)
    {
        var (start, count) = s.Range(qr);
        if (count == 0) return (double.PositiveInfinity, 0);
        var formed = c.Formed[qr];
        if (formed.Length == 0) return (double.NegativeInfinity, 1);
        int ld = s.Ld, R = plan.Roles;
        double top = double.NegativeInfinity;
        for (int kr = 0; kr < R; kr++) top = double.IsNaN(bound[qr * R + kr]) ? double.NaN : Math.Max(top, bound[qr * R + kr]);
        // Row by row over the tokens (element-wise, so as one query at a time): m_i = max_t s_t, w_t = e^{s_t − m_i}
        // in place, Σ_t w_t in slot order.
        double least = count == 1 ? WeightsOfOne(s.Scratch, formed.Length, ld, start) : WeightsOfRole(s.Scratch, formed.Length, ld, start, count);
        if (top == double.NegativeInfinity) return (double.PositiveInfinity, 0);
        double margin = least - top;
        // Leakage of query i ≤ Σ_b |b|·e^{U_b − m_i} / Σ_formed ≤ e^{top − min_i m_i}·Σ_b |b|·e^{U_b − top}, as every
        // Σ_formed ≥ 1 (it holds e^0 for the maximum); the exponentials and products round: one part in 2^48 covers them.
        double unformedAtTop = 0;
        for (int kr = 0; kr < R; kr++)
            if (pairs[qr * R + kr] > 0) unformedAtTop += pairs[qr * R + kr] * Math.Exp(bound[qr * R + kr] - top);
        double leak = unformedAtTop * Math.Exp(top - least) * (1 + Math.ScaleB(1, -48));
        return (margin, leak);
    }

    /// <summary>
    /// The softmax weights of a role's <paramref name="count"/> queries in place (keys of <paramref name="keys"/> slots), their
    /// sums per token; returns min_i m_i (NaN propagates).
    /// </summary>
    private static double WeightsOfRole(StructuredScratch<T> sc, int keys, int ld, int start, int count)
    {
        var max = sc.Max.AsSpan(start, count);
        var sums = sc.Normaliser.AsSpan(start, count);
        Span<T> Row(int t) => sc.Scores.AsSpan(t * ld + start, count);
        Row(0).CopyTo(max);
        for (int t = 1; t < keys; t++) TensorPrimitives.Max(max, Row(t), max);
        for (int t = 0; t < keys; t++)
        {
            TensorPrimitives.Subtract(Row(t), max, Row(t));
            // SimdSpan.Exp, remembered across the E-step gates of a layer (a fused-row shortcut: off, every row is computed).
            if (!sc.Fused) SimdSpan.Exp(Row(t), Row(t));
            else if (sc.ExpRows.InPlace(Row(t))) sc.Counts.ExpRowsRemembered++;
            if (t == 0) Row(0).CopyTo(sums);
            else TensorPrimitives.Add(sums, Row(t), sums);
        }
        TensorPrimitives.Negate(max, max);
        return -double.CreateChecked(SimdSpan.Max<T>(max));   // min over the role's queries of m_i (NaN propagates)
    }

    /// <summary>
    /// <see cref="WeightsOfRole"/> for one query, in scalars: the same operations element for element (TensorPrimitives.Max on one
    /// element, SimdSpan.Exp(x) the lanes' exponential); m_i itself is the minimum of one.
    /// </summary>
    private static double WeightsOfOne(StructuredScratch<T> sc, int keys, int ld, int token)
    {
        T[] scores = sc.Scores;
        T max = scores[token];
        // TensorPrimitives.Max itself, on one element: a NaN keeps the payload the span path gives it.
        var m = new Span<T>(ref max);
        for (int t = 1; t < keys; t++) TensorPrimitives.Max(m, scores.AsSpan(t * ld + token, 1), m);
        T sum = T.Zero;
        for (int t = 0; t < keys; t++)
        {
            T w = scores[t * ld + token] = SimdSpan.Exp(scores[t * ld + token] - max);
            sum = t == 0 ? w : sum + w;
        }
        sc.Max[token] = -max;
        sc.Normaliser[token] = sum;
        return double.CreateChecked(max);
    }

    /// <summary>
    /// For each value row v and each query i of role qr: acc = Σ_t w_t·v_(key t) over the formed keys in order
    /// (w = ReLU(score) for ReLU heads, the softmax weight otherwise; products and sums rounded separately), then
    /// delta[out_v, i] += acc/N (ReLU) or acc / Σ_t w_t (softmax). For ReLU this is the dense sparse sum over
    /// the positive scores: a non-positive one adds ±0, NaN stays NaN. A value row's sign is carried in the
    /// scale of the next step (negation is exact), never applied in a pass of its own.
    /// </summary>
    /// <summary>
    /// Whether value row v of the queries of role qr gets a contribution from their own (per-token) key only: the
    /// other formed keys are single tokens whose value is 0 (they add ±0 to every sum).
    /// </summary>
    private static bool OnlyItself(Compiled c, in HeadStream<T> s, int qr, int v, int count, out int slot)
    {
        var formed = c.Formed[qr];
        slot = -1;
        if (count <= 1) return false;
        for (int t = 0; t < formed.Length; t++)
        {
            if (formed[t] == qr) { slot = t; continue; }
            if (c.Values.At(v, s.H, s.VT, s.Ld, s.Range(formed[t]).Start) != T.Zero) return false;
        }
        return slot >= 0;
    }

    /// <summary>
    /// The examples' outputs of a ReLU head for every value row that only the examples' own key feeds
    /// (<see cref="OnlyItself"/>) and whose output row the head commits (<see cref="Compiled.CommitsExamples"/>), in one pass
    /// (<see cref="FusedRowKernels{T}.CommitWeightedValues"/>): the bits of one <see cref="StructuredRowKernels{T}.CommitWeightedValue"/>
    /// per row. An output row kept per role (a reset row, +0 on every example) is read as its constant, not filled first.
    /// Marks the rows done in <paramref name="done"/>.
    /// </summary>
    private static void CommitFused(CompiledModel<T>.Head head, Compiled c, in HeadStream<T> s, int roleCount, int start, int count, T invN, bool relu, Span<bool> done)
    {
        int dv = head.OutRows.Length, slot = -1, m = 0;
        Span<int> v = stackalloc int[dv];
        for (int r = 0; r < dv; r++)
        {
            if (c.CommitsExamples.Length <= r || !c.CommitsExamples[r] || !OnlyItself(c, s, TokenRoles.Example, r, roleCount, out int t)) continue;
            if (slot >= 0 && t != slot) continue;
            slot = t; v[m++] = r;
        }
        if (m == 0) return;
        var sc = s.Scratch;
        int ld = s.Ld;
        Span<int> rows = stackalloc int[m];
        Span<bool> constant = stackalloc bool[m];
        Span<T> bases = stackalloc T[m], scale = stackalloc T[m];
        for (int r = 0; r < m; r++)
        {
            int row = rows[r] = head.OutRows[v[r]];
            constant[r] = sc.Stale[row];
            bases[r] = s.H[row * ld + start];
            scale[r] = c.Values.Sign[v[r]] * invN;
        }
        bool finite = true;
        int L = SimdSpan.VirtualLanes<T>();
        Span<T> lanes = stackalloc T[m * L];
        lanes.Clear();
        // The rows summed ahead: their index among the m, weight and offset.
        Span<int> summed = stackalloc int[m], offsets = stackalloc int[m];
        Span<T> weights = stackalloc T[m];
        int k = 0;
        for (int r = 0; r < m; r++)
            if (c.SumWeight.Length > v[r] && c.SumWeight[v[r]] is T weight) { summed[k] = r; weights[k++] = weight; }
        bool ahead = k > 0;
        // When every row is summed ahead against a finite, non-zero weight, a finite sum proves its row finite (w·h is ±∞
        // or NaN for a non-finite h, and so is every sum it enters), so the commit need not test each value; a sum that is
        // not finite (a non-finite value, or an overflow of finite ones) sends its row to an exact test.
        bool bySums = k == m;
        for (int e = 0; e < k; e++) bySums &= T.IsFinite(weights[e]) && !T.IsZero(weights[e]);
        // Block by block when a sum is formed ahead: each block is summed while it is in cache (every block but the
        // last a multiple of the lanes long, the last at least the lanes long when the row is: SimdSpan.AccumulateSum).
        int block = ahead ? SumBlock : count;
        // Rows summed only: every row summed ahead onto the constant +0, from a row of H no later layer writes, and read next only
        // through its sum: the sums are formed and the rows left unwritten (written on demand, SummedOnlyRows).
        bool only = bySums && sc.SummedOnly.On;
        for (int r = 0; r < m && only; r++)
            only &= c.SummedOnly.Length > v[r] && c.SummedOnly[v[r]] && constant[r] && T.IsZero(bases[r]) && !T.IsNegative(bases[r]);
        if (only)
        {
            var w = sc.Scores.AsSpan(slot * ld + start, count);
            FusedRowKernels<T>.SumsOfWeightedValues(lanes, w, c.Values, s.H, v[..m], scale, weights[..k], relu, ld, start);
            sc.SummedOnly.Keep(rows, v[..m], scale, w, start, relu, c.Values, sc.Layer, s.H, ld);
            sc.Counts.SummedOnly += m;
        }
        else
        for (int b0 = 0; b0 < count; b0 += block)
        {
            int len = count - b0 - block < L ? count - b0 : block;
            var w = sc.Scores.AsSpan(slot * ld + start + b0, len);
            finite &= FusedRowKernels<T>.CommitWeightedValues(s.H, rows, constant, bases, w, c.Values, s.VT, v[..m], scale, relu, ld, start + b0, checkFinite: !bySums);
            if (ahead)
            {
                for (int e = 0; e < k; e++) offsets[e] = rows[summed[e]] * ld + start + b0;
                SimdSpan.AccumulateSums<T>(lanes, s.H, offsets[..k], weights[..k], b0, len, count);
            }
            if (len != block) break;
        }
        Span<bool> sumFinite = stackalloc bool[m];
        for (int e = 0; e < k; e++)
        {
            T sum = SimdSpan.SumOfLanes<T>(lanes.Slice(e * L, L));
            sumFinite[summed[e]] = T.IsFinite(sum) && !sc.SumsNotFinite;
            sc.SumAhead(rows[summed[e]], sum, weights[e], count);
            // A sum that is not finite sends its row to the exact test below, which reads it: written now.
            if (only && !sumFinite[summed[e]]) sc.SummedOnly.Materialise(rows[summed[e]], s.H, ld);
        }
        sc.Counts.Commits++; sc.Counts.SumsAhead += k;
        for (int r = 0; r < m; r++)
        {
            int row = rows[r];
            if (constant[r]) { sc.Unstale(row); sc.Counts.OnConstant++; }
            bool known = bySums ? sumFinite[r] : finite;
            sc.ThroughFinite[row] = known || RowKernels<T>.AllFinite(s.H.AsSpan(row * ld + start, count));   // the exact test
            sc.Through[row] = true;
            done[v[r]] = true;
        }
    }

    /// <summary>Tokens per block of a fused commit that forms sums ahead (a multiple of every lane count).</summary>
    private const int SumBlock = 2048;

    /// <summary>What multiplies the values: ReLU of the score, the score itself (a ReLU pair), or the softmax weight.</summary>
    private enum Weights { Relu, Score, Softmax }

    private static void Outputs(CompiledModel<T>.Head head, Compiled c, in HeadStream<T> s, int qr, Weights weights)
    {
        bool relu = weights != Weights.Softmax;
        int roleCount = s.Range(qr).Count;
        var (start, count) = s.Span(qr);
        var formed = c.Formed[qr];
        int ld = s.Ld, dv = head.OutRows.Length;
        if (count == 0 || formed.Length == 0 || dv == 0) return;
        var sc = s.Scratch;
        if (weights == Weights.Relu)
            for (int t = 0; t < formed.Length; t++)
            {
                var w = sc.Scores.AsSpan(t * ld + start, count);
                TensorPrimitives.Max(w, T.Zero, w);
            }
        T invN = T.One / T.CreateChecked(s.N);
        if (roleCount == 1) { OutputsOfOne(head, c, s, qr, start, relu, invN); return; }
        var acc = sc.Sum.AsSpan(start, count);
        var tmp = sc.Max.AsSpan(start, count);
        Span<bool> fused = stackalloc bool[dv];
        if (sc.Fused && relu && qr == TokenRoles.Example && !s.Windowed) CommitFused(head, c, s, roleCount, start, count, invN, weights == Weights.Relu, fused);
        for (int v = 0; v < dv; v++)
        {
            if (fused[v]) continue;
            if (OnlyItself(c, s, qr, v, roleCount, out int slot))
            {
                // One formed key carries a value: one pass, the same roundings as below.
                var w = sc.Scores.AsSpan(slot * ld + start, count);
                var x = c.Values.Row(v, s.H, s.VT, ld, start, count);
                var dst = s.Delta.AsSpan(head.OutRows[v] * ld + start, count);
                if (qr == TokenRoles.Example && c.CommitsExamples.Length > v && c.CommitsExamples[v])
                {
                    int row = head.OutRows[v];
                    // A row kept per role: a softmax commit reads its constant (fused rows) instead of filling it first.
                    bool onConstant = !relu && sc.Fused && sc.Stale[row] && !s.Windowed;
                    T b = s.H[row * ld + start];
                    if (onConstant) { sc.Unstale(row); sc.Counts.QuotientOnConstant++; }
                    else if (sc.Stale[row]) sc.Fill(s.H, row, s.Examples, ld);
                    var h = s.H.AsSpan(row * ld + start, count);
                    sc.ThroughFinite[row] = relu ? StructuredRowKernels<T>.CommitWeightedValue(h, w, x, c.Values.Sign[v] * invN, weights == Weights.Relu)
                        : StructuredRowKernels<T>.CommitWeightedQuotient(h, w, x, sc.Normaliser.AsSpan(start, count), c.Values.Sign[v], onConstant, b);
                    sc.Through[row] = true;
                }
                else if (relu) StructuredRowKernels<T>.AddWeightedValue(dst, w, x, c.Values.Sign[v] * invN, weights == Weights.Relu);
                else StructuredRowKernels<T>.AddWeightedQuotient(dst, w, x, sc.Normaliser.AsSpan(start, count), c.Values.Sign[v]);
                continue;
            }
            T held = T.One;                       // acc holds held·(the true sum)
            bool any = false;
            for (int t = 0; t < formed.Length; t++)
            {
                var w = sc.Scores.AsSpan(t * ld + start, count);
                var dst = any ? tmp : acc;
                T sign = T.One;
                if (formed[t] == qr && roleCount > 1)
                {
                    TensorPrimitives.Multiply(w, c.Values.Row(v, s.H, s.VT, ld, start, count), dst);
                    sign = c.Values.Sign[v];
                }
                else
                {
                    // A single key whose value is 0 (an auxiliary token's x, y, t) adds ±0 to every sum: skipped.
                    T value = c.Values.At(v, s.H, s.VT, ld, Key(s, qr, formed[t], start));
                    if (value == T.Zero) continue;
                    TensorPrimitives.Multiply(w, value, dst);
                }
                if (!any) held = sign;
                else RowKernels<T>.AddScaled(acc, tmp, held * sign);
                any = true;
            }
            if (!any) continue;
            var d = s.Delta.AsSpan(head.OutRows[v] * ld + start, count);
            if (relu) RowKernels<T>.AddScaled(d, acc, held * invN);
            else
            {
                TensorPrimitives.Divide(acc, sc.Normaliser.AsSpan(start, count), acc);
                RowKernels<T>.AddScaled(d, acc, held);
            }
        }
    }

    /// <summary>
    /// <see cref="Outputs"/> for a role of one token, in scalars: every formed key is a single token, so each value row
    /// takes acc = w_t·v_t over the keys whose value is not 0 (the first a product, each later one added as 1·(w·v)), then
    /// d += (1/N)·acc (ReLU) or d += 1·(acc / Σ_t w_t) (softmax): the operations of the span path, element for element.
    /// </summary>
    private static void OutputsOfOne(CompiledModel<T>.Head head, Compiled c, in HeadStream<T> s, int qr, int token, bool relu, T invN)
    {
        var formed = c.Formed[qr];
        var sc = s.Scratch;
        int ld = s.Ld;
        int[] outRows = head.OutRows;
        for (int v = 0; v < outRows.Length; v++)
        {
            T acc = T.Zero, held = T.One;
            bool any = false;
            for (int t = 0; t < formed.Length; t++)
            {
                T value = c.Values.At(v, s.H, s.VT, ld, Key(s, qr, formed[t], token));
                if (value == T.Zero) continue;
                T product = sc.Scores[t * ld + token] * value;
                acc = any ? acc + held * product : product;
                any = true;
            }
            if (!any) continue;
            ref T d = ref s.Delta[outRows[v] * ld + token];
            d = relu ? d + (held * invN) * acc : d + held * (acc / sc.Normaliser[token]);
        }
    }
}
