using System.Numerics;
using MorIcl.Construction.Model;
using MorIcl.Numerics.Simd;
using MorIcl.Runtime.Kernels;
using MorIcl.Runtime.Structured;

namespace MorIcl.Runtime;

/// <summary>
/// The block schedule's execution (docs/math.md §9.6): a <see cref="Phase"/> runs block by block over the tokens —
/// each block of examples, then the query and auxiliary tokens with the padding, through every layer of the phase —
/// with each reduction's value sums accumulated in the blocks in the order <see cref="SimdSpan.Sum{T}"/> uses, and
/// each layer's bookkeeping, bounds, commits of the reductions and certificate done before or after the blocks, in
/// layer order. Every token gets the operations of the layer-by-layer pass in the same order, so the bits are the same.
/// </summary>
public sealed partial class ModelExecutor<T>
{
    /// <summary>Examples per block (a multiple of 16): the rows a phase touches for one block stay in cache. Tests set it small.</summary>
    internal int BlockTokens
    {
        get => _blockTokens;
        init => _blockTokens = value > 0 && value % 16 == 0 ? value : throw new ArgumentOutOfRangeException(nameof(BlockTokens), "a positive multiple of 16");
    }
    private readonly int _blockTokens = 1024;

    /// <summary>
    /// Whether passes without a trace or rounding analysis run the block schedule; the default (false) runs layer by
    /// layer. The bits are the same either way; on the 2-core AVX-512 machine the schedule was not faster (README,
    /// "Structured execution"): the passes cost their instructions more than their memory traffic.
    /// </summary>
    public bool FuseBlocks { get; init; }

    /// <summary>The block schedule's phases as (first layer, layer count); empty for the dense executor.</summary>
    public IReadOnlyList<(int First, int Count)> Phases =>
        _structured?.Phases.Select(p => (p.First, p.Count)).ToArray() ?? Array.Empty<(int, int)>();

    private enum PhaseOutcome { Done, LayerByLayer, Failed }

    /// <summary>Every layer, by phases where the schedule has them; false when a phase's bound failed after its blocks.</summary>
    private bool RunLayers(Workspace ws, int N, int ld, int D, int n, int[] roles, LayerCertificate[] layers, bool fuse)
    {
        var phases = fuse && _structured is not null ? _structured.Phases : Array.Empty<Phase>();
        int next = 0;
        for (int l = 0; l < _model.Layers.Length; l++)
        {
            if (next < phases.Length && phases[next].First == l)
            {
                var phase = phases[next++];
                var outcome = RunPhase(phase, ws, N, ld, n, layers);
                if (outcome == PhaseOutcome.Failed) return false;
                if (outcome == PhaseOutcome.Done) { l += phase.Count - 1; continue; }
            }
            layers[l] = RunLayer(l, ws, N, ld, D, n, roles);
        }
        return true;
    }

    /// <summary>Per workspace: the state of each head across the blocks, and each layer's finiteness per written row.</summary>
    private sealed class PhaseScratch
    {
        public readonly FusedHead?[][] Heads;
        public readonly bool[][] Finite;
        public readonly bool[] FiniteAtStart;
        /// <summary>Per layer: its heads' smallest margin, largest leakage, and whether one is a softmax head.</summary>
        public readonly double[] Margin, Leak;
        public readonly bool[] Softmax;

        public PhaseScratch(CompiledModel<T> model, int roles, int lanes)
        {
            Heads = model.Layers.Select(l => l is CompiledModel<T>.Attention a
                ? a.Heads.Select(h => new FusedHead(roles, model.MaxDk, h.OutRows.Length, lanes)).ToArray<FusedHead?>() : Array.Empty<FusedHead?>()).ToArray();
            Finite = model.Layers.Select(_ => new bool[model.Source.Dimension]).ToArray();
            FiniteAtStart = new bool[model.Source.Dimension];
            Margin = new double[model.Layers.Length]; Leak = new double[model.Layers.Length]; Softmax = new bool[model.Layers.Length];
        }
    }

    /// <summary>One head's state across the blocks: its operands and per-role vectors and maxima, or its reduction's sums.</summary>
    private sealed class FusedHead
    {
        public AdmittedKeysOnlyKernel<T>.Operands Operands;
        public readonly bool[] Known;
        public readonly T[] QueryOfRole, KeyOfRole, Lanes, RoleSums;
        public readonly double[] MaxQ, MaxK;
        public double Margin;

        public FusedHead(int roles, int dk, int dv, int lanes)
        {
            Known = new bool[2 * roles];
            QueryOfRole = new T[roles * dk]; KeyOfRole = new T[roles * dk]; MaxQ = new double[roles * dk]; MaxK = new double[roles * dk];
            Lanes = new T[dv * lanes]; RoleSums = new T[roles * dv];
        }

        public void Save(StructuredScratch<T> sc, bool vectors)
        {
            if (vectors) { sc.QueryOfRole.AsSpan(0, QueryOfRole.Length).CopyTo(QueryOfRole); sc.KeyOfRole.AsSpan(0, KeyOfRole.Length).CopyTo(KeyOfRole); }
            sc.MaxQ.AsSpan(0, MaxQ.Length).CopyTo(MaxQ); sc.MaxK.AsSpan(0, MaxK.Length).CopyTo(MaxK);
        }

        public void Restore(StructuredScratch<T> sc)
        {
            QueryOfRole.CopyTo(sc.QueryOfRole, 0); KeyOfRole.CopyTo(sc.KeyOfRole, 0);
            MaxQ.CopyTo(sc.MaxQ, 0); MaxK.CopyTo(sc.MaxK, 0);
        }
    }

    /// <summary>Whether head h of a per-token layer is the second head of a ReLU pair (its first head computes both).</summary>
    private bool Follows(int layer, int head) => Plan.Heads[layer][head].PairedWith is >= 0 and var p && p < head;

    private PhaseOutcome RunPhase(Phase phase, Workspace ws, int N, int ld, int n, LayerCertificate[] layers)
    {
        if (phase.HasPerToken && n > Plan.MaxPosition) return PhaseOutcome.LayerByLayer;   // the heads run densely there
        var sc = ws.Structured!;
        FillReplicated(ws, n, ld);   // the phase's kernels read whole rows
        var ps = ws.Phases ??= new PhaseScratch(_model, _model.Roles, SimdSpan.VirtualLanes<T>());
        var full = new HeadStream<T>(ws.H, ws.Delta, ws.QT, ws.KT, ws.VT, N, n, ld, sc);
        Array.Copy(ws.RowFinite, ps.FiniteAtStart, ps.FiniteAtStart.Length);
        Prologue(phase, ps, sc, full);
        // Blocks of examples (a short remainder joins the last block, so the reductions' tail chunk lies in it), then the rest.
        int lanes = SimdSpan.VirtualLanes<T>();
        for (int lo = 0; lo < n;)
        {
            int hi = n - lo < BlockTokens + lanes ? n : lo + BlockTokens;
            RunBlock(phase, ps, ws, full, lo, hi, hi, ld, n);
            lo = hi;
        }
        RunBlock(phase, ps, ws, full, n, N, ld, ld, n);
        if (!Epilogue(phase, ps, ws, full, N, ld, n)) return PhaseOutcome.Failed;
        Replay(phase, ps, ws, layers);
        return PhaseOutcome.Done;
    }

    /// <summary>In layer order, what the layers do before touching tokens: the structured bookkeeping, and the per-token heads' operands.</summary>
    private void Prologue(Phase phase, PhaseScratch ps, StructuredScratch<T> sc, in HeadStream<T> full)
    {
        for (int k = 0; k < phase.Count; k++)
        {
            int l = phase.First + k;
            var layer = _model.Layers[l];
            Array.Fill(ps.Finite[l], true);
            if (phase.Roles[k] == PhaseRole.Reduction) continue;    // its bookkeeping comes with its commit, after the blocks
            sc.BeginLayer(layer.WrittenRows);
            if (phase.Roles[k] == PhaseRole.Mlp) _structured!.MlpUpdates(l, sc);
            else
            {
                var a = (CompiledModel<T>.Attention)layer;
                for (int h = 0; h < a.Heads.Length; h++)
                {
                    if (Follows(l, h)) continue;
                    var fh = ps.Heads[l][h]!;
                    AdmittedKeysOnlyKernel<T>.Prepare(_structured!.AdmittedOnly(l, h)!, full, Plan.MaxPosition, _model.Roles, out fh.Operands, fh.Known);
                    fh.Save(sc, vectors: true);
                    sc.Varying(a.Heads[h].OutRows);
                }
            }
            sc.EndLayer(layer.WrittenRows);
        }
    }

    /// <summary>
    /// The tokens [lo, hi) through every layer of the phase; per-token work and commits extend to <paramref name="commitTo"/>
    /// (the padding, with the last block, as the layer-by-layer commit clears it).
    /// </summary>
    private void RunBlock(Phase phase, PhaseScratch ps, Workspace ws, in HeadStream<T> full, int lo, int hi, int commitTo, int ld, int n)
    {
        var sc = ws.Structured!;
        var s = full.Window(lo, hi);
        int N = full.N;
        for (int k = 0; k < phase.Count; k++)
        {
            int l = phase.First + k;
            var layer = _model.Layers[l];
            var finite = ps.Finite[l];
            switch (phase.Roles[k])
            {
                case PhaseRole.Mlp:
                    var mlp = (CompiledModel<T>.Mlp)layer;
                    if (_structured!.Mlp(l) is { } lowered) lowered.RunWindow(ws.H, ws.Delta, ld, ws.Z, mlp.WrittenRows, finite, lo, commitTo - lo);
                    else
                    {
                        for (int j0 = lo; j0 < commitTo; j0 += MlpBlock) MlpBlockOutputs(mlp, ws, ld, j0, Math.Min(MlpBlock, commitTo - j0));
                        CommitWindow(ws, layer.WrittenRows, finite, lo, commitTo, ld);
                    }
                    if (commitTo == ld) foreach (int c in layer.WrittenRows) ws.H.AsSpan(c * ld + N, ld - N).Clear();
                    break;
                case PhaseRole.PerToken:
                    var a = (CompiledModel<T>.Attention)layer;
                    for (int h = 0; h < a.Heads.Length; h++)
                    {
                        if (Follows(l, h)) continue;
                        var fh = ps.Heads[l][h]!;
                        fh.Restore(sc);
                        AdmittedKeysOnlyKernel<T>.RunWindow(a.Heads[h], Plan.Heads[l][h], _structured!.AdmittedOnly(l, h)!, s, fh.Operands, fh.Known);
                        fh.Save(sc, vectors: false);
                    }
                    foreach (int c in layer.WrittenRows)
                    {
                        if (sc.Through[c]) { finite[c] &= sc.ThroughFinite[c]; sc.Through[c] = false; continue; }   // committed by its head
                        finite[c] &= RowKernels<T>.AddAndClear(ws.H.AsSpan(c * ld + lo, commitTo - lo), ws.Delta.AsSpan(c * ld + lo, commitTo - lo));
                    }
                    if (commitTo == ld) foreach (int c in layer.WrittenRows) ws.H.AsSpan(c * ld + N, ld - N).Clear();
                    break;
                case PhaseRole.Reduction:
                    ReductionBlock((CompiledModel<T>.Attention)layer, ps.Heads[l], s, lo, hi, n);
                    break;
            }
        }
    }

    /// <summary>H += Delta, Delta = 0 on the written rows over [lo, hi), finiteness and-ed per row.</summary>
    private static void CommitWindow(Workspace ws, int[] rows, bool[] finite, int lo, int hi, int ld)
    {
        foreach (int c in rows) finite[c] &= RowKernels<T>.AddAndClear(ws.H.AsSpan(c * ld + lo, hi - lo), ws.Delta.AsSpan(c * ld + lo, hi - lo));
    }

    /// <summary>
    /// A reduction's value sums over the block: the examples' into the lanes of <see cref="SimdSpan.AccumulateSum{T}"/>
    /// (their sum after the last block has the bits of one SimdSpan.Sum or Dot over all examples); each other role's whole.
    /// </summary>
    private void ReductionBlock(CompiledModel<T>.Attention layer, FusedHead?[] heads, in HeadStream<T> s, int lo, int hi, int n)
    {
        int L = SimdSpan.VirtualLanes<T>();
        for (int h = 0; h < layer.Heads.Length; h++)
        {
            var head = layer.Heads[h];
            var fh = heads[h]!;
            int dv = head.OutRows.Length;
            if (dv == 0) continue;
            bool single = RoleConstantKeysKernel<T>.SingleValueRows(head);
            if (!single) Project(head.VRows, s.H, s.Ld, s.VT, lo, hi - lo);
            if (lo < n)
            {
                if (lo == 0) fh.Lanes.AsSpan().Clear();
                var m = head.VRows;
                for (int v = 0; v < dv; v++)
                {
                    var lanes = fh.Lanes.AsSpan(v * L, L);
                    if (single) SimdSpan.AccumulateSum(lanes, s.H.AsSpan(m.Cols[m.Start[v]] * s.Ld + lo, hi - lo), lo, n, m.Values[m.Start[v]], weighted: true);
                    else SimdSpan.AccumulateSum(lanes, s.VT.AsSpan(v * s.Ld + lo, hi - lo), lo, n, T.Zero, weighted: false);
                    if (hi == n) fh.RoleSums[TokenRoles.Example * dv + v] = SimdSpan.SumOfLanes<T>(lanes);
                }
                continue;
            }
            for (int r = 0; r < _model.Roles; r++)
            {
                if (r == TokenRoles.Example) continue;
                var (start, count) = s.Range(r);
                if (count == 0) continue;
                for (int v = 0; v < dv; v++) fh.RoleSums[r * dv + v] = RoleConstantKeysKernel<T>.RoleSum(head, s, single, v, start, count);
            }
        }
    }

    /// <summary>
    /// In layer order after the blocks: each per-token head's bound (false when one fails: the prompt is then run again
    /// layer by layer), and each reduction finished from its sums and committed, as the layer-by-layer pass does.
    /// </summary>
    private bool Epilogue(Phase phase, PhaseScratch ps, Workspace ws, in HeadStream<T> full, int N, int ld, int n)
    {
        var sc = ws.Structured!;
        for (int k = 0; k < phase.Count; k++)
        {
            int l = phase.First + k;
            if (phase.Roles[k] == PhaseRole.Mlp) continue;
            var a = (CompiledModel<T>.Attention)_model.Layers[l];
            double minMargin = double.PositiveInfinity, maxLeak = 0;
            bool softmax = false;
            if (phase.Roles[k] == PhaseRole.PerToken)
            {
                for (int h = 0; h < a.Heads.Length; h++)
                {
                    var fh = ps.Heads[l][h]!;
                    if (Follows(l, h)) fh.Margin = ps.Heads[l][Plan.Heads[l][h].PairedWith]!.Margin;
                    else
                    {
                        fh.Restore(sc);
                        if (!AdmittedKeysOnlyKernel<T>.Finish(Plan.Heads[l][h], _structured!.AdmittedOnly(l, h)!, full, out fh.Margin)) return false;
                    }
                    minMargin = Math.Min(minMargin, fh.Margin);
                }
            }
            else
            {
                sc.BeginLayer(a.WrittenRows);
                for (int h = 0; h < a.Heads.Length; h++)
                {
                    var head = a.Heads[h];
                    var sums = head.OutRows.Length == 0 ? default : ps.Heads[l][h]!.RoleSums.AsSpan(0, _model.Roles * head.OutRows.Length);
                    if (!RoleConstantKeysKernel<T>.Run(head, Plan.Heads[l][h], full, _model.Roles, sums, out double m, out double lk))
                        throw new InvalidOperationException($"layer {l} head {h}: embedding-constant keys differ between tokens of a role");
                    minMargin = Math.Min(minMargin, m); maxLeak = Math.Max(maxLeak, lk);
                    softmax |= head.Activation == Activation.Softmax;
                }
                Commit(ws, a.WrittenRows, N, ld, n);
                foreach (int c in a.WrittenRows) ps.Finite[l][c] = ws.RowFinite[c];
                sc.EndLayer(a.WrittenRows);
            }
            ps.Margin[l] = minMargin; ps.Leak[l] = maxLeak; ps.Softmax[l] = softmax;   // the certificate comes with Replay
        }
        return true;
    }

    /// <summary>
    /// The finiteness flags as the layer-by-layer pass leaves them after each layer (every layer's written rows take the
    /// finiteness of its own output), and so each layer's certificate.
    /// </summary>
    private void Replay(Phase phase, PhaseScratch ps, Workspace ws, LayerCertificate[] layers)
    {
        Array.Copy(ps.FiniteAtStart, ws.RowFinite, ps.FiniteAtStart.Length);
        ws.NonFiniteRows = 0;
        foreach (bool f in ws.RowFinite) if (!f) ws.NonFiniteRows++;
        for (int k = 0; k < phase.Count; k++)
        {
            int l = phase.First + k;
            var layer = _model.Layers[l];
            foreach (int c in layer.WrittenRows)
            {
                bool f = ps.Finite[l][c];
                if (f != ws.RowFinite[c]) { ws.RowFinite[c] = f; ws.NonFiniteRows += f ? -1 : 1; }
            }
            bool finite = ws.NonFiniteRows == 0;
            if (phase.Roles[k] == PhaseRole.Mlp)
            {
                var source = (MlpLayer)_model.Source.Layers[l];
                double declared = source.DeclaredError == 0 ? 0 : typeof(T) == typeof(double) ? source.DeclaredError : double.PositiveInfinity;
                layers[l] = new LayerCertificate(l, double.PositiveInfinity, 0, finite, finite, double.PositiveInfinity, declared);
                continue;
            }
            bool inDomain = finite && ps.Margin[l] >= 0 && (!ps.Softmax[l] || ps.Leak[l] <= Certificate.LeakageTolerance);
            layers[l] = new LayerCertificate(l, ps.Margin[l], ps.Leak[l], inDomain, finite);
        }
    }
}
