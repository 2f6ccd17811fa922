using MorIcl.Construction.Model;

namespace MorIcl.Training.Constructed;

/// <summary>One attention head's shape and where its dense weights sit in the flat parameter vector.</summary>
/// <param name="QOffset">Q, head_dim × D, row-major.</param>
/// <param name="KOffset">K, head_dim × D, row-major.</param>
/// <param name="VOffset">V, D × D, row-major (dense: every row of the residual stream can be written).</param>
internal sealed record HeadShape(Activation Activation, int HeadDimension, int QOffset, int KOffset, int VOffset);

internal abstract record LayerShape(int Index);

internal sealed record AttentionShape(int Index, HeadShape[] Heads) : LayerShape(Index);

/// <summary>A token-wise ReLU MLP h += W2 ReLU(W1 h + b1) + b2 (W1 hidden × D, W2 D × hidden, row-major).</summary>
internal sealed record MlpShape(int Index, int Hidden, int W1Offset, int B1Offset, int W2Offset, int B2Offset) : LayerShape(Index);

/// <summary>
/// The architecture of a compiled <see cref="TransformerModel"/> with every weight dense: the same
/// residual width D, the same layers in order, per attention layer the same heads (head dimension,
/// activation), per MLP the same hidden width; and the layout of the flat parameter vector
/// (layer by layer; a head is Q, K, V; an MLP is W1, b1, W2, b2).
/// </summary>
internal sealed class ConstructedArchitecture
{
    public TransformerModel Template { get; }
    public int Dimension { get; }
    public LayerShape[] Layers { get; }
    public int ParameterCount { get; }
    public (string Name, int Offset, int Length)[] Blocks { get; }
    /// <summary>Largest head dimension and MLP hidden width (workspace sizes).</summary>
    public int MaxHeadDimension { get; }
    public int MaxHidden { get; }

    public ConstructedArchitecture(TransformerModel template)
    {
        Template = template;
        int D = Dimension = template.Dimension;
        var layers = new List<LayerShape>();
        var blocks = new List<(string, int, int)>();
        int offset = 0;
        int Take(string name, int length)
        {
            int o = offset;
            blocks.Add((name, o, length));
            offset = checked(offset + length);
            return o;
        }
        for (int l = 0; l < template.Layers.Count; l++)
        {
            string prefix = $"layer{l:D2}";
            switch (template.Layers[l])
            {
                case AttentionLayer att:
                    var heads = new HeadShape[att.Heads.Length];
                    for (int h = 0; h < heads.Length; h++)
                    {
                        var head = att.Heads[h];
                        if (head.Query.Cols != D) throw new SpecificationException($"{prefix}.head{h}: Q has {head.Query.Cols} columns, the model has D = {D}");
                        int dk = head.HeadDimension;
                        int q = Take($"{prefix}.head{h}.Q", dk * D);
                        int k = Take($"{prefix}.head{h}.K", dk * D);
                        int v = Take($"{prefix}.head{h}.V", D * D);
                        heads[h] = new HeadShape(head.Activation, dk, q, k, v);
                        MaxHeadDimension = Math.Max(MaxHeadDimension, dk);
                    }
                    layers.Add(new AttentionShape(l, heads));
                    break;
                case MlpLayer mlp:
                    int H = mlp.Hidden;
                    int w1 = Take($"{prefix}.mlp.W1", H * D);
                    int b1 = Take($"{prefix}.mlp.b1", H);
                    int w2 = Take($"{prefix}.mlp.W2", D * H);
                    int b2 = Take($"{prefix}.mlp.b2", D);
                    layers.Add(new MlpShape(l, H, w1, b1, w2, b2));
                    MaxHidden = Math.Max(MaxHidden, H);
                    break;
                default:
                    throw new SpecificationException($"{prefix}: unknown layer kind {template.Layers[l].GetType().Name}");
            }
        }
        Layers = layers.ToArray();
        Blocks = blocks.ToArray();
        ParameterCount = offset;
    }

    /// <summary>The construction's weights written into a dense parameter vector (every other entry 0).</summary>
    public double[] ConstructedParameters()
    {
        var p = new double[ParameterCount];
        int D = Dimension;
        foreach (var shape in Layers)
        {
            switch (shape)
            {
                case AttentionShape a:
                    var att = (AttentionLayer)Template.Layers[a.Index];
                    for (int h = 0; h < a.Heads.Length; h++)
                    {
                        Scatter(att.Heads[h].Query, p, a.Heads[h].QOffset, D);
                        Scatter(att.Heads[h].Key, p, a.Heads[h].KOffset, D);
                        Scatter(att.Heads[h].Value, p, a.Heads[h].VOffset, D);
                    }
                    break;
                case MlpShape m:
                    var mlp = (MlpLayer)Template.Layers[m.Index];
                    Scatter(mlp.W1, p, m.W1Offset, D);
                    mlp.B1.CopyTo(p, m.B1Offset);
                    Scatter(mlp.W2, p, m.W2Offset, m.Hidden);
                    mlp.B2.CopyTo(p, m.B2Offset);
                    break;
            }
        }
        return p;
    }

    /// <summary>Offsets of every bias entry (b1, b2 of each MLP).</summary>
    public IEnumerable<(int Offset, int Length)> BiasRanges()
    {
        foreach (var shape in Layers)
            if (shape is MlpShape m) { yield return (m.B1Offset, m.Hidden); yield return (m.B2Offset, Dimension); }
    }

    private static void Scatter(SparseMatrix m, double[] p, int offset, int cols)
    {
        for (int e = 0; e < m.NonZeros; e++) p[offset + m.RowIndex[e] * cols + m.ColIndex[e]] = m.Values[e];
    }
}
