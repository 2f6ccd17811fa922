using MorIcl.Construction.Model;

namespace MorIcl.Verification;

/// <summary>
/// A model's own gd_step gradient-term heads evaluated on a synthetic example token (Lemma 3.1, docs/math.md
/// §10.1): the token holds x, b = t·x/‖x‖² (so ⟨b, x⟩ = t) and the M-step target z (K-component: γx, γz in
/// rows gx_k, gy_k; symmetric: y = y₀ and w y + y = z + y₀ in row wy_plus_y), N = 1 and N·x = x. Each head's
/// self-score is ⟨Q h, K h⟩ (the positional part is 0 at position 0), its term ReLU(score)·(V h)/N; their sum
/// over the layer's heads is what the layer adds to the token. Plain arithmetic on the weights, independent of
/// the runtime's kernels.
/// </summary>
public static class GradientHeads
{
    /// <summary>The synthetic token for component <paramref name="k"/> (other components' rows 0).</summary>
    public static double[] Token(TransformerModel model, int k, double t, double z, double gamma, double[] x)
    {
        var L = model.Layout; var e = model.Embedding; var spec = model.Spec;
        var h = new double[model.Dimension];
        h[e.One.Row] = 1; h[e.Positioned.Row] = 1; h[e.IsExample.Row] = 1; h[L["N"].Row] = 1;
        double xx = x.Sum(v => v * v);
        for (int a = 0; a < x.Length; a++) { h[e.X[a]] = x[a]; h[L["Nx"][a]] = x[a]; }
        if (spec.Symmetric)
        {
            const double y0 = 0.5;
            h[e.Y.Row] = y0; h[L["wy_plus_y"].Row] = z + y0;
            for (int a = 0; a < x.Length; a++) h[L["beta"][a]] = t * x[a] / xx;
        }
        else
        {
            for (int a = 0; a < x.Length; a++) { h[L[$"beta{k}"][a]] = t * x[a] / xx; h[L[$"gx{k}"][a]] = gamma * x[a]; }
            h[L["gy"][k]] = gamma * z;
        }
        return h;
    }

    /// <summary>Σ over the layer's heads of ReLU(⟨Q h, K h⟩)·(V h) for one token h (N = 1).</summary>
    public static double[] Output(AttentionLayer layer, double[] h)
    {
        var output = new double[h.Length];
        foreach (var head in layer.Heads)
        {
            var q = Apply(head.Query, h); var kk = Apply(head.Key, h);
            double score = 0;
            for (int r = 0; r < q.Length; r++) score += q[r] * kk[r];
            double act = head.Activation == Activation.Relu ? Math.Max(score, 0) : double.NaN;
            var v = Apply(head.Value, h);
            for (int r = 0; r < v.Length; r++) output[r] += act * v[r];
        }
        return output;
    }

    private static double[] Apply(SparseMatrix m, double[] h)
    {
        var r = new double[m.Rows];
        for (int e = 0; e < m.NonZeros; e++) r[m.RowIndex[e]] += m.Values[e] * h[m.ColIndex[e]];
        return r;
    }

    /// <summary>The rows the layer should write for component k: sx_k (or sx).</summary>
    public static LayoutBlock Target(TransformerModel model, int k) => model.Spec.Symmetric ? model.Layout["sx"] : model.Layout[$"sx{k}"];
}
