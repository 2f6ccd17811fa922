using MorIcl.Construction;
using MorIcl.Construction.Model;

namespace MorIcl.Verification;

/// <summary>Edits of a constructed model's layers and weights (the mutant catalogue's weight mutants). Every edit returns a new model.</summary>
public static class ModelEdits
{
    /// <summary>The model's layers under another claimed specification.</summary>
    public static TransformerModel Claiming(TransformerModel m, ConstructionSpec claimed) =>
        new(claimed, m.Layout, m.Embedding, m.Layers, m.ReadOut, m.Margin);

    public static TransformerModel WithLayers(TransformerModel m, IReadOnlyList<Layer> layers) =>
        new(m.Spec, m.Layout, m.Embedding, layers, m.ReadOut, m.Margin);

    /// <summary>Without the layers that <paramref name="drop"/> selects.</summary>
    public static TransformerModel Dropping(TransformerModel m, Func<Layer, bool> drop) => WithLayers(m, m.Layers.Where(l => !drop(l)).ToList());

    /// <summary>Without the first layer that <paramref name="drop"/> selects.</summary>
    public static TransformerModel DroppingFirst(TransformerModel m, Func<Layer, bool> drop)
    {
        var layers = m.Layers.ToList();
        int i = layers.FindIndex(l => drop(l));
        if (i >= 0) layers.RemoveAt(i);
        return WithLayers(m, layers);
    }

    /// <summary>Every attention layer that <paramref name="select"/> picks, with each head replaced by <paramref name="edit"/>.</summary>
    public static TransformerModel EditingHeads(TransformerModel m, Func<AttentionLayer, bool> select, Func<AttentionHead, int, AttentionHead> edit, bool firstOnly = false)
    {
        bool done = false;
        var layers = m.Layers.Select(l =>
        {
            if (l is not AttentionLayer a || !select(a) || (firstOnly && done)) return l;
            done = true;
            return new AttentionLayer(a.Heads.Select(edit).ToArray(), a.Provenance, a.Domain);
        }).ToList<Layer>();
        return WithLayers(m, layers);
    }

    /// <summary>The head with value entry <paramref name="entry"/> (in storage order) multiplied by <paramref name="factor"/>.</summary>
    public static AttentionHead ScaleValueEntry(AttentionHead h, int entry, double factor)
    {
        var v = h.Value;
        var values = (double[])v.Values.Clone();
        values[entry] *= factor;
        return WithValue(h, new SparseMatrix(v.Rows, v.Cols, v.RowIndex, v.ColIndex, values));
    }

    /// <summary>The head with every value weight set to 0 (the entries are kept, so the head still writes — zeros — into the same rows).</summary>
    public static AttentionHead ZeroValue(AttentionHead h) =>
        WithValue(h, new SparseMatrix(h.Value.Rows, h.Value.Cols, h.Value.RowIndex, h.Value.ColIndex, new double[h.Value.NonZeros]));

    private static AttentionHead WithValue(AttentionHead h, SparseMatrix value) =>
        new(h.Name, h.Activation, h.Query, h.Key, value, h.PositionalDims, h.Admission, h.Description);

    /// <summary>
    /// Every MLP layer that <paramref name="select"/> picks, with W1[u, c] replaced by <paramref name="edit"/>(u, c, value)
    /// for the hidden units u that write into one of <paramref name="outputs"/> (W2[row, u] ≠ 0).
    /// </summary>
    public static TransformerModel EditingMlpInputs(TransformerModel m, Func<MlpLayer, bool> select, ISet<int> outputs, Func<int, double, double> edit)
    {
        var layers = m.Layers.Select(l =>
        {
            if (l is not MlpLayer mlp || !select(mlp)) return l;
            var writers = new HashSet<int>();
            for (int e = 0; e < mlp.W2.NonZeros; e++) if (outputs.Contains(mlp.W2.RowIndex[e])) writers.Add(mlp.W2.ColIndex[e]);
            var w1 = mlp.W1;
            var values = w1.Values.Select((v, e) => writers.Contains(w1.RowIndex[e]) ? edit(w1.ColIndex[e], v) : v).ToArray();
            return new MlpLayer(new SparseMatrix(w1.Rows, w1.Cols, w1.RowIndex, w1.ColIndex, values), mlp.B1, mlp.W2, mlp.B2, mlp.Provenance, mlp.Domain, mlp.InputRanges, mlp.DeclaredError);
        }).ToList<Layer>();
        return WithLayers(m, layers);
    }

    /// <summary>A copy of <paramref name="spec"/> with some fields replaced.</summary>
    public static ConstructionSpec With(ConstructionSpec spec, double? sigma = null, double[]? mixing = null, double? stepSize = null, int? emIterations = null, int? gradientSteps = null) =>
        new(spec.Dimension, spec.Components, sigma ?? spec.Sigma, mixing ?? spec.Mixing, emIterations ?? spec.EmIterations, gradientSteps ?? spec.GradientSteps,
            stepSize ?? spec.StepSize, spec.InitialBeta, spec.Margin, spec.MaxPromptLength, spec.Symmetric, spec.EstimateMixing, spec.MixingFloor);
}
