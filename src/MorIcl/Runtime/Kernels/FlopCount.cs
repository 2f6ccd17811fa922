using MorIcl.Construction.Model;

namespace MorIcl.Runtime.Kernels;

/// <summary>
/// Nominal floating-point operations of one forward pass (a multiply-add counts 2), by kind. Attention
/// is counted dense, as the products a transformer performs whatever the weights: per head
/// 2·N²·dk for the scores and 2·N²·dv for the value aggregation (dv = residual rows the head's value
/// writes), N = tokens. The executor skips work that is exactly zero (sparse ReLU rows, zero weights),
/// so its achieved rate by this count can exceed what it executes.
/// </summary>
public readonly record struct ForwardFlops(double AttentionScores, double AttentionValues, double Projections, double Mlp)
{
    /// <summary>Scores plus value aggregation: the N² products.</summary>
    public double AttentionProducts => AttentionScores + AttentionValues;
    public double Total => AttentionScores + AttentionValues + Projections + Mlp;
}

public static class FlopCount
{
    /// <summary>
    /// FLOPs of one forward pass of <paramref name="model"/> on a prompt of <paramref name="n"/> examples.
    /// Projections: 2·N per non-zero of Q, K and V; MLPs: 2·N per non-zero of W1 and W2 (biases and
    /// ReLU not counted). Softmax exponentials and normalisation are not counted.
    /// </summary>
    public static ForwardFlops Forward(TransformerModel model, int n)
    {
        double N = model.Embedding.TokenCount(n);
        double scores = 0, values = 0, proj = 0, mlp = 0;
        foreach (var layer in model.Layers)
        {
            switch (layer)
            {
                case AttentionLayer att:
                    foreach (var h in att.Heads)
                    {
                        scores += 2 * N * N * h.HeadDimension;
                        values += 2 * N * N * h.Value.NonZeroRows().Length;
                        proj += 2 * N * (h.Query.NonZeros + h.Key.NonZeros + h.Value.NonZeros);
                    }
                    break;
                case MlpLayer m:
                    mlp += 2 * N * (m.W1.NonZeros + m.W2.NonZeros);
                    break;
            }
        }
        return new ForwardFlops(scores, values, proj, mlp);
    }
}
