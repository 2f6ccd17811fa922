using System.Numerics;
using MorIcl.Construction.Model;

namespace MorIcl.Runtime.Structured;

/// <summary>How a layer takes part in a <see cref="Phase"/> (docs/math.md §9.6).</summary>
internal enum PhaseRole
{
    /// <summary>A token-wise MLP without declared input ranges.</summary>
    Mlp,
    /// <summary>
    /// An attention layer whose heads are all ReLU <see cref="HeadPattern.AdmittedKeysOnly"/> heads taken in this
    /// precision that form, for every query role, no key but the query itself (the per-token products): each token's
    /// output reads that token alone; the bound on the unformed scores needs maxima over all tokens.
    /// </summary>
    PerToken,
    /// <summary>
    /// An attention layer whose heads are all <see cref="HeadPattern.RoleConstantKeys"/> heads with embedding-constant
    /// keys and queries that no layer writes (the example means): its only per-token work is the value sums over each role.
    /// </summary>
    Reduction,
}

/// <summary>A run of consecutive layers executed block by block over the tokens.</summary>
internal sealed class Phase
{
    public required int First { get; init; }
    public required PhaseRole[] Roles { get; init; }
    public int Count => Roles.Length;
    public bool HasPerToken => Roles.Contains(PhaseRole.PerToken);
}

/// <summary>
/// The block schedule of a model in one precision (docs/math.md §9.6): maximal runs of consecutive layers that can be
/// run block by block, each block of tokens through every layer of the run while its rows are in cache, with the
/// reductions (<see cref="PhaseRole.Reduction"/>) accumulated in the blocks and finished after them. A layer joins the
/// run before it when
/// <list type="bullet">
/// <item>it is a <see cref="PhaseRole.PerToken"/> layer whose queries and keys read no row an earlier layer of the run
/// writes (the per-role operands and the operands' role-constancy are then those at the run's start);</item>
/// <item>it reads and writes no output row of a reduction before it in the run, and, for a reduction, no earlier layer
/// of the run writes its output rows: a reduction commits after the blocks, so the layers before it read the rows it
/// writes as they were, as they do layer by layer, and no layer after it may see them.</item>
/// </list>
/// Only runs of two layers or more are kept.
/// </summary>
internal static class BlockSchedule
{
    public static Phase[] Build<T>(CompiledModel<T> model, ExecutionPlan plan, Func<int, int, bool> taken, Func<int, int, AdmittedKeysOnlyKernel<T>.Compiled?> compiled)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int D = model.Source.Dimension, L = model.Layers.Length;
        var everWritten = new bool[D];
        foreach (var layer in model.Layers) foreach (int c in layer.WrittenRows) everWritten[c] = true;
        var phases = new List<Phase>();
        var roles = new List<PhaseRole>();
        int first = 0;
        var written = new HashSet<int>(); var reduced = new HashSet<int>();
        void Close()
        {
            if (roles.Count >= 2) phases.Add(new Phase { First = first, Roles = roles.ToArray() });
            roles.Clear(); written.Clear(); reduced.Clear();
        }
        for (int l = 0; l < L; l++)
        {
            var role = RoleOf(model, plan, l, everWritten, taken, compiled);
            if (role is null) { Close(); continue; }
            var (reads, writes, operands) = Rows(model.Layers[l]);
            bool joins = roles.Count > 0
                && !reads.Concat(writes).Any(reduced.Contains)
                && (role != PhaseRole.PerToken || !operands.Any(written.Contains))
                && (role != PhaseRole.Reduction || !writes.Any(written.Contains));
            if (!joins) { Close(); first = l; }
            roles.Add(role.Value);
            if (role == PhaseRole.Reduction) reduced.UnionWith(writes);
            written.UnionWith(writes);
        }
        Close();
        return phases.ToArray();
    }

    /// <summary>The rows layer reads, writes, and (attention) its queries' and keys' rows.</summary>
    private static (int[] Reads, int[] Writes, int[] Operands) Rows<T>(CompiledModel<T>.Layer layer) where T : unmanaged, IFloatingPointIeee754<T> => layer switch
    {
        CompiledModel<T>.Attention a => (a.Heads.SelectMany(h => h.QCols.Concat(h.KCols).Concat(h.VCols)).Distinct().ToArray(), layer.WrittenRows,
            a.Heads.SelectMany(h => h.QCols.Concat(h.KCols)).Distinct().ToArray()),
        CompiledModel<T>.Mlp m => (m.InCols, layer.WrittenRows, Array.Empty<int>()),
        _ => throw new InvalidOperationException(),
    };

    private static PhaseRole? RoleOf<T>(CompiledModel<T> model, ExecutionPlan plan, int l, bool[] everWritten, Func<int, int, bool> taken,
        Func<int, int, AdmittedKeysOnlyKernel<T>.Compiled?> compiled) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (model.Layers[l])
        {
            case CompiledModel<T>.Mlp:
                return ((MlpLayer)model.Source.Layers[l]).InputRanges.Length == 0 ? PhaseRole.Mlp : null;
            case CompiledModel<T>.Attention a:
                var heads = plan.Heads[l];
                if (heads.Length == 0 || !Enumerable.Range(0, heads.Length).All(h => taken(l, h))) return null;
                if (heads.All(h => h.Pattern == HeadPattern.AdmittedKeysOnly && h.Activation == Activation.Relu)
                    && Enumerable.Range(0, heads.Length).All(h => SelfOnly(heads[h], compiled(l, h))))
                    return PhaseRole.PerToken;
                if (heads.All(h => h.Pattern == HeadPattern.RoleConstantKeys && h.KeysAreEmbeddingConstants)
                    && a.Heads.All(h => h.QCols.Concat(h.KCols).All(c => !everWritten[c] && plan.Rows.Kind[c] == EmbeddingRowKind.RoleConstant)))
                    return PhaseRole.Reduction;
                return null;
            default: return null;
        }
    }

    /// <summary>Every query role forms no key but itself (a pair's second head has no kernel of its own: it follows the first).</summary>
    private static bool SelfOnly<T>(HeadPlan plan, AdmittedKeysOnlyKernel<T>.Compiled? c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (c is null) return plan.PairedWith >= 0 && plan.PairedWith < plan.Head;
        for (int qr = 0; qr < c.Formed.Length; qr++)
            if (c.Formed[qr].Any(kr => kr != qr)) return false;
        return true;
    }
}
