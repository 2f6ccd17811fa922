using MorIcl.Construction.Model;

namespace MorIcl.Probing;

/// <summary>How well the probe of gradient EM's β̂ after iteration s decodes it right after the layer that completes iteration s.</summary>
public sealed record IterateRecovery(int Iteration, string Target, int ReadPoint, string ReadPointName, double R2)
{
    public bool Met => R2 >= IterateRecoveries.Criterion;
}

/// <summary>
/// The probes' known answer on a constructed model (docs/math.md §11; issue 14): its gd_step layers
/// write gradient EM's b_k into the query token's β rows, so after the last gd_step layer of
/// iteration s a linear probe decodes <c>beta_em_s{s}</c> with R² = 1 up to rounding. The criterion
/// is R² ≥ 0.999999 at that read point for every s = 1 … S.
/// </summary>
public static class IterateRecoveries
{
    public const double Criterion = 0.999999;

    /// <summary>The read point (0 = embedding, l = after layer l) right after the last layer of iteration s that decodes to β, or −1 if none does.</summary>
    public static int EndOfIteration(TransformerModel model, int s)
    {
        for (int l = model.Layers.Count - 1; l >= 0; l--)
            if (model.Layers[l].Provenance is { Decode: DecodeKind.Beta } p && p.EmIteration == s) return l + 1;
        return -1;
    }

    /// <summary>One entry per iteration s = 1 … S of the model's specification (R² NaN where the model has no such layer or the probe is missing).</summary>
    public static IReadOnlyList<IterateRecovery> Of(TransformerModel model, ProbeReport report)
    {
        var list = new List<IterateRecovery>();
        for (int s = 1; s <= model.Spec.EmIterations; s++)
        {
            int point = EndOfIteration(model, s);
            string target = ProbeTargets.Iterate(s);
            bool known = point >= 0 && point < report.Layers.Count;
            list.Add(new IterateRecovery(s, target, point, known ? report.Layers[point].Name : "—", known ? report.Layers[point].R2(ProbePosition.Query, target) : double.NaN));
        }
        return list;
    }
}
