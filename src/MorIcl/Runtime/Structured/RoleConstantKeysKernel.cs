using System.Numerics;
using System.Numerics.Tensors;
using MorIcl.Numerics.Simd;
using MorIcl.Construction.Model;
using MorIcl.Runtime.Kernels;

namespace MorIcl.Runtime.Structured;

/// <summary>
/// <see cref="HeadPattern.RoleConstantKeys"/> (docs/math.md §9): when every token of a role has the same key
/// k(r), s_ij = ⟨q_i, k(role j)⟩ for all j of a role — the same number the dense kernel forms, accumulated
/// over the dimensions in order (first a product, then each product rounded and added). Roles with bitwise-equal
/// keys form one group g; the head needs one score per token and group, the value sums V_g = Σ_{j ∈ g} v_j,
/// and gives, per token i, ReLU: (1/N) Σ_g ReLU(s_ig) V_g; linear: (1/N) Σ_g s_ig V_g; softmax:
/// Σ_g e^{s_ig − m_i} V_g / Σ_g |g| e^{s_ig − m_i}. Margin and leakage are the dense ones, from the same
/// scores with multiplicities. When the queries are role-constant too (the example means, copy_over),
/// each role's output is computed once and added to its tokens. O(N·(groups·d_k + d_v)).
/// </summary>
internal static class RoleConstantKeysKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// The head without sharing weights (<see cref="Run(CompiledModel{T}.Head, HeadPlan, in HeadStream{T}, int, ReadOnlySpan{T}, Share, out double, out double)"/>
    /// with <see cref="Share.None"/>): the block schedule's call, whose <paramref name="roleSums"/> it accumulated over its blocks.
    /// </summary>
    internal static bool Run(CompiledModel<T>.Head head, HeadPlan plan, in HeadStream<T> s, int roles, ReadOnlySpan<T> roleSums, out double margin, out double leak) =>
        Run(head, plan, s, roles, roleSums, Share.None, out margin, out leak);

    /// <summary>
    /// Which head's per-role weights this one may take (<see cref="SharedWeights{T}"/>): <see cref="With"/>, an earlier head of
    /// the layer with the same Q, K, admission and activation (−1: none); <see cref="Keep"/>: a later head takes this one's, so it
    /// keeps them; <see cref="Head"/>: this head's index in its layer, which names the weights it keeps.
    /// </summary>
    internal readonly record struct Share(int Head, int With, bool Keep)
    {
        public static Share None => new(-1, -1, false);
    }

    /// <summary>
    /// The head's outputs added to the layer's update, with its margin and leakage; false (nothing written) when some key row
    /// differs between tokens of a role on this prompt. When <paramref name="roleSums"/> is not empty it holds Σ_{j ∈ role r} v_j[v]
    /// at [r·d_v + v] (each as <see cref="RoleSum"/> forms it), instead of summing here. <paramref name="share"/>: whether the head
    /// takes an earlier head's per-role weights or keeps its own for later heads (<see cref="SharedWeights{T}"/>).
    /// </summary>
    internal static bool Run(CompiledModel<T>.Head head, HeadPlan plan, in HeadStream<T> s, int roles, ReadOnlySpan<T> roleSums, Share share,
        out double margin, out double leak)
    {
        margin = double.PositiveInfinity; leak = 0;
        var sc = s.Scratch;
        bool shortcut = sc.Fused && roleSums.IsEmpty && !s.Windowed;
        if (shortcut && share.With >= 0 && sc.Shared.Holds(sc.Epoch, share.With))
            return RunShared(head, s, roles, sc.Shared, out margin, out leak);
        if (share.Keep) sc.Shared.Forget();   // a head that falls back below leaves no weights to take
        if (!plan.KeysAreEmbeddingConstants)
            foreach (int c in head.KCols)
                if (!s.RoleConstant(c)) return false;
        int dk = head.Dk, dv = head.OutRows.Length;
        Span<int> group = stackalloc int[roles];
        Span<int> leader = stackalloc int[roles];
        Span<long> size = stackalloc long[roles];
        int groups = GroupRoles(head, s, roles, group, leader, size);
        bool queriesConstant = true;
        foreach (int c in head.QCols) queriesConstant &= s.RoleConstant(c);
        if (!queriesConstant) sc.Flush(head.OutRows, s.Delta, s.Ld, s.Examples);   // per-token writes follow
        if (!queriesConstant) ScoresPerToken(head, s, groups, leader);
        if (dv > 0 && roleSums.IsEmpty) ValueSums(head, s, roles, group, groups);
        else if (dv > 0) GroupSums(roleSums, dv, roles, group, groups, sc.ValueSumOfGroup);
        bool keep = shortcut && share.Keep && queriesConstant;
        if (keep) sc.Shared.Begin(groups, group);
        Span<long> admitted = stackalloc long[2 * groups];
        Span<long> other = stackalloc long[2 * groups];
        Span<T> scores = stackalloc T[groups];
        Span<T> weights = stackalloc T[groups];
        Span<T> q = stackalloc T[2 * dk];
        Span<T> outputs = stackalloc T[dv];
        T sum = T.Zero;
        // The last role's query, pair counts and result: a role with the same ones (bit for bit) has the same output.
        bool held = false;
        double heldMargin = 0, heldLeak = 0;
        for (int qr = 0; qr < roles; qr++)
        {
            var (start, count) = s.Range(qr);
            if (count == 0) continue;
            PairCounts(head, s, qr, roles, group, admitted[..groups], other[..groups]);
            double m, l = 0;
            if (queriesConstant)
            {
                FixedOrder<T>.ProjectToken(head.QRows, s.H, s.Ld, start, q[..dk]);
                bool same = held && SameBits(q[..dk], q[dk..]) && admitted[..groups].SequenceEqual(admitted[groups..]) && other[..groups].SequenceEqual(other[groups..]);
                if (same) (m, l) = (heldMargin, heldLeak);
                else
                {
                    for (int g = 0; g < groups; g++) scores[g] = Score(q[..dk], sc.KeyOfRole.AsSpan(leader[g] * dk, dk));
                    (m, l) = QueryWeights(head, scores, size, admitted[..groups], other[..groups], weights, out sum, sc.Exp);
                    QueryOutputs(head, s, weights, sum, outputs);
                    (held, heldMargin, heldLeak) = (true, m, l);
                    q[..dk].CopyTo(q[dk..]); admitted[..groups].CopyTo(admitted[groups..]); other[..groups].CopyTo(other[groups..]);
                }
                if (keep) sc.Shared.Set(qr, weights, sum, same, m, l);
                for (int v = 0; v < dv; v++) sc.AddPerRole(head.OutRows[v], qr, outputs[v], s.Delta, s.Ld, s.Examples);
            }
            else if (head.Activation == Activation.Softmax) (m, l) = SoftmaxPerToken(head, s, start, count, groups, size, admitted[..groups], other[..groups]);
            else m = WeightedPerToken(head, s, start, count, groups, other[..groups]);
            if (!queriesConstant) sc.Varying(head.OutRows);
            margin = Math.Min(margin, m); leak = Math.Max(leak, l);
        }
        if (keep) sc.Shared.Done(sc.Epoch, share.Head);
        return true;
    }

    /// <summary>
    /// A head that takes an earlier head's per-role weights (<see cref="SharedWeights{T}"/>): its own value sums, then per role the
    /// outputs from those weights (each role whose weights repeat the role before it repeats its outputs, as the head that formed them did),
    /// with the margins and leakages formed for them.
    /// </summary>
    private static bool RunShared(CompiledModel<T>.Head head, in HeadStream<T> s, int roles, SharedWeights<T> shared, out double margin, out double leak)
    {
        margin = double.PositiveInfinity; leak = 0;
        var sc = s.Scratch;
        int dv = head.OutRows.Length;
        if (dv > 0) ValueSums(head, s, roles, shared.Group, shared.Groups);
        Span<T> outputs = stackalloc T[dv];
        for (int qr = 0; qr < roles; qr++)
        {
            if (!shared.Present[qr]) continue;
            if (!shared.SameAsBefore[qr]) QueryOutputs(head, s, shared.Of(qr), shared.Sum[qr], outputs);
            for (int v = 0; v < dv; v++) sc.AddPerRole(head.OutRows[v], qr, outputs[v], s.Delta, s.Ld, s.Examples);
            margin = Math.Min(margin, shared.Margin[qr]); leak = Math.Max(leak, shared.Leak[qr]);
        }
        sc.Counts.WeightsShared++;
        return true;
    }

    /// <summary>⟨q, k⟩ accumulated in dimension order: each product rounded, then added (as the dense kernel).</summary>
    private static T Score(ReadOnlySpan<T> q, ReadOnlySpan<T> k)
    {
        T acc = q[0] * k[0];
        for (int a = 1; a < q.Length; a++) acc += q[a] * k[a];
        return acc;
    }

    /// <summary>Scores of every token against each group's key into the scratch rows, vectorised over tokens.</summary>
    private static void ScoresPerToken(CompiledModel<T>.Head head, in HeadStream<T> s, int groups, ReadOnlySpan<int> leader)
    {
        int ld = s.Ld, dk = head.Dk;
        if (s.Scratch.Fused && !s.Windowed && dk > 0)
        {
            // Fused rows (docs/math.md §9.6): one loop over the tokens per group, the direct query rows read in place
            // (their sign moved onto the key: (±h)·k and h·(±k) are the same number), the others projected as below.
            var rows = head.QuerySources;
            rows.Project(s.H, ld, s.QT);
            Span<T> k = stackalloc T[dk];
            for (int g = 0; g < groups; g++)
            {
                var key = s.Scratch.KeyOfRole.AsSpan(leader[g] * dk, dk);
                for (int a = 0; a < dk; a++) k[a] = rows.Sign[a] * key[a];
                FusedRowKernels<T>.DotInOrder(s.Scratch.Scores.AsSpan(g * ld, ld), rows, s.H, s.QT, ld, 0, k);
            }
            s.Scratch.Counts.ScoresInOrder++;
            return;
        }
        ModelExecutor<T>.Project(head.QRows, s.H, ld, s.QT);
        for (int g = 0; g < groups; g++)
        {
            var score = s.Scratch.Scores.AsSpan(g * ld, ld);
            var key = s.Scratch.KeyOfRole.AsSpan(leader[g] * dk, dk);
            TensorPrimitives.Multiply(HeadStream<T>.Row(s.QT, 0, ld), key[0], score);
            for (int a = 1; a < dk; a++) TensorPrimitives.MultiplyAdd(HeadStream<T>.Row(s.QT, a, ld), key[a], score, score);
        }
    }

    /// <summary>k(r) for each role with tokens (from its first token), and groups of roles with bitwise-equal keys.</summary>
    private static int GroupRoles(CompiledModel<T>.Head head, in HeadStream<T> s, int roles, Span<int> group, Span<int> leader, Span<long> size)
    {
        int dk = head.Dk, groups = 0;
        var keys = s.Scratch.KeyOfRole;
        for (int r = 0; r < roles; r++)
        {
            var (start, count) = s.Range(r);
            group[r] = -1;
            if (count == 0) continue;
            var key = keys.AsSpan(r * dk, dk);
            FixedOrder<T>.ProjectToken(head.KRows, s.H, s.Ld, start, key);
            for (int g = 0; g < groups && group[r] < 0; g++)
                if (BitwiseEqual(key, keys.AsSpan(leader[g] * dk, dk))) group[r] = g;
            if (group[r] < 0) { leader[groups] = r; size[groups] = 0; group[r] = groups++; }
            size[group[r]] += count;
        }
        return groups;
    }

    private static bool BitwiseEqual(ReadOnlySpan<T> a, ReadOnlySpan<T> b)
    {
        for (int i = 0; i < a.Length; i++)
            if (!a[i].Equals(b[i]) || T.IsNegative(a[i]) != T.IsNegative(b[i])) return false;
        return true;
    }

    /// <summary>
    /// V_g[v] = Σ over the group's roles (in role order) of Σ_{j ∈ role} v_j[v] (fixed order). A value row that
    /// is w times one residual row is not projected: SimdSpan.WeightedSums gives SimdSpan.Dot(h, w…), the products
    /// w·h_j added in Sum's order, for all the value rows at once.
    /// </summary>
    private static void ValueSums(CompiledModel<T>.Head head, in HeadStream<T> s, int roles, ReadOnlySpan<int> group, int groups)
    {
        var sc = s.Scratch;
        var m = head.VRows;
        int dv = head.OutRows.Length, ld = s.Ld;
        bool allSingle = true;
        for (int v = 0; v < dv; v++) allSingle &= m.Start[v + 1] - m.Start[v] == 1;
        if (!allSingle)
        {
            s.Scratch.SummedOnly.WriteAmong(head.VCols, s.H, ld);   // projected from H: rows summed only written first
            ModelExecutor<T>.Project(m, s.H, ld, s.VT);
        }
        sc.ValueSumOfGroup.AsSpan(0, groups * dv).Clear();
        Span<int> offsets = stackalloc int[dv];
        Span<T> weights = stackalloc T[dv], sums = stackalloc T[dv];
        for (int r = 0; r < roles; r++)
        {
            if (group[r] < 0) continue;
            var (start, count) = s.Range(r);
            if (allSingle)
            {
                for (int v = 0; v < dv; v++) { offsets[v] = m.Cols[m.Start[v]] * ld + start; weights[v] = m.Values[m.Start[v]]; }
                if (!Ahead(m, sc, r, count, weights, sums))
                {
                    // Formed from H: rows summed only written first (they lack only their examples' values).
                    if (r == TokenRoles.Example) sc.SummedOnly.WriteAmong(head.VCols, s.H, ld);
                    // One token: SimdSpan.WeightedSums gives +0 + x·w (as Dot of one element), here without the call.
                    if (count == 1) for (int v = 0; v < dv; v++) sums[v] = T.Zero + s.H[offsets[v]] * weights[v];
                    else SimdSpan.WeightedSums<T>(s.H, offsets, weights, count, sums);
                }
            }
            else for (int v = 0; v < dv; v++) sums[v] = SimdSpan.Sum<T>(s.VT.AsSpan(v * ld + start, count));
            for (int v = 0; v < dv; v++) sc.ValueSumOfGroup[group[r] * dv + v] += sums[v];
        }
    }

    /// <summary>
    /// The examples' value sums, when the layer before formed every one of them ahead (the same SimdSpan.Dot, on the same
    /// elements: <see cref="StructuredScratch{T}.TryAhead"/>).
    /// </summary>
    private static bool Ahead(CompiledModel<T>.SparseRows m, StructuredScratch<T> sc, int role, int count, ReadOnlySpan<T> weights, Span<T> sums)
    {
        if (role != TokenRoles.Example || count < 2) return false;
        for (int v = 0; v < sums.Length; v++)
            if (!sc.TryAhead(m.Cols[m.Start[v]], weights[v], count, out sums[v])) return false;
        sc.Counts.SumsUsed += sums.Length;
        return true;
    }

    /// <summary>V_g[v] = Σ over the group's roles (in role order) of the role sums, from +0: the additions of <see cref="ValueSums"/>.</summary>
    private static void GroupSums(ReadOnlySpan<T> roleSums, int dv, int roles, ReadOnlySpan<int> group, int groups, T[] values)
    {
        values.AsSpan(0, groups * dv).Clear();
        for (int r = 0; r < roles; r++)
        {
            if (group[r] < 0) continue;
            for (int v = 0; v < dv; v++) values[group[r] * dv + v] += roleSums[r * dv + v];
        }
    }

    /// <summary>
    /// Whether value row v of the head is w times one residual row (then <see cref="ValueSums"/> sums w·h_j as
    /// SimdSpan.Dot does, else the projected row as SimdSpan.Sum does); the residual row and w.
    /// </summary>
    internal static bool SingleValueRows(CompiledModel<T>.Head head)
    {
        var m = head.VRows;
        for (int v = 0; v < head.OutRows.Length; v++) if (m.Start[v + 1] - m.Start[v] != 1) return false;
        return true;
    }

    /// <summary>Σ_{j ∈ role r} v_j[v] over the role's tokens [start, start + count), as <see cref="ValueSums"/> forms it.</summary>
    internal static T RoleSum(CompiledModel<T>.Head head, in HeadStream<T> s, bool single, int v, int start, int count)
    {
        var m = head.VRows;
        if (!single) return SimdSpan.Sum<T>(s.VT.AsSpan(v * s.Ld + start, count));
        Span<T> lanes = stackalloc T[SimdSpan.VirtualLanes<T>()];
        lanes.Clear();
        SimdSpan.AccumulateSum(lanes, s.H.AsSpan(m.Cols[m.Start[v]] * s.Ld + start, count), 0, count, m.Values[m.Start[v]], weighted: true);
        return SimdSpan.SumOfLanes<T>(lanes);
    }

    /// <summary>Per group, how many pairs of a query of role qr are admitted and how many are not.</summary>
    private static void PairCounts(CompiledModel<T>.Head head, in HeadStream<T> s, int qr, int roles, ReadOnlySpan<int> group, Span<long> admitted, Span<long> other)
    {
        admitted.Clear(); other.Clear();
        for (int kr = 0; kr < roles; kr++)
        {
            if (group[kr] < 0) continue;
            long count = s.Range(kr).Count;
            switch (head.Admission[qr * roles + kr])
            {
                case Admit.Yes: admitted[group[kr]] += count; break;
                case Admit.Self when kr == qr: admitted[group[kr]] += 1; other[group[kr]] += count - 1; break;
                default: other[group[kr]] += count; break;
            }
        }
    }

    /// <summary>Whether two vectors hold the same bits.</summary>
    private static bool SameBits(ReadOnlySpan<T> a, ReadOnlySpan<T> b)
    {
        for (int i = 0; i < a.Length; i++) if (StructuredScratch<T>.Bits(a[i]) != StructuredScratch<T>.Bits(b[i])) return false;
        return true;
    }

    /// <summary>
    /// One query's scores against the groups (every token of a role when the queries are role-constant): its weights
    /// (softmax: w_g = e^{s_g − max} and Σ_g |g|·w_g in <paramref name="sum"/>; ReLU: max(s_g, 0); linear: s_g) and its
    /// (margin, leakage). <see cref="QueryOutputs"/> forms the output from them.
    /// </summary>
    private static (double Margin, double Leak) QueryWeights(CompiledModel<T>.Head head, Span<T> scores, ReadOnlySpan<long> size,
        ReadOnlySpan<long> admitted, ReadOnlySpan<long> other, Span<T> weights, out T sum, ExpMemo<T> exp)
    {
        sum = T.Zero;
        if (head.Activation == Activation.Softmax) return SoftmaxWeights(scores, size, admitted, other, weights, out sum, exp);
        double margin = double.PositiveInfinity;
        bool relu = head.Activation == Activation.Relu;
        for (int g = 0; g < scores.Length; g++)
        {
            if (relu && other[g] > 0) margin = Math.Min(margin, -double.CreateChecked(scores[g]));
            weights[g] = relu ? T.Max(scores[g], T.Zero) : scores[g];
        }
        return (margin, 0);
    }

    /// <summary>
    /// The output of one query from its weights (<see cref="QueryWeights"/>), which the caller adds to the tokens of its role
    /// (kept per role until the commit, <see cref="StructuredScratch{T}.AddPerRole"/>): softmax Σ_g w_g V_g[v] / sum,
    /// else (1/N)·Σ_g w_g V_g[v].
    /// </summary>
    private static void QueryOutputs(CompiledModel<T>.Head head, in HeadStream<T> s, ReadOnlySpan<T> w, T sum, Span<T> outputs)
    {
        int dv = head.OutRows.Length, groups = w.Length;
        var values = s.Scratch.ValueSumOfGroup;
        if (head.Activation == Activation.Softmax) { SoftmaxOutputs(w, sum, values, outputs); return; }
        T invN = T.One / T.CreateChecked(s.N);
        for (int v = 0; v < dv; v++)
        {
            T acc = w[0] * values[v];
            for (int g = 1; g < groups; g++) acc += values[g * dv + v] * w[g];
            outputs[v] = acc * invN;
        }
    }

    /// <summary>
    /// Softmax of one query over the groups: outputs[v] = Σ_g w_g V_g[v] / Σ_g |g| w_g with w_g = e^{s_g − max};
    /// returns the dense (margin, leakage) for these scores and multiplicities.
    /// </summary>
    private static (double Margin, double Leak) SoftmaxOne(ReadOnlySpan<T> scores, ReadOnlySpan<long> size, ReadOnlySpan<long> admitted,
        ReadOnlySpan<long> other, ReadOnlySpan<T> values, Span<T> outputs, ExpMemo<T> exp)
    {
        Span<T> w = stackalloc T[scores.Length];
        var result = SoftmaxWeights(scores, size, admitted, other, w, out T sum, exp);
        SoftmaxOutputs(w, sum, values, outputs);
        return result;
    }

    /// <summary>w_g = e^{s_g − max} and their sum Σ_g |g|·w_g; returns the dense (margin, leakage) for these scores and multiplicities.</summary>
    private static (double Margin, double Leak) SoftmaxWeights(ReadOnlySpan<T> scores, ReadOnlySpan<long> size, ReadOnlySpan<long> admitted,
        ReadOnlySpan<long> other, Span<T> w, out T sum, ExpMemo<T> exp)
    {
        int groups = scores.Length;
        T max = T.NegativeInfinity, bestIn = T.NegativeInfinity, bestOut = T.NegativeInfinity;
        for (int g = 0; g < groups; g++)
        {
            max = T.Max(max, scores[g]);
            if (admitted[g] > 0) bestIn = T.Max(bestIn, scores[g]);
            if (other[g] > 0) bestOut = T.Max(bestOut, scores[g]);
        }
        sum = T.Zero;
        T outSum = T.Zero;
        for (int g = 0; g < groups; g++)
        {
            w[g] = exp.Of(scores[g] - max);   // SimdSpan.Exp, remembered
            sum += T.CreateChecked(size[g]) * w[g];
            if (other[g] > 0) outSum += T.CreateChecked(other[g]) * w[g];
        }
        double bi = double.CreateChecked(bestIn), bo = double.CreateChecked(bestOut);
        bool any = bi > double.NegativeInfinity;
        return (!any ? double.NegativeInfinity : bo == double.NegativeInfinity ? double.PositiveInfinity : bi - bo,
            any ? Math.Max(double.CreateChecked(outSum / sum), 0) : 1.0);
    }

    /// <summary>outputs[v] = (Σ_g w_g V_g[v]) / sum, the sum from +0 in group order.</summary>
    private static void SoftmaxOutputs(ReadOnlySpan<T> w, T sum, ReadOnlySpan<T> values, Span<T> outputs)
    {
        int groups = w.Length, dv = outputs.Length;
        for (int v = 0; v < dv; v++)
        {
            T acc = T.Zero;
            for (int g = 0; g < groups; g++) acc += w[g] * values[g * dv + v];
            outputs[v] = acc / sum;
        }
    }

    /// <summary>ReLU and linear heads on the tokens [start, start + count) of one role; returns the ReLU margin there.</summary>
    private static double WeightedPerToken(CompiledModel<T>.Head head, in HeadStream<T> s, int start, int count, int groups, ReadOnlySpan<long> other)
    {
        var sc = s.Scratch;
        int ld = s.Ld, dv = head.OutRows.Length;
        bool relu = head.Activation == Activation.Relu;
        double margin = double.PositiveInfinity;
        T invN = T.One / T.CreateChecked(s.N);
        for (int g = 0; g < groups; g++)
        {
            var score = sc.Scores.AsSpan(g * ld + start, count);
            // Margin: −max over non-admitted scores (the maximum is exact; NaN propagates).
            if (relu && other[g] > 0) margin = Math.Min(margin, -double.CreateChecked(SimdSpan.Max<T>(score)));
            if (relu) TensorPrimitives.Max(score, T.Zero, score);   // ReLU in place (NaN stays NaN)
        }
        var acc = sc.Sum.AsSpan(start, count);
        for (int v = 0; v < dv; v++)
        {
            for (int g = 0; g < groups; g++)
            {
                var score = sc.Scores.AsSpan(g * ld + start, count);
                T value = sc.ValueSumOfGroup[g * dv + v];
                if (g == 0) TensorPrimitives.Multiply(score, value, acc);
                else RowKernels<T>.AddScaled(acc, score, value);
            }
            var d = s.Delta.AsSpan(head.OutRows[v] * ld + start, count);
            TensorPrimitives.Multiply(acc, invN, acc);
            TensorPrimitives.Add(d, acc, d);
        }
        return margin;
    }

    /// <summary>A softmax head on the tokens [start, start + count) of one role, token by token; returns (margin, leakage) there.</summary>
    private static (double Margin, double Leak) SoftmaxPerToken(CompiledModel<T>.Head head, in HeadStream<T> s, int start, int count, int groups,
        ReadOnlySpan<long> size, ReadOnlySpan<long> admitted, ReadOnlySpan<long> other)
    {
        var sc = s.Scratch;
        int ld = s.Ld, dv = head.OutRows.Length;
        double margin = double.PositiveInfinity, leak = 0;
        Span<T> scores = stackalloc T[groups];
        Span<T> outputs = stackalloc T[dv];
        for (int i = start; i < start + count; i++)
        {
            for (int g = 0; g < groups; g++) scores[g] = sc.Scores[g * ld + i];
            var (m, l) = SoftmaxOne(scores, size, admitted, other, sc.ValueSumOfGroup, outputs, sc.Exp);
            for (int v = 0; v < dv; v++) s.Delta[head.OutRows[v] * ld + i] += outputs[v];
            margin = Math.Min(margin, m); leak = Math.Max(leak, l);
        }
        return (margin, leak);
    }
}
