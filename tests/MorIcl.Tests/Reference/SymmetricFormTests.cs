using MorIcl.Em;
using MorIcl.Mixture;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Reference;

/// <summary>
/// docs/math.md §2, symmetric two-component form, against the general K = 2 form with β_2 = −β_1.
/// Derivation: the logit difference of the general E-step is log(π/(1−π)) + 2 y⟨x, β⟩/σ², so
/// γ_1 − γ_2 = tanh(½ · that) = w. The general M-step objective restricted to β_2 = −b is
/// Q(b) = (1/2n) Σ [γ_1 (y − ⟨x,b⟩)² + γ_2 (y + ⟨x,b⟩)²] = (1/2n) Σ (⟨x,b⟩ − w y)² + const, whose
/// gradient ∇Q_1(b) − ∇Q_2(−b) gives: symmetric step with α = ½ (b_1' − b_2') of general steps with 2α.
/// </summary>
public class SymmetricFormTests
{
    [Theory]
    [InlineData(0.5, 1)]
    [InlineData(0.3, 2)]
    [InlineData(0.8, 3)]
    public void TanhWeightsEqualGeneralResponsibilityDifference(double pi, int seed)
    {
        var spec = MixtureSpec.SymmetricTwoComponent(new[] { 0.6, -0.8, 0.0 }, pi, 0.5);
        var data = PromptSampler.Sample(spec, 1100, seed, 0).Examples;
        var beta = new[] { 0.5, -0.5, 0.2 };
        var w = SymmetricGradientEm.Weights(data, beta, 0.5, pi);
        var general = new EmKernels(data, 2);
        var p = new MixtureParameters(new[] { beta, beta.Select(v => -v).ToArray() }, new[] { pi, 1 - pi }, new[] { 0.5, 0.5 });
        general.EStep(p, null, null, null, null);
        for (int i = 0; i < data.N; i++)
            Assert.True(Math.Abs(w[i] - (general.Gamma[i] - general.Gamma[data.N + i])) < 1e-13, $"example {i}");
        Assert.Equal(new EmKernels(data, 2).EStep(p, null, null, null, null), SymmetricGradientEm.LogLikelihood(data, beta, 0.5, pi), 9);
    }

    [Theory]
    [InlineData(0.5, 0.4)]
    [InlineData(0.7, 0.25)]
    public void SymmetricStepIsHalfTheDifferenceOfGeneralStepsWithTwiceTheStepSize(double pi, double alpha)
    {
        var spec = MixtureSpec.SymmetricTwoComponent(new[] { 0.0, 1.0, 0.0, 0.0 }, pi, 0.4);
        var data = PromptSampler.Sample(spec, 900, 5, 0).Examples;
        var beta = new[] { 0.1, 0.7, -0.2, 0.05 };
        var w = SymmetricGradientEm.Weights(data, beta, 0.4, pi);
        var sym = SymmetricGradientEm.GradientStep(data, beta, w, alpha);

        var general = ExpectationMaximisation.Fit(data,
            new MixtureParameters(new[] { beta, beta.Select(v => -v).ToArray() }, new[] { pi, 1 - pi }, new[] { 0.4, 0.4 }),
            new EmOptions { Algorithm = EmAlgorithm.Gradient, InnerSteps = 1, StepSize = 2 * alpha, MaxIterations = 1, Variance = VarianceModel.Known, KnownSigma = 0.4, FixedMixing = new[] { pi, 1 - pi } });
        var b1 = general.Parameters.Beta[0]; var b2 = general.Parameters.Beta[1];
        var half = b1.Zip(b2, (u, v) => (u - v) / 2).ToArray();
        Assert.True(Direct.MaxAbs(sym, half) < 1e-13, $"max diff {Direct.MaxAbs(sym, half)}");
    }

    [Fact]
    public void SymmetricExactMStepSolvesTheRestrictedObjective()
    {
        // β = (XᵀX)⁻¹ Xᵀ(w ⊙ y) minimises Σ (⟨x,b⟩ − w y)²: compare with QR on targets w ⊙ y.
        var spec = MixtureSpec.SymmetricTwoComponent(new[] { 0.6, 0.8 }, 0.5, 0.3);
        var data = PromptSampler.Sample(spec, 500, 2, 0).Examples;
        var w = SymmetricGradientEm.Weights(data, new[] { 0.5, 0.5 }, 0.3, 0.5);
        var target = new RegressionData(data.N, data.D, data.Columns, data.Y.Select((y, i) => w[i] * y).ToArray());
        var expected = Direct.WeightedLeastSquaresQr(target, _ => 1.0);
        Assert.True(Direct.RelErr(SymmetricGradientEm.ExactMStep(data, w), expected) < 1e-11);
    }

    [Fact]
    public void SymmetricGradientEmRecoversBetaStarUpToSign()
    {
        var star = new[] { 0.6, 0.0, -0.8 };
        var spec = MixtureSpec.SymmetricTwoComponent(star, 0.7, 0.1);
        var data = PromptSampler.Sample(spec, 2000, 6, 0).Examples;
        var run = SymmetricGradientEm.Run(data, new[] { 0.3, 0.3, -0.3 }, 0.1, 0.7, outer: 30, inner: 1, alpha: 1.0);
        double err = MorIcl.Baselines.Metrics.ParameterErrorUpToSign(run.Betas[^1], star);
        Assert.True(err <= 3 * 0.1 * Math.Sqrt(3.0 / 2000), $"error {err}");
    }
}
