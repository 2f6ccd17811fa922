using MorIcl.Mixture;

namespace MorIcl.Training;

/// <summary>
/// When a training run has diverged: the loss is not finite, or it exceeds <see cref="Factor"/> times
/// its start, the larger of the first step's loss and E[y²] = Σ_k π_k ‖β_k‖² + σ² (the loss of
/// predicting 0, what an untrained model does). A model that is worse than predicting 0 by that
/// factor has diverged by any reading, and batch noise cannot get there (one squared error exceeds
/// 100·E[y²] with probability P(χ²₁ &gt; 100) ≈ 2e−23); the second term guards against a first batch
/// that happened to be easy.
/// </summary>
public static class Divergence
{
    public const double Factor = 100;

    /// <summary>E[y²] of the task's labels.</summary>
    public static double LabelSecondMoment(MixtureSpec spec) =>
        Enumerable.Range(0, spec.K).Sum(k => spec.Mixing[k] * spec.Beta[k].Sum(b => b * b)) + spec.Sigma * spec.Sigma;

    /// <summary>Null while the run is healthy, else what went wrong (for the message).</summary>
    public static string? Check(double loss, double firstLoss, double labelSecondMoment)
    {
        if (!double.IsFinite(loss)) return $"the loss is {loss}";
        double start = Math.Max(firstLoss, labelSecondMoment);
        return loss > Factor * start ? $"the loss {loss:G3} exceeds {Factor:G3} × its start {start:G3}" : null;
    }
}

/// <summary>A training run stopped because it diverged; the last good checkpoint (at <see cref="LastGoodStep"/>) is kept.</summary>
public sealed class DivergenceException : MorIclException
{
    public long Step { get; }
    public long LastGoodStep { get; }
    public DivergenceException(string message, long step, long lastGoodStep) : base(message) { Step = step; LastGoodStep = lastGoodStep; }
}
