using MorIcl.Construction.Model;

namespace MorIcl.Cli.Commands;

/// <summary>
/// A picture of one layer: every matrix of the layer stacked as rows (head h: its Q dimensions, K
/// dimensions and V output rows; or W1 units), against the residual rows it reads, all named, drawn
/// by <see cref="Heatmap"/> (diverging, symmetric, logarithmic in |w| so that margins (±8192) and unit
/// weights both show).
/// </summary>
internal static class LayerHeatmap
{
    public static void Save(string path, TransformerModel model, int l)
    {
        var layer = model.Layers[l];
        var names = model.Layout.RowNames();
        var blocks = new List<(string Label, SparseMatrix M, int Row)>();
        if (layer is AttentionLayer a)
            for (int h = 0; h < a.Heads.Length; h++)
            {
                var head = a.Heads[h];
                for (int r = 0; r < head.HeadDimension; r++) blocks.Add(($"h{h}.Q.dim{r}", head.Query, r));
                for (int r = 0; r < head.HeadDimension; r++) blocks.Add(($"h{h}.K.dim{r}", head.Key, r));
                foreach (var r in head.Value.NonZeroRows()) blocks.Add(($"h{h}.V→{names[r]}", head.Value, r));
            }
        else if (layer is MlpLayer m)
        {
            for (int r = 0; r < m.Hidden; r++) blocks.Add(($"W1.unit{r}", m.W1, r));
        }
        var cols = blocks.SelectMany(b => Enumerable.Range(0, b.M.NonZeros).Where(e => b.M.RowIndex[e] == b.Row).Select(e => b.M.ColIndex[e])).Distinct().OrderBy(c => c).ToArray();
        if (blocks.Count == 0 || cols.Length == 0) throw new SpecificationException($"layer {l} has no weights to draw");
        var colPos = cols.Select((c, i) => (c, i)).ToDictionary(t => t.c, t => t.i);
        var data = new double[blocks.Count, cols.Length];
        for (int r = 0; r < blocks.Count; r++)
        {
            var (_, mat, row) = blocks[r];
            for (int e = 0; e < mat.NonZeros; e++)
                if (mat.RowIndex[e] == row && colPos.TryGetValue(mat.ColIndex[e], out int c)) data[r, c] = mat.Values[e];
        }
        var p = layer.Provenance;
        // The plot font lacks a few mathematical glyphs (ℓ, ⟨⟩): spell them plainly.
        string description = p.Description.Replace("ℓ", "l").Replace("⟨", "<").Replace("⟩", ">");
        Heatmap.WritePng(path, $"layer {l}: {p.Operator}{(p.EmIteration > 0 ? $", EM iteration {p.EmIteration}" : "")}{(p.InnerStep > 0 ? $", step {p.InnerStep}" : "")} - {description}",
            data, blocks.Select(b => b.Label).ToArray(), cols.Select(c => names[c]).ToArray(), "weight w");
    }
}
