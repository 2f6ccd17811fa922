namespace MorIcl.Runtime;

/// <summary>
/// Result of one forward pass on one prompt: the prediction read from the query token, β̂ per
/// component (the symmetric program reports β̂ and −β̂), the certificate, and — when asked for — the
/// residual stream after every layer (<c>Trace[l]</c> is N × D, token-major; index 0 is the embedding).
/// When the model estimates π, <paramref name="Mixing"/> is its last π̂ (read from the query token).
/// </summary>
public sealed record ForwardResult(double Prediction, double[][] Beta, Certificate Certificate, double[][]? Trace, double[]? Mixing = null)
{
    /// <summary>With a trace and the rounding analysis: the bound on |computed − exact| for every element of <see cref="Trace"/> (same layout).</summary>
    public double[][]? ErrorBoundTrace { get; init; }
}
