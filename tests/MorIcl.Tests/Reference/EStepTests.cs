using MorIcl.Em;
using MorIcl.Mixture;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Reference;

/// <summary>docs/math.md §2 E-step: the log-sum-exp responsibilities equal Bayes' rule computed directly.</summary>
public class EStepTests
{
    [Theory]
    [InlineData(2, 1, 0.5, 1)]
    [InlineData(3, 2, 0.3, 2)]
    [InlineData(5, 3, 1.0, 3)]
    [InlineData(4, 5, 0.7, 4)]
    [InlineData(20, 3, 0.2, 5)]
    public void ResponsibilitiesAndLogLikelihoodEqualDirectBayes(int d, int k, double sigma, int seed)
    {
        var spec = Fixtures.Spec(d, k, sigma, seed);
        // n = 2500 crosses the kernel's block boundary (256) several times.
        var prompt = PromptSampler.Sample(spec, 2500, seed, 0);
        var rng = new Random(seed);
        var p = new MixtureParameters(
            spec.Beta.Select(b => b.Select(v => v + 0.3 * (rng.NextDouble() - 0.5)).ToArray()).ToArray(),
            Dirichletish(k, rng), Enumerable.Range(0, k).Select(_ => sigma * (0.5 + rng.NextDouble())).ToArray());
        var kernels = new EmKernels(prompt.Examples, k);
        double logLik = kernels.EStep(p, null, null, null, null);
        var direct = Direct.Responsibilities(prompt.Examples, p, out var directLogLik);
        double maxErr = 0;
        for (int i = 0; i < prompt.N; i++)
            for (int j = 0; j < k; j++) maxErr = Math.Max(maxErr, Math.Abs(kernels.Gamma[j * prompt.N + i] - direct[i, j]));
        Assert.True(maxErr < 1e-12, $"max |γ − γ_direct| = {maxErr}");
        Assert.True(Math.Abs(logLik - directLogLik) <= 1e-10 * Math.Abs(directLogLik), $"ℓ = {logLik}, direct {directLogLik}");
    }

    [Fact]
    public void ExtremeResidualsGiveFiniteWeightsAndLikelihood()
    {
        // Residuals of 1e3 with σ = 1e-3: every density underflows to 0, so direct Bayes is 0/0.
        var data = RegressionData.FromRows(new[] { new[] { 1.0 }, new[] { -2.0 } }, new[] { 1000.0, -1000.0 });
        var p = new MixtureParameters(new[] { new[] { 0.0 }, new[] { 1.0 } }, new[] { 0.5, 0.5 }, new[] { 1e-3, 1e-3 });
        var kernels = new EmKernels(data, 2);
        double logLik = kernels.EStep(p, null, null, null, null);
        Assert.True(double.IsFinite(logLik));
        Assert.All(kernels.Gamma, g => Assert.True(double.IsFinite(g) && g >= 0 && g <= 1));
        // Component 2 is closer for both rows (residuals 999 and 998 vs 1000): it takes all the weight.
        Assert.Equal(1.0, kernels.Gamma[2], 12);
        Assert.Equal(1.0, kernels.Gamma[3], 12);
        // ℓ = Σ_i [log ½ − log σ − ½ log 2π − r_i²/(2σ²)] with the closer residual (the other term is e^-huge).
        double expected = 0;
        foreach (var r in new[] { 999.0, 998.0 }) expected += Math.Log(0.5) - Math.Log(1e-3) - 0.5 * Math.Log(2 * Math.PI) - r * r / (2e-6);
        Assert.Equal(expected, logLik, 6);
    }

    private static double[] Dirichletish(int k, Random rng)
    {
        var w = Enumerable.Range(0, k).Select(_ => 0.2 + rng.NextDouble()).ToArray();
        double s = w.Sum();
        return w.Select(v => v / s).ToArray();
    }
}
