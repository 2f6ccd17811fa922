using MathNet.Numerics.LinearAlgebra;

namespace MorIcl.Seed001;

/// <summary>A Monte-Carlo mean with its standard error (sample standard deviation / √count).</summary>
public sealed record MonteCarloEstimate(double Mean, double StandardError, int Count)
{
    /// <summary>|Mean − value| in standard errors.</summary>
    public double ZScore(double value) => Math.Abs(Mean - value) / StandardError;
}

/// <summary>
/// The LSA loss estimated by Monte Carlo: the mean of (hᵀΓx_q − y_q)² over prompts drawn by
/// <see cref="LsaPromptSampler"/>, with its standard error from the same sample (unbiased variance / count).
/// An independent check of the closed form in <see cref="LsaPopulationLoss"/>: it uses only the sampler and the
/// prediction, none of the moment calculations.
/// </summary>
public static class LsaMonteCarlo
{
    /// <summary>The mean squared error of Γ on <paramref name="prompts"/>.</summary>
    public static MonteCarloEstimate Loss(Matrix<double> gamma, IReadOnlyList<LsaPrompt> prompts)
    {
        if (prompts.Count < 2) throw new SpecificationException($"a Monte-Carlo estimate needs at least 2 prompts, got {prompts.Count}");
        // Welford's update: stable mean and variance in one pass.
        double mean = 0, m2 = 0;
        for (int k = 0; k < prompts.Count; k++)
        {
            double e = LsaLayer.Predict(gamma, prompts[k]) - prompts[k].QueryLabel;
            double sq = e * e, delta = sq - mean;
            mean += delta / (k + 1);
            m2 += delta * (sq - mean);
        }
        double variance = m2 / (prompts.Count - 1);
        return new MonteCarloEstimate(mean, Math.Sqrt(variance / prompts.Count), prompts.Count);
    }

    /// <summary>The mean squared error of the layer on <paramref name="count"/> fresh prompts of root seed <paramref name="seed"/>.</summary>
    public static MonteCarloEstimate Loss(LsaDistribution distribution, LsaLayer layer, int count, int seed) =>
        Loss(layer.Gamma, LsaPromptSampler.SampleBatch(distribution, count, seed));
}
