using System.Globalization;
using MorIcl.Construction;
using MorIcl.Construction.Model;

namespace MorIcl.Runtime;

/// <summary>
/// Whether a model is the construction of its stated specification: the spec is compiled again and
/// every weight, bias, admission table, positional dimension count, layout block, embedding and
/// read-out row is compared bit for bit with the model's. <see cref="Matches"/> is null for models that
/// claim no specification (trained, hand-built: <see cref="ModelOrigin"/>); then nothing is compared and
/// the model is never labelled as a construction.
/// </summary>
/// <param name="Matches">true, false, or null (no specification claimed).</param>
/// <param name="Detail">The first difference, or what was (not) compared.</param>
public sealed record SpecificationMatch(bool? Matches, string Detail)
{
    public static SpecificationMatch Check(TransformerModel model)
    {
        switch (model.Origin)
        {
            case ModelOrigin.Trained: return new SpecificationMatch(null, "trained model: its weights were learned; no specification is claimed, none is compared");
            case ModelOrigin.HandBuilt: return new SpecificationMatch(null, "hand-built model: no specification is claimed, none is compared");
        }
        TransformerModel reference;
        try { reference = Compiler.Compile(model.Spec); }
        catch (ConstructionException e) { return new SpecificationMatch(false, $"the stated specification does not compile: {e.Message}"); }
        var difference = FirstDifference(model, reference);
        return difference is null
            ? new SpecificationMatch(true, "the weights are the construction of the stated specification (recompiled and compared weight by weight)")
            : new SpecificationMatch(false, $"the weights are not the construction of the stated specification: {difference}");
    }

    /// <summary>The first way <paramref name="m"/> differs from <paramref name="c"/> (the recompiled construction), or null.</summary>
    public static string? FirstDifference(TransformerModel m, TransformerModel c)
    {
        if (m.Dimension != c.Dimension) return $"it has {m.Dimension} residual rows, the construction {c.Dimension}";
        for (int b = 0; b < Math.Max(m.Layout.Blocks.Count, c.Layout.Blocks.Count); b++)
        {
            var x = b < m.Layout.Blocks.Count ? m.Layout.Blocks[b] : null; var y = b < c.Layout.Blocks.Count ? c.Layout.Blocks[b] : null;
            if (x is null || y is null || x.Name != y.Name || x.Start != y.Start || x.Width != y.Width)
                return $"layout block {b} is {Describe(x)}, the construction's is {Describe(y)}";
        }
        if (m.Embedding.PositionBase != c.Embedding.PositionBase || !m.Embedding.AuxiliaryNames.SequenceEqual(c.Embedding.AuxiliaryNames))
            return "the embedding (position base or auxiliary tokens) differs";
        if (m.Margin != c.Margin) return $"the margin is {F(m.Margin)}, the construction's {F(c.Margin)}";
        var ro = m.ReadOut; var rc = c.ReadOut;
        if (ro.Prediction != rc.Prediction || ro.SymmetricWeightPlusOne != rc.SymmetricWeightPlusOne
            || !ro.Beta.Select(b => (b.Start, b.Width)).SequenceEqual(rc.Beta.Select(b => (b.Start, b.Width)))
            || !(ro.Responsibilities ?? Array.Empty<int>()).SequenceEqual(rc.Responsibilities ?? Array.Empty<int>())
            || (ro.Mixing?.Start, ro.Mixing?.Width) != (rc.Mixing?.Start, rc.Mixing?.Width))
            return "the read-out rows differ";
        if (m.Layers.Count != c.Layers.Count) return $"it has {m.Layers.Count} layers, the construction {c.Layers.Count}";
        for (int l = 0; l < m.Layers.Count; l++)
        {
            string at = $"layer {l} ({c.Layers[l].Provenance.Operator})";
            switch (m.Layers[l], c.Layers[l])
            {
                case (AttentionLayer a, AttentionLayer b):
                    if (a.Heads.Length != b.Heads.Length) return $"{at} has {a.Heads.Length} heads, the construction {b.Heads.Length}";
                    for (int h = 0; h < a.Heads.Length; h++)
                    {
                        var x = a.Heads[h]; var y = b.Heads[h];
                        string hat = $"{at} head {h}";
                        if (x.Activation != y.Activation) return $"{hat} is {ActivationNames.Display(x.Activation)}, the construction's {ActivationNames.Display(y.Activation)}";
                        if (x.PositionalDims != y.PositionalDims) return $"{hat} has {x.PositionalDims} positional dimensions, the construction's {y.PositionalDims}";
                        if (!x.Admission.Equals(y.Admission)) return $"{hat}: the admission table differs";
                        var d = Matrix(x.Query, y.Query, $"{hat} Q") ?? Matrix(x.Key, y.Key, $"{hat} K") ?? Matrix(x.Value, y.Value, $"{hat} V");
                        if (d is not null) return d;
                    }
                    break;
                case (MlpLayer a, MlpLayer b):
                    var md = Matrix(a.W1, b.W1, $"{at} W1") ?? Vector(a.B1, b.B1, $"{at} b1") ?? Matrix(a.W2, b.W2, $"{at} W2") ?? Vector(a.B2, b.B2, $"{at} b2");
                    if (md is not null) return md;
                    if (a.DeclaredError != b.DeclaredError) return $"{at} declares error {F(a.DeclaredError)}, the construction {F(b.DeclaredError)}";
                    if (a.InputRanges.Length != b.InputRanges.Length
                        || a.InputRanges.Zip(b.InputRanges).Any(p => p.First.Row != p.Second.Row || p.First.Lo != p.Second.Lo || p.First.Hi != p.Second.Hi))
                        return $"{at}: the declared input ranges differ";
                    break;
                default:
                    return $"{at} is {Kind(m.Layers[l])}, the construction's is {Kind(c.Layers[l])}";
            }
        }
        return null;
    }

    private static string? Matrix(SparseMatrix x, SparseMatrix y, string what)
    {
        if (x.Rows != y.Rows || x.Cols != y.Cols) return $"{what} is {x.Rows}×{x.Cols}, the construction's {y.Rows}×{y.Cols}";
        if (x.Equals(y)) return null;
        var a = Entries(x); var b = Entries(y);
        foreach (var key in a.Keys.Union(b.Keys).OrderBy(k => k))
        {
            double u = a.TryGetValue(key, out var p) ? p : 0, v = b.TryGetValue(key, out var q) ? q : 0;
            if (BitConverter.DoubleToInt64Bits(u) != BitConverter.DoubleToInt64Bits(v))
                return $"{what} entry ({key / x.Cols}, {key % x.Cols}) is {F(u)}, the construction's {F(v)}";
        }
        return null;
    }

    private static Dictionary<long, double> Entries(SparseMatrix m)
    {
        var d = new Dictionary<long, double>();
        for (int e = 0; e < m.NonZeros; e++) d[(long)m.RowIndex[e] * m.Cols + m.ColIndex[e]] = m.Values[e];
        return d;
    }

    private static string? Vector(double[] x, double[] y, string what)
    {
        if (x.Length != y.Length) return $"{what} has {x.Length} numbers, the construction's {y.Length}";
        for (int i = 0; i < x.Length; i++)
            if (BitConverter.DoubleToInt64Bits(x[i]) != BitConverter.DoubleToInt64Bits(y[i])) return $"{what}[{i}] is {F(x[i])}, the construction's {F(y[i])}";
        return null;
    }

    private static string Kind(Layer l) => l is AttentionLayer ? "attention" : "an MLP";
    private static string Describe(LayoutBlock? b) => b is null ? "missing" : $"'{b.Name}' at {b.Start} (width {b.Width})";
    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
