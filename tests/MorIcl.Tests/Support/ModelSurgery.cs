using MorIcl.Construction.Model;

namespace MorIcl.Tests.Support;

/// <summary>Deliberate damage to a model, to see checks fail.</summary>
internal static class ModelSurgery
{
    /// <summary>A copy of the model with one value weight of the first gradient-step head scaled.</summary>
    public static TransformerModel ScaleFirstGdStepValue(TransformerModel m, double factor)
    {
        var layers = m.Layers.ToList();
        int l = layers.FindIndex(x => x is AttentionLayer && x.Provenance.Operator == "gd_step" && x.Provenance.Decode == DecodeKind.Beta);
        var a = (AttentionLayer)layers[l];
        var h = a.Heads[0];
        var v = h.Value;
        var values = (double[])v.Values.Clone();
        values[0] *= factor;
        var head = new AttentionHead(h.Name, h.Activation, h.Query, h.Key, new SparseMatrix(v.Rows, v.Cols, v.RowIndex, v.ColIndex, values), h.PositionalDims, h.Admission, h.Description);
        layers[l] = new AttentionLayer(new[] { head }.Concat(a.Heads.Skip(1)).ToArray(), a.Provenance, a.Domain);
        return new TransformerModel(m.Spec, m.Layout, m.Embedding, layers, m.ReadOut, m.Margin);
    }
}
