using MorIcl.Mixture;

namespace MorIcl.Training;

/// <summary>Arithmetic a trainable model computes in (its master parameters are always double).</summary>
public enum Precision { Double, Float }

/// <summary>
/// What identifies a model's architecture: the family ("gpt2", "constructed"), and every
/// hyper-parameter as canonical JSON. A checkpoint stores it; resuming or loading into a model whose
/// descriptor differs is an error naming the difference.
/// </summary>
public sealed record ModelDescriptor(string Family, string Configuration, Precision Precision);

/// <summary>
/// A model trained on MoR prompts (issue 6): it maps a prompt (n examples, a query) to a prediction
/// of the query's label. Parameters are one flat double vector (the optimiser's master copy); a
/// model computing in float converts them at the start of each pass.
/// Determinism contract: for the same parameters and batch, <see cref="LossAndGradient"/> returns
/// bit-identical results whatever the thread count (the batch is split into fixed chunks whose
/// gradients are summed in chunk order).
/// </summary>
public interface ITrainableModel
{
    ModelDescriptor Descriptor { get; }
    /// <summary>The trainable parameters, flat; the model reads them on every call.</summary>
    double[] Parameters { get; }
    /// <summary>Named parameter blocks (offset, length), for weight comparisons and inspection.</summary>
    IReadOnlyList<(string Name, int Offset, int Length)> Blocks { get; }
    /// <summary>Mean over the batch of (ŷ − y_query)²; its gradient with respect to <see cref="Parameters"/> is written into <paramref name="gradient"/> (overwritten).</summary>
    double LossAndGradient(IReadOnlyList<Prompt> batch, double[] gradient);
    /// <summary>Predictions ŷ for each prompt (no gradient).</summary>
    double[] Predict(IReadOnlyList<(RegressionData Examples, double[] Query)> prompts);
}
