using System.Numerics;
using MorIcl.Construction.Model;

namespace MorIcl.Runtime.Structured;

/// <summary>
/// The per-head dispatch of the structured path (docs/math.md §9): each head of the plan lowered once, at
/// model-compile time, to its kernel in precision T. A head whose plan is Dense, or whose exactness
/// argument does not hold in T (<see cref="HeadPlan.ExactIn"/>), is not taken; <see cref="TryRun"/>
/// returns false for it, and for a prompt on which the kernel's condition fails, so the caller runs it
/// densely. Kernels write only when they succeed.
/// </summary>
internal sealed class StructuredExecutor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ExecutionPlan _plan;
    private readonly AdmittedKeysOnlyKernel<T>.Compiled?[][] _admittedOnly;
    private readonly bool[][] _taken;
    private readonly LoweredMlp<T>?[] _mlps;
    /// <summary>Per MLP layer: each output row and the residual rows its units read.</summary>
    private readonly (int Row, int[] Inputs)[][] _mlpInputs;
    private readonly int _roles;
    private readonly int[] _nextWrite;
    /// <summary>Per layer and head: the RoleConstantKeys heads that share their per-role weights (<see cref="SharedWeights{T}"/>).</summary>
    private readonly RoleConstantKeysKernel<T>.Share[][] _share;

    public StructuredExecutor(ExecutionPlan plan, CompiledModel<T> model)
    {
        _plan = plan;
        _roles = model.Roles;
        _nextWrite = NextWrites(model);
        int bits = typeof(T) == typeof(float) ? 24 : 53;
        _taken = new bool[plan.Heads.Count][];
        _admittedOnly = new AdmittedKeysOnlyKernel<T>.Compiled?[plan.Heads.Count][];
        _mlps = model.Layers.Select(layer => layer is CompiledModel<T>.Mlp m ? LoweredMlp<T>.TryLower(m) : null).ToArray();
        _mlpInputs = model.Layers.Select(layer => layer is CompiledModel<T>.Mlp m ? MlpInputs(m) : Array.Empty<(int, int[])>()).ToArray();
        for (int l = 0; l < plan.Heads.Count; l++)
        {
            var heads = plan.Heads[l];
            _taken[l] = heads.Select(h => h.Pattern != HeadPattern.Dense && h.ExactIn(bits)).ToArray();
            _admittedOnly[l] = new AdmittedKeysOnlyKernel<T>.Compiled?[heads.Length];
            if (model.Layers[l] is not CompiledModel<T>.Attention a) continue;
            for (int h = 0; h < heads.Length; h++)
                if (_taken[l][h] && heads[h].Pattern == HeadPattern.AdmittedKeysOnly)
                {
                    _admittedOnly[l][h] = AdmittedKeysOnlyKernel<T>.Compile(heads[h], a.Heads[h], plan.Rows);
                    _admittedOnly[l][h]!.PairLeader = heads[h].PairedWith > h && _taken[l][heads[h].PairedWith];
                }
            for (int h = 0; h < heads.Length; h++)
                if (_admittedOnly[l][h] is { } c && (heads[h].PairedWith < 0 || c.PairLeader)) c.CommitsExamples = CommitsExamples(a, h, heads[h].PairedWith);
        }
        for (int l = 0; l + 1 < plan.Heads.Count; l++)
            if (model.Layers[l] is CompiledModel<T>.Attention a)
                for (int h = 0; h < a.Heads.Length; h++)
                    if (_admittedOnly[l][h] is { } k)
                    {
                        k.SumWeight = SumsAhead(model, plan, l + 1, a.Heads[h].OutRows, k.CommitsExamples);
                        k.SummedOnly = SummedOnly(model, plan, l, a.Heads[h], k);
                    }
        _share = model.Layers.Select((layer, l) => layer is CompiledModel<T>.Attention a ? Shares(a, plan.Heads[l], _taken[l]) : Array.Empty<RoleConstantKeysKernel<T>.Share>()).ToArray();
        Phases = BlockSchedule.Build(model, plan, Takes, AdmittedOnly);
        _commitsOnConstant = new bool[plan.Heads.Count][];
        for (int l = 0; l < plan.Heads.Count; l++)
        {
            _commitsOnConstant[l] = new bool[model.Source.Dimension];
            if (model.Layers[l] is not CompiledModel<T>.Attention a) continue;
            for (int h = 0; h < a.Heads.Length; h++)
                if (_admittedOnly[l][h] is { } k)
                    for (int v = 0; v < k.CommitsExamples.Length; v++)
                        if (k.CommitsExamples[v]) _commitsOnConstant[l][a.Heads[h].OutRows[v]] = true;
        }
        var reads = Enumerable.Range(0, model.Layers.Length).Select(l => PerRoleReads(model, l)).ToArray();
        // As arrays: a row the layer does not touch needs nothing (an empty list, the same verdict as absent).
        _perRole = reads.Select(verdict =>
        {
            var need = Enumerable.Repeat(Array.Empty<int>(), model.Source.Dimension).ToArray<int[]?>();
            foreach (var (c, rows) in verdict) need[c] = rows;
            return need;
        }).ToArray();
        _staleChecks = reads.Select((verdict, l) => verdict.Keys.Order()
            .Where(c => verdict[c] is not { Length: 0 } && !_commitsOnConstant[l][c])
            .GroupBy(c => verdict[c] is { } need ? string.Join(",", need) : "always")
            .Select(g => (verdict[g.First()], g.ToArray())).ToArray()).ToArray();
    }

    /// <summary>
    /// Per layer and residual row the layer touches: null when the layer may read or write the row token by token, else
    /// the rows that must be known role-constant for the layer to read it at each role's first token only (RoleConstantKeys
    /// keys; queries of RoleConstantKeys and AdmittedKeysOnly content that are one vector per role; per-role updates).
    /// Rows the layer does not touch need nothing (an empty array). Indexed [layer][row].
    /// </summary>
    private readonly int[]?[][] _perRole;

    /// <summary>
    /// Per layer: the rows that, kept per role (<see cref="StructuredScratch{T}.Stale"/>), may have to be filled before it runs,
    /// grouped by what <see cref="PerRoleOnly"/> needs of them: null (always filled), or rows that must all be known
    /// role-constant (one check per group: filling a row changes no row's role-constancy). The rows it does not touch, reads
    /// at each role's first token without condition, or commits on their constant (<see cref="CommitsOnConstant"/>) are
    /// never filled there and are absent.
    /// </summary>
    private readonly (int[]? Need, int[] Rows)[][] _staleChecks;

    private Dictionary<int, int[]?> PerRoleReads(CompiledModel<T> model, int l)
    {
        var verdict = new Dictionary<int, int[]?>();
        void Add(int c, int[]? need)
        {
            if (verdict.TryGetValue(c, out var old)) verdict[c] = old is null || need is null ? null : old.Union(need).ToArray();
            else verdict[c] = need;
        }
        switch (model.Layers[l])
        {
            case CompiledModel<T>.Mlp m:
                var source = (MlpLayer)model.Source.Layers[l];
                var rows = source.InputRanges.Length > 0 ? Enumerable.Range(0, model.Source.Dimension) : m.InCols.Concat(m.WrittenRows);
                foreach (int c in rows) Add(c, null);
                break;
            case CompiledModel<T>.Attention a:
                for (int h = 0; h < a.Heads.Length; h++)
                {
                    var head = a.Heads[h];
                    var plan = _plan.Heads[l][h];
                    var compiled = _admittedOnly[l][h];
                    bool taken = _taken[l][h];
                    foreach (int c in head.VCols) Add(c, null);
                    foreach (int c in head.OutRows) Add(c, taken && plan.Pattern == HeadPattern.RoleConstantKeys ? head.QCols : null);
                    foreach (int c in head.QCols)
                        Add(c, !taken ? null : plan.Pattern == HeadPattern.RoleConstantKeys ? head.QCols
                            : compiled is not null && compiled.QContent.Cols.Contains(c) ? compiled.QContent.Cols : null);
                    foreach (int c in head.KCols)
                        Add(c, !taken ? null : plan.Pattern == HeadPattern.RoleConstantKeys ? Array.Empty<int>()
                            : compiled is not null && compiled.KContent.Cols.Contains(c) ? compiled.KContent.Cols : null);
                }
                break;
        }
        return verdict;
    }

    /// <summary>Whether layer l reads and writes row c at each role's first token only, given what is known of the rows now.</summary>
    public bool PerRoleOnly(int layer, int c, StructuredScratch<T> sc)
    {
        return KnownConstant(_perRole[layer][c], sc);
    }

    /// <summary>The rows a stale row of layer l is checked on, by condition (<see cref="_staleChecks"/>): fill them when <see cref="KnownConstant"/> fails.</summary>
    public ReadOnlySpan<(int[]? Need, int[] Rows)> StaleChecks(int layer) => _staleChecks[layer];

    /// <summary>Whether every row of <paramref name="need"/> is known role-constant now (never for null).</summary>
    public static bool KnownConstant(int[]? need, StructuredScratch<T> sc)
    {
        if (need is null) return false;
        foreach (int x in need) if (!sc.Known[x] || !sc.Constant[x]) return false;
        return true;
    }

    /// <summary>
    /// Per layer and residual row: a structured head of the layer commits the row's examples itself, and no head of the
    /// layer reads the row (<see cref="AdmittedKeysOnlyKernel{T}.Compiled.CommitsExamples"/>). A row kept per role need
    /// not be filled before such a layer: the head reads it as its constant or fills it before it writes
    /// (<see cref="StructuredScratch{T}.Fill"/>), and so do the dense path and the commit.
    /// </summary>
    private readonly bool[][] _commitsOnConstant;

    /// <summary>Whether row c may stay kept per role into layer l (see <see cref="_commitsOnConstant"/>).</summary>
    public bool CommitsOnConstant(int layer, int c) => _commitsOnConstant[layer][c];

    public ExecutionPlan Plan => _plan;

    /// <summary>The block schedule in this precision (docs/math.md §9.6).</summary>
    public Phase[] Phases { get; }

    /// <summary>Head h of layer l's AdmittedKeysOnly kernel (null when it has none in this precision).</summary>
    public AdmittedKeysOnlyKernel<T>.Compiled? AdmittedOnly(int layer, int head) => _admittedOnly[layer][head];

    /// <summary>
    /// Per output row a head commits (<paramref name="commits"/>): the weight with which layer <paramref name="next"/>'s taken
    /// RoleConstantKeys heads sum it as a value row of one term (ValueSums), when they all use one weight (bit for bit, as the
    /// consumer matches it); else null.
    /// </summary>
    private T?[] SumsAhead(CompiledModel<T> model, ExecutionPlan plan, int next, int[] outRows, bool[] commits)
    {
        var sums = new T?[outRows.Length];
        if (model.Layers[next] is not CompiledModel<T>.Attention a) return sums;
        for (int v = 0; v < commits.Length; v++)
        {
            if (!commits[v]) continue;
            var weights = new List<T>();
            for (int h = 0; h < a.Heads.Length; h++)
            {
                if (!_taken[next][h] || plan.Heads[next][h].Pattern != HeadPattern.RoleConstantKeys) continue;
                var m = a.Heads[h].VRows;
                for (int u = 0; u < m.Rows; u++)
                    if (m.Start[u + 1] - m.Start[u] == 1 && m.Cols[m.Start[u]] == outRows[v]) weights.Add(m.Values[m.Start[u]]);
            }
            if (weights.Count > 0 && weights.All(x => StructuredScratch<T>.Bits(x) == StructuredScratch<T>.Bits(weights[0]))) sums[v] = weights[0];
        }
        return sums;
    }

    /// <summary>
    /// Per value row of head <paramref name="head"/> of layer l (docs/math.md §9.6, rows summed only): whether its output row may
    /// be left unwritten after its sum is formed. The row is summed ahead; its value row is a row of H that no layer from l on writes
    /// (so it still holds the same numbers when the row is written on demand); in layer l + 1 no head reads the row except as
    /// a one-term value row of a taken RoleConstantKeys head whose value rows are all one-term (the consumers of the sums),
    /// and none writes it; layer l + 2 is a lowered MLP that resets it and reads it for nothing else. Whatever the prompt
    /// does at run time (a head run densely, a sum not taken, a row not finite), the executor writes the row before the read.
    /// </summary>
    private bool[] SummedOnly(CompiledModel<T> model, ExecutionPlan plan, int l, CompiledModel<T>.Head head, AdmittedKeysOnlyKernel<T>.Compiled k)
    {
        var only = new bool[head.OutRows.Length];
        if (l + 2 >= model.Layers.Length || model.Layers[l + 1] is not CompiledModel<T>.Attention next || _mlps[l + 2] is not { } reset) return only;
        for (int v = 0; v < only.Length; v++)
        {
            int row = head.OutRows[v], col = k.Values.Column[v];
            if (k.SumWeight.Length <= v || k.SumWeight[v] is null || col < 0 || !reset.ReadsOnlyForReset(row)) continue;
            // The value row keeps its numbers from here to the end of the pass: no later layer writes it.
            if (_nextWrite[l * model.Source.Dimension + col] < model.Layers.Length) continue;
            bool ok = true;
            for (int h = 0; h < next.Heads.Length && ok; h++)
            {
                var o = next.Heads[h];
                if (o.QCols.Contains(row) || o.KCols.Contains(row) || o.OutRows.Contains(row)) ok = false;
                else if (o.VCols.Contains(row))
                    ok = _taken[l + 1][h] && plan.Heads[l + 1][h].Pattern == HeadPattern.RoleConstantKeys && RoleConstantKeysKernel<T>.SingleValueRows(o);
            }
            only[v] = ok;
        }
        return only;
    }

    /// <summary>
    /// Per head of an attention layer: for a taken RoleConstantKeys head, the first earlier one with the same Q, K (bit for bit),
    /// admission, activation and key kind, whose per-role weights it may take; and whether a later head takes its own.
    /// </summary>
    private static RoleConstantKeysKernel<T>.Share[] Shares(CompiledModel<T>.Attention layer, HeadPlan[] plans, bool[] taken)
    {
        int H = layer.Heads.Length;
        var with = new int[H];
        var keep = new bool[H];
        for (int h = 0; h < H; h++)
        {
            with[h] = -1;
            if (!taken[h] || plans[h].Pattern != HeadPattern.RoleConstantKeys) continue;
            for (int e = 0; e < h && with[h] < 0; e++)
                if (taken[e] && plans[e].Pattern == HeadPattern.RoleConstantKeys && with[e] < 0 && SameWeights(layer.Heads[e], plans[e], layer.Heads[h], plans[h]))
                    with[h] = e;
            if (with[h] >= 0) keep[with[h]] = true;
        }
        return Enumerable.Range(0, H).Select(h => new RoleConstantKeysKernel<T>.Share(h, with[h], keep[h])).ToArray();
    }

    /// <summary>
    /// Whether two heads form the same scores and weights on every prompt: the same Q and K rows (bit for bit), admission,
    /// activation and key kind, and the same columns of the model (QCols, KCols), which the per-prompt role-constant checks
    /// read and the head that takes the weights skips: in float a weight that rounds to 0 leaves the rows equal and the
    /// columns not. The key kind decides whether the keys are checked on each prompt at all.
    /// </summary>
    internal static bool SameWeights(CompiledModel<T>.Head a, HeadPlan pa, CompiledModel<T>.Head b, HeadPlan pb) =>
        a.Activation == b.Activation && a.Dk == b.Dk && pa.KeysAreEmbeddingConstants == pb.KeysAreEmbeddingConstants
        && a.Admission.AsSpan().SequenceEqual(b.Admission) && a.QCols.AsSpan().SequenceEqual(b.QCols) && a.KCols.AsSpan().SequenceEqual(b.KCols)
        && SameRows(a.QRows, b.QRows) && SameRows(a.KRows, b.KRows);

    private static bool SameRows(CompiledModel<T>.SparseRows a, CompiledModel<T>.SparseRows b)
    {
        if (!a.Start.AsSpan().SequenceEqual(b.Start) || !a.Cols.AsSpan().SequenceEqual(b.Cols)) return false;
        for (int e = 0; e < a.Values.Length; e++) if (StructuredScratch<T>.Bits(a.Values[e]) != StructuredScratch<T>.Bits(b.Values[e])) return false;
        return true;
    }

    /// <summary>Per value row of head h: whether no other head of the layer but its pair partner writes the row and no head reads it.</summary>
    private static bool[] CommitsExamples(CompiledModel<T>.Attention layer, int h, int partner)
    {
        var read = layer.Heads.SelectMany(x => x.QCols.Concat(x.KCols).Concat(x.VCols)).ToHashSet();
        return layer.Heads[h].OutRows.Select(row => !read.Contains(row)
            && Enumerable.Range(0, layer.Heads.Length).All(o => o == h || o == partner || !layer.Heads[o].OutRows.Contains(row))).ToArray();
    }

    private static (int Row, int[] Inputs)[] MlpInputs(CompiledModel<T>.Mlp m) =>
        Enumerable.Range(0, m.OutRows.Length).Select(r =>
            (m.OutRows[r], Enumerable.Range(m.W2Rows.Start[r], m.W2Rows.Start[r + 1] - m.W2Rows.Start[r])
                .SelectMany(e => { int u = m.W2Rows.Cols[e]; return m.W1Rows.Cols[m.W1Rows.Start[u]..m.W1Rows.Start[u + 1]]; })
                .Distinct().ToArray())).ToArray();

    /// <summary>MLP layer l lowered (its linear pairs as linear units), or null when it runs as compiled.</summary>
    public LoweredMlp<T>? Mlp(int layer) => _mlps[layer];

    /// <summary>The earlier head of layer l whose per-role weights head h takes (<see cref="SharedWeights{T}"/>); −1 when none.</summary>
    public int SharedWith(int layer, int head) => head < _share[layer].Length ? _share[layer][head].With : -1;

    /// <summary>Whether head h of layer l has a structured kernel in this precision.</summary>
    public bool Takes(int layer, int head) => _taken[layer][head];

    /// <summary>Runs head h of layer l structurally; false (nothing written) when it must run densely on this prompt.</summary>
    public bool TryRun(int layer, int index, CompiledModel<T>.Head head, in HeadStream<T> s, out double margin, out double leak)
    {
        margin = double.PositiveInfinity; leak = 0;
        var sc = s.Scratch;
        if (!TryRunCore(layer, index, head, s, out margin, out leak)) { sc.Varying(head.OutRows); return false; }
        return true;
    }

    private bool TryRunCore(int layer, int index, CompiledModel<T>.Head head, in HeadStream<T> s, out double margin, out double leak)
    {
        margin = double.PositiveInfinity; leak = 0;
        if (!_taken[layer][index]) return false;
        var plan = _plan.Heads[layer][index];
        if (plan.Pattern == HeadPattern.RoleConstantKeys && s.Scratch.RefuseRoleConstantKeys) return false;
        var sc = s.Scratch;
        if (plan.PairedWith >= 0 && plan.PairedWith < index)
        {
            // The second head of a ReLU pair: done by the first, when the first ran structurally on this layer.
            if (sc.PairEpoch != sc.Epoch || sc.PairHead != plan.PairedWith) return false;
            margin = sc.PairMargin;
            return true;
        }
        bool ok = plan.Pattern switch
        {
            HeadPattern.RoleConstantKeys => RoleConstantKeysKernel<T>.Run(head, plan, s, _roles, default, _share[layer][index], out margin, out leak),
            HeadPattern.AdmittedKeysOnly => Flushed(head, s) && AdmittedKeysOnlyKernel<T>.Run(head, plan, _admittedOnly[layer][index]!, s, _plan.MaxPosition, out margin, out leak),
            _ => false,
        };
        if (ok && plan.PairedWith > index && _admittedOnly[layer][index] is { PairLeader: true }) { sc.PairEpoch = sc.Epoch; sc.PairHead = index; sc.PairMargin = margin; }
        return ok;
    }

    /// <summary>Per-role updates of the head's output rows moved into Delta, before a kernel that writes them per token.</summary>
    private static bool Flushed(CompiledModel<T>.Head head, in HeadStream<T> s)
    {
        s.Scratch.Flush(head.OutRows, s.Delta, s.Ld, s.Examples);
        return true;
    }

    /// <summary>
    /// The role-constancy of MLP layer l's updates: an output row's update is role-constant when every row its
    /// units read is known to be role-constant (a token-wise function of role-constant rows); bias rows always are.
    /// </summary>
    public void MlpUpdates(int layer, StructuredScratch<T> scratch)
    {
        foreach (var (row, inputs) in _mlpInputs[layer])
            foreach (int c in inputs)
                if (!scratch.Known[c] || !scratch.Constant[c]) { scratch.DeltaConstant[row] = false; break; }
    }

    /// <summary>Scratch for prompts of padded length ld.</summary>
    public StructuredScratch<T> Scratch(int ld, CompiledModel<T> model) =>
        new(ld, _roles, model.MaxDk, model.MaxDv, model.Source.Dimension) { NextWrite = _nextWrite };

    /// <summary>Per layer l and row c, at [l·D + c]: the first layer from l on whose <see cref="CompiledModel{T}.Layer.WrittenRows"/> hold c (else the layer count).</summary>
    internal static int[] NextWrites(CompiledModel<T> model)
    {
        int L = model.Layers.Length, D = model.Source.Dimension;
        var next = new int[L * D];
        for (int l = L - 1; l >= 0; l--)
        {
            for (int c = 0; c < D; c++) next[l * D + c] = l + 1 < L ? next[(l + 1) * D + c] : L;
            foreach (int c in model.Layers[l].WrittenRows) next[l * D + c] = l;
        }
        return next;
    }
}
