using MorIcl.Baselines;
using MorIcl.Em;
using MorIcl.Mixture;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Reference;

/// <summary>
/// Recovery at high SNR (issue criterion): η ≥ 5, d = 5, n = 2000, K = 2 and 3, started near the truth:
/// parameter error up to permutation ≤ 3σ√(d/n). At η ≥ 5 the components barely overlap, so each β̂_k
/// is close to least squares on its own n π_k examples, with error ≈ σ√(d/(n π_k)) ≤ σ√(3d/n) < 3σ√(d/n).
/// </summary>
public class RecoveryTests
{
    [Theory]
    [InlineData(2, EmAlgorithm.Exact, 1)]
    [InlineData(2, EmAlgorithm.Exact, 2)]
    [InlineData(2, EmAlgorithm.Gradient, 3)]
    [InlineData(3, EmAlgorithm.Exact, 4)]
    [InlineData(3, EmAlgorithm.Exact, 5)]
    [InlineData(3, EmAlgorithm.Gradient, 6)]
    public void HighSnrRecoveryWithinThreeSigmaRootDOverN(int k, EmAlgorithm algorithm, int seed)
    {
        const int d = 5, n = 2000;
        var betas = Fixtures.Spec(d, k, 1, seed).Beta;
        double minSep = double.PositiveInfinity;
        for (int i = 0; i < k; i++) for (int j = i + 1; j < k; j++) minSep = Math.Min(minSep, Math.Sqrt(betas[i].Zip(betas[j], (u, v) => (u - v) * (u - v)).Sum()));
        double sigma = minSep / 6; // η = 6 ≥ 5
        var spec = new MixtureSpec(betas, Enumerable.Repeat(1.0 / k, k).ToArray(), sigma);
        Assert.True(spec.Snr >= 5);
        var data = PromptSampler.Sample(spec, n, seed, 0).Examples;
        var fit = ExpectationMaximisation.Fit(data, Fixtures.NearTruth(spec, 0.1 * minSep, seed), new EmOptions
        {
            Algorithm = algorithm, InnerSteps = 2, StepSize = 1.0, MaxIterations = 3000, Tolerance = 1e-10,
            Variance = VarianceModel.PerComponent,
        });
        Assert.True(fit.Converged, $"did not converge in {fit.Iterations} iterations");
        double err = Metrics.ParameterError(fit.Parameters.Beta, spec.Beta.ToArray());
        double bound = 3 * sigma * Math.Sqrt((double)d / n);
        Assert.True(err <= bound, $"K = {k}, seed {seed}: error {err} > 3σ√(d/n) = {bound}");
    }
}
