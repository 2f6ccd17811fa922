using MorIcl.Construction.Model;

namespace MorIcl.Tests.Support;

/// <summary>Models with linear-attention heads (<see cref="Activation.Linear"/>), built from a compiled template.</summary>
internal static class LinearHeads
{
    /// <summary>
    /// A copy of <paramref name="m"/> in which the heads of every attention layer whose index
    /// <paramref name="replace"/> accepts become linear heads of the same shapes: the same Q, K, V
    /// matrices and positional dimensions, activation <see cref="Activation.Linear"/>, every pair admitted.
    /// </summary>
    public static TransformerModel Replace(TransformerModel m, Func<int, bool> replace)
    {
        int roles = TokenRoles.Count(m.Embedding.AuxiliaryCount);
        var layers = m.Layers.Select((layer, l) => layer is AttentionLayer a && replace(l)
            ? new AttentionLayer(a.Heads.Select(h => new AttentionHead(h.Name + "_lin", Activation.Linear, h.Query, h.Key, h.Value, h.PositionalDims, Admission.All(roles), h.Description)).ToArray(),
                a.Provenance, "linear attention (every pair admitted; finite)")
            : layer).ToList();
        return new TransformerModel(m.Spec, m.Layout, m.Embedding, layers, m.ReadOut, m.Margin);
    }

    /// <summary>Layer indices of the attention layers of <paramref name="m"/>.</summary>
    public static int[] AttentionLayers(TransformerModel m) => Enumerable.Range(0, m.Layers.Count).Where(l => m.Layers[l] is AttentionLayer).ToArray();

    /// <summary>Head kinds of a random layer in <see cref="Random"/>.</summary>
    public enum Kind { Linear, Relu }

    /// <summary>
    /// A model with the embedding, layout and read-out of <paramref name="template"/> and only random
    /// attention layers: layer l has one head per entry of <paramref name="layers"/>[l], every pair
    /// admitted, head dimension <paramref name="dk"/>; Q, K and V have density 1/2 with N(0, scale²)
    /// entries (V written to every row, so the query token's prediction row changes).
    /// </summary>
    public static TransformerModel Random(TransformerModel template, Kind[][] layers, int dk, double scale, int seed)
    {
        int D = template.Dimension, roles = TokenRoles.Count(template.Embedding.AuxiliaryCount);
        var rng = new System.Random(seed);
        double Normal() => scale * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        SparseMatrix Matrix(int rows)
        {
            var b = new SparseMatrix.Builder(rows, D);
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < D; c++)
                    if (rng.NextDouble() < 0.5) b.Add(r, c, Normal());
            return b.Build();
        }
        var built = new List<Layer>();
        for (int l = 0; l < layers.Length; l++)
        {
            var heads = layers[l].Select((k, h) => new AttentionHead($"l{l}h{h}", k == Kind.Linear ? Activation.Linear : Activation.Relu,
                Matrix(dk), Matrix(dk), Matrix(D), 0, Admission.All(roles), $"random {k} head")).ToArray();
            built.Add(new AttentionLayer(heads, new Provenance("random", 0, 0, "test", $"random layer {l}"), "every pair admitted"));
        }
        return new TransformerModel(template.Spec, template.Layout, template.Embedding, built, template.ReadOut, template.Margin);
    }
}
