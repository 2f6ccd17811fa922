using MorIcl.Construction.Model;
using MorIcl.Training.Constructed;

namespace MorIcl.Export;

/// <summary>
/// The constructed architecture with trained weights as a <see cref="TransformerModel"/>: the
/// template's specification, layout, embedding, read-out, heads (activation, positional dimensions,
/// admission) and provenance, with every matrix taken from the model's parameter blocks
/// (<c>layerLL.headH.Q|K|V</c>, <c>layerLL.mlp.W1|b1|W2|b2</c>). The construction's approximate-layer
/// ranges and declared errors are dropped: they certify the construction's weights, not trained ones.
/// </summary>
public static class TrainedTransformer
{
    public static TransformerModel Of(ConstructedArchitectureModel trained)
    {
        var template = trained.Template;
        var blocks = trained.Blocks.ToDictionary(b => b.Name, b => (b.Offset, b.Length), StringComparer.Ordinal);
        var p = trained.Parameters;
        int D = template.Dimension;
        SparseMatrix Matrix(string name, int rows, int cols)
        {
            var (offset, length) = blocks[name];
            if (length != rows * cols) throw new InvalidOperationException($"{name}: {length} parameters for {rows}×{cols}");
            var b = new SparseMatrix.Builder(rows, cols);
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                    if (p[offset + i * cols + j] != 0) b.Add(i, j, p[offset + i * cols + j]);
            return b.Build();
        }
        double[] Vector(string name) { var (offset, length) = blocks[name]; return p.AsSpan(offset, length).ToArray(); }
        var layers = new List<Layer>();
        for (int l = 0; l < template.Layers.Count; l++)
        {
            string prefix = $"layer{l:D2}";
            var layer = template.Layers[l];
            layers.Add(layer switch
            {
                AttentionLayer a => new AttentionLayer(a.Heads.Select((h, i) => new AttentionHead(h.Name, h.Activation,
                    Matrix($"{prefix}.head{i}.Q", h.HeadDimension, D), Matrix($"{prefix}.head{i}.K", h.HeadDimension, D), Matrix($"{prefix}.head{i}.V", D, D),
                    h.PositionalDims, h.Admission, h.Description)).ToArray(), a.Provenance, "trained weights: no certificate"),
                MlpLayer m => new MlpLayer(Matrix(prefix + ".mlp.W1", m.Hidden, D), Vector(prefix + ".mlp.b1"), Matrix(prefix + ".mlp.W2", D, m.Hidden), Vector(prefix + ".mlp.b2"),
                    m.Provenance, "trained weights: no certificate"),
                _ => throw new InvalidOperationException($"{prefix}: unknown layer type"),
            });
        }
        return new TransformerModel(template.Spec, template.Layout, template.Embedding, layers, template.ReadOut, template.Margin);
    }
}
