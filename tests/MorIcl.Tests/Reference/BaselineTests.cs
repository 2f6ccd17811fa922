using MorIcl.Baselines;
using MorIcl.Em;
using MorIcl.Mixture;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Reference;

public class BaselineTests
{
    [Fact]
    public void OlsEqualsUnweightedLeastSquaresAndRecoversALinearModel()
    {
        var spec = new MixtureSpec(new[] { new[] { 1.0, -2.0, 0.5 } }, new[] { 1.0 }, 0.01);
        var p = PromptSampler.Sample(spec, 400, 1, 0);
        var ols = OrdinaryLeastSquares.Fit(p.Examples);
        Assert.True(Direct.RelErr(ols, Direct.WeightedLeastSquaresQr(p.Examples, _ => 1)) < 1e-12);
        Assert.True(Direct.MaxAbs(ols, spec.Beta[0]) < 5 * 0.01 * Math.Sqrt(3.0 / 400) * 3);
    }

    [Fact]
    public void PerSampleOracleIsTheMixtureMean()
    {
        var spec = new MixtureSpec(new[] { new[] { 1.0, 0.0 }, new[] { 0.0, 1.0 } }, new[] { 0.3, 0.7 }, 0.5);
        var p = PromptSampler.Sample(spec, 10, 1, 0);
        Assert.Equal(0.3 * p.Query[0] + 0.7 * p.Query[1], OraclePredictor.Predict(spec, p), 14);
    }

    [Fact]
    public void PerPromptOraclePosteriorEqualsDirectBayes()
    {
        var spec = Fixtures.Spec(3, 3, 1.0, 4, new[] { 0.2, 0.5, 0.3 }, MixtureMode.PerPrompt);
        var p = PromptSampler.Sample(spec, 5, 2, 0); // short prompt: the posterior is not degenerate
        var post = OraclePredictor.PromptPosterior(MixtureParameters.FromSpec(spec), p.Examples);
        var direct = new double[3];
        for (int k = 0; k < 3; k++)
        {
            direct[k] = spec.Mixing[k];
            for (int i = 0; i < p.N; i++) direct[k] *= Direct.Normal(p.Examples.Y[i] - Direct.Dot(p.Examples.Row(i), spec.Beta[k]), 1.0);
        }
        double s = direct.Sum();
        for (int k = 0; k < 3; k++) Assert.Equal(direct[k] / s, post[k], 13);
        double expected = Enumerable.Range(0, 3).Sum(k => direct[k] / s * Direct.Dot(p.Query, spec.Beta[k]));
        Assert.Equal(expected, OraclePredictor.Predict(spec, p), 13);
    }

    [Fact]
    public void OracleHasTheSmallestMseOnAverage()
    {
        // Per-prompt, long prompts: the posterior identifies the component, and the oracle beats OLS.
        var spec = Fixtures.Spec(3, 2, 0.5, 5, mode: MixtureMode.PerSample);
        var prompts = PromptSampler.SampleBatch(spec, 20, 3000, 3);
        var labels = prompts.Select(p => p.QueryLabel).ToArray();
        var oracle = prompts.Select(p => OraclePredictor.Predict(spec, p)).ToArray();
        var ols = prompts.Select(OrdinaryLeastSquares.Predict).ToArray();
        Assert.True(Metrics.ExcessMse(ols, oracle, labels) > 0);
    }

    [Fact]
    public void ParameterErrorIsMinimisedOverPermutationsAndSign()
    {
        var truth = new[] { new[] { 1.0, 0.0 }, new[] { 0.0, 1.0 }, new[] { -1.0, 0.0 } };
        var est = new[] { new[] { -1.0, 0.1 }, new[] { 1.0, 0.0 }, new[] { 0.0, 1.3 } };
        Assert.Equal(0.3, Metrics.ParameterError(est, truth), 12);
        Assert.Equal(0.0, Metrics.ParameterErrorUpToSign(new[] { -1.0, 2.0 }, new[] { 1.0, -2.0 }), 14);
        Assert.Throws<SpecificationException>(() => Metrics.ParameterError(est, truth.Take(2).ToArray()));
    }
}
