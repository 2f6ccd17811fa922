using MorIcl.Comparison;
using MorIcl.Em;
using MorIcl.Mixture;
using MorIcl.Training;

namespace MorIcl.Tests.Comparison;

/// <summary>EM as a baseline when n ≤ d (seed 000's n &lt; d regime): gradient EM at a step size that cannot diverge.</summary>
public class SmallPromptEmTests
{
    [Fact]
    public void TheStableStepIsTheInverseOfTheLargestEigenvalueOfTheGramMatrix()
    {
        // Rows (1, 1), (1, −1), (1, 1): XᵀX/3 = [[1, 1/3], [1/3, 1]], eigenvalues 4/3 and 2/3, so α = 3/4.
        var data = RegressionData.FromRows(new[] { new[] { 1.0, 1 }, new[] { 1.0, -1 }, new[] { 1.0, 1 } }, new[] { 0.0, 0, 0 });
        Assert.Equal(0.75, StableStepSize.Of(data), 12);
    }

    [Fact]
    public void EmFromARandomStartStaysBoundedWhenNIsBelowD()
    {
        // d = 10, n = 5, σ = 0.2, unit β: E[y²] ≈ 1.04. Seed 000's α = 0.5 makes α·λ_max(XᵀX/n) ≈ 2.9 > 2,
        // so its gradient EM grows geometrically (checked below); the stable step keeps every prediction
        // within a few label scales.
        var task = new TrainingTask(10, 2, 0.2, new[] { 0.5, 0.5 }, MixtureMode.PerSample, 5, 3);
        var truth = task.Spec();
        var prompts = PromptSampler.SampleBatch(truth, 5, 30, 17);
        var start = ExactEmPredictor.RandomStart(2, 10, 0.2, 5);
        var predictions = prompts.Select(p => ExactEmPredictor.FromStart(p.Examples, p.Query, start, 0.2, MixtureMode.PerSample)).ToArray();
        Assert.All(predictions, v => Assert.True(double.IsFinite(v)));
        double meanSquare = predictions.Select(v => v * v).Average();
        Assert.True(meanSquare < 10, $"mean squared prediction {meanSquare}");

        int diverged = 0;
        foreach (var p in prompts)
        {
            var options = new EmOptions { Algorithm = EmAlgorithm.Gradient, StepSize = 0.5, Variance = VarianceModel.Known, KnownSigma = 0.2, MaxIterations = 200, Tolerance = 1e-8 };
            try { if (ExpectationMaximisation.Fit(p.Examples, start, options).Parameters.Beta.SelectMany(b => b).Max(Math.Abs) > 1e6) diverged++; }
            catch (NumericalException) { diverged++; }
        }
        Assert.True(diverged > 0, "α = 0.5 was expected to diverge on some of these prompts");
    }
}
