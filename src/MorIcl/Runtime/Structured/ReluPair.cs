using MorIcl.Construction.Model;

namespace MorIcl.Runtime.Structured;

/// <summary>
/// Two ReLU heads of one layer that together compute a signed product (docs/math.md §3, "product of two
/// read-outs of the same token"): the same positional part, keys and admission, exactly opposite content
/// queries and values, both <see cref="HeadPattern.AdmittedKeysOnly"/>, and a positional part of 0 on every
/// formed score. Then the second head's formed scores are exactly the negated first ones (negation is
/// exact at every step), so ReLU(ŝ)·v + ReLU(−ŝ)·(−v) = ŝ·v with one of the two terms ±0, and
/// the unformed scores have the same bound (|−q| = |q|).
/// </summary>
internal static class ReluPair
{
    public static bool Of(HeadPlan a, HeadPlan b, AttentionHead ha, AttentionHead hb)
    {
        if (a.Pattern != HeadPattern.AdmittedKeysOnly || b.Pattern != HeadPattern.AdmittedKeysOnly) return false;
        if (ha.Activation != Activation.Relu || hb.Activation != Activation.Relu || !ha.Admission.Equals(hb.Admission)) return false;
        int P = ha.PositionalDims;
        if (hb.PositionalDims != P || !ha.Key.Equals(hb.Key)) return false;
        if (!Opposite(ha.Query, hb.Query, row => row >= P) || !Opposite(ha.Value, hb.Value, _ => true)) return false;
        int R = a.Roles;
        for (int blk = 0; blk < R * R; blk++)
        {
            if (a.Blocks![blk] == BlockTreatment.Bounded) continue;
            var form = a.Forms![blk];
            bool self = blk / R == blk % R;
            if (form.Constant != 0 || (form.Kind == PositionalFormKind.Distance && !self)) return false;
        }
        return true;
    }

    /// <summary>Same entries, with the values of rows where <paramref name="negated"/> holds exactly opposite and the others equal.</summary>
    private static bool Opposite(SparseMatrix x, SparseMatrix y, Func<int, bool> negated)
    {
        if (x.Rows != y.Rows || x.Cols != y.Cols || x.NonZeros != y.NonZeros) return false;
        for (int e = 0; e < x.NonZeros; e++)
        {
            if (x.RowIndex[e] != y.RowIndex[e] || x.ColIndex[e] != y.ColIndex[e]) return false;
            double want = negated(x.RowIndex[e]) ? -x.Values[e] : x.Values[e];
            if (y.Values[e] != want) return false;
        }
        return true;
    }
}
