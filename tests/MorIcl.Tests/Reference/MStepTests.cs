using MorIcl.Em;
using MorIcl.Mixture;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Reference;

/// <summary>docs/math.md §2 M-steps against independent derivations.</summary>
public class MStepTests
{
    [Theory]
    [InlineData(2, 2, VarianceModel.Known, false)]
    [InlineData(5, 3, VarianceModel.PerComponent, false)]
    [InlineData(5, 3, VarianceModel.Shared, true)]
    [InlineData(20, 2, VarianceModel.PerComponent, true)]
    public void OneExactIterationEqualsWeightedLeastSquaresByQr(int d, int k, VarianceModel variance, bool fixedMixing)
    {
        var spec = Fixtures.Spec(d, k, 0.4, 10 + d + k);
        var data = PromptSampler.Sample(spec, 1500, 3, 0).Examples;
        var init = Fixtures.NearTruth(spec, 0.3, 5);
        var options = new EmOptions
        {
            Algorithm = EmAlgorithm.Exact, MaxIterations = 1, Variance = variance,
            KnownSigma = variance == VarianceModel.Known ? 0.4 : null,
            FixedMixing = fixedMixing ? spec.Mixing.ToArray() : null,
        };
        var fit = ExpectationMaximisation.Fit(data, init, options).Parameters;

        var start = variance == VarianceModel.Known ? new MixtureParameters(init.Beta, init.Mixing, Enumerable.Repeat(0.4, k).ToArray()) : init;
        var gamma = Direct.Responsibilities(data, start, out _);
        double totalSq = 0;
        for (int j = 0; j < k; j++)
        {
            var beta = Direct.WeightedLeastSquaresQr(data, i => gamma[i, j]);
            Assert.True(Direct.RelErr(fit.Beta[j], beta) < 1e-10, $"component {j}: rel. error {Direct.RelErr(fit.Beta[j], beta)}");
            double nk = 0, sq = 0;
            for (int i = 0; i < data.N; i++)
            {
                nk += gamma[i, j];
                double r = data.Y[i] - Direct.Dot(data.Row(i), beta);
                sq += gamma[i, j] * r * r;
            }
            totalSq += sq;
            double pi = fixedMixing ? spec.Mixing[j] : nk / data.N;
            Assert.Equal(pi, fit.Mixing[j], 12);
            if (variance == VarianceModel.PerComponent) Assert.Equal(Math.Sqrt(sq / nk), fit.Sigma[j], 10);
        }
        if (variance == VarianceModel.Shared) Assert.All(fit.Sigma, s => Assert.Equal(Math.Sqrt(totalSq / data.N), s, 10));
        if (variance == VarianceModel.Known) Assert.All(fit.Sigma, s => Assert.Equal(0.4, s));
    }

    [Theory]
    [InlineData(3, 2)]
    [InlineData(5, 3)]
    public void InnerGradientStepsFollowEquation14(int d, int k)
    {
        // b ← b − α (1/n) Σ_i γ_ik x_i (⟨x_i, b⟩ − y_i), T times, written as a plain row loop.
        var spec = Fixtures.Spec(d, k, 0.5, 20 + d);
        var data = PromptSampler.Sample(spec, 1300, 4, 0).Examples;
        var init = Fixtures.NearTruth(spec, 0.4, 6);
        const double alpha = 0.7; const int T = 4;
        var fit = ExpectationMaximisation.Fit(data, init, new EmOptions
        {
            Algorithm = EmAlgorithm.Gradient, InnerSteps = T, StepSize = alpha, MaxIterations = 1,
            Variance = VarianceModel.Known, KnownSigma = 0.5, FixedMixing = init.Mixing, RecordTrace = true,
        });
        var start = new MixtureParameters(init.Beta, init.Mixing, Enumerable.Repeat(0.5, k).ToArray());
        var gamma = Direct.Responsibilities(data, start, out _);
        for (int j = 0; j < k; j++)
        {
            var b = (double[])init.Beta[j].Clone();
            for (int t = 0; t < T; t++)
            {
                var g = new double[d];
                for (int i = 0; i < data.N; i++)
                {
                    var x = data.Row(i);
                    double r = Direct.Dot(x, b) - data.Y[i];
                    for (int a = 0; a < d; a++) g[a] += gamma[i, j] * x[a] * r;
                }
                for (int a = 0; a < d; a++) b[a] -= alpha * g[a] / data.N;
                var traced = fit.Trace![0].InnerBetas[t][j];
                Assert.True(Direct.RelErr(traced, b) < 1e-12, $"component {j}, inner step {t + 1}: rel. error {Direct.RelErr(traced, b)}");
            }
        }
    }

    [Fact]
    public void GradientEmWithManyInnerStepsApproachesExactEm()
    {
        // T → ∞ inner steps minimise Q_k exactly (docs/math.md §2): the iterate converges geometrically to the
        // weighted least-squares solution, contraction factor max_k |1 − α λ(G_k/n)| < 1.
        var spec = Fixtures.Spec(5, 3, 0.3, 31);
        var data = PromptSampler.Sample(spec, 2000, 8, 0).Examples;
        var init = Fixtures.NearTruth(spec, 0.2, 9);
        var common = new EmOptions { MaxIterations = 3, Variance = VarianceModel.PerComponent };
        var exact = ExpectationMaximisation.Fit(data, init, common with { Algorithm = EmAlgorithm.Exact });
        double previous = double.PositiveInfinity;
        foreach (int t in new[] { 10, 30, 200 })
        {
            var grad = ExpectationMaximisation.Fit(data, init, common with { Algorithm = EmAlgorithm.Gradient, InnerSteps = t, StepSize = 1.0 });
            double diff = grad.Parameters.MaxAbsDifference(exact.Parameters);
            Assert.True(diff < previous, $"T = {t}: difference {diff} did not shrink (previous {previous})");
            previous = diff;
        }
        Assert.True(previous < 1e-9, $"T = 200: gradient EM differs from exact EM by {previous}");
    }

    [Theory]
    [InlineData(VarianceModel.Known, 2)]
    [InlineData(VarianceModel.Shared, 3)]
    [InlineData(VarianceModel.PerComponent, 3)]
    [InlineData(VarianceModel.PerComponent, 5)]
    public void ExactEmLogLikelihoodNeverDecreases(VarianceModel variance, int k)
    {
        // EM's ascent property (Dempster, Laird, Rubin 1977): ℓ(θ_{t+1}) ≥ ℓ(θ_t), up to rounding.
        var spec = Fixtures.Spec(4, k, 0.6, 40 + k);
        var data = PromptSampler.Sample(spec, 800, 12, 0).Examples;
        var init = Initialisation.RandomGaussian(data, k, 3);
        var fit = ExpectationMaximisation.Fit(data, init, new EmOptions
        {
            Algorithm = EmAlgorithm.Exact, Variance = variance, KnownSigma = variance == VarianceModel.Known ? 0.6 : null, MaxIterations = 200,
        });
        var trace = fit.LogLikelihoodTrace;
        Assert.True(trace.Count > 5);
        for (int t = 1; t < trace.Count; t++)
            Assert.True(trace[t] >= trace[t - 1] - 1e-9 * Math.Abs(trace[t - 1]), $"ℓ decreased at iteration {t}: {trace[t - 1]} → {trace[t]}");
    }

    [Fact]
    public void SingularWeightedGramIsAClearErrorNotNaN()
    {
        // Every example has x_2 = 0: the Gram matrix is singular in every component.
        var rows = Enumerable.Range(0, 50).Select(i => new[] { Math.Sin(i), 0.0 }).ToArray();
        var data = RegressionData.FromRows(rows, rows.Select(r => 2 * r[0]).ToArray());
        var init = MixtureParameters.Uniform(new[] { new[] { 1.0, 0.0 }, new[] { -1.0, 0.0 } }, 1.0);
        var e = Assert.Throws<NumericalException>(() => ExpectationMaximisation.Fit(data, init, new EmOptions { Variance = VarianceModel.Known, KnownSigma = 1 }));
        Assert.Contains("singular", e.Message);
        Assert.Contains("component 1", e.Message);
    }
}
