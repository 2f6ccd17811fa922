using MorIcl.Seed003;

namespace MorIcl.Tests.Seed003;

/// <summary>
/// Seed003Theorem2's inference criterion must reject a wrong ŷ*: held to the best ridge's penalty τ in
/// place of eq. (20)'s mτ/N (different here, N = 5, m = 4), the trained transformer's predictions leave
/// the bound ‖y‖²(L − inf L)/λ_min(M); held to the right target they stay inside it.
/// </summary>
public class Theorem2InferenceBoundTests
{
    [Fact]
    public void TheInferenceBoundRejectsAWrongRidgePenalty()
    {
        var setting = new Seed003Setting(16, 6, 5, 4, 0.1, 10);
        var task = setting.Task(1);
        var loss = new PopulationLoss(task);
        var model = SoftmaxAttentionModel.Initialise(task, setting.H, 1, 1);
        Seed003Training.Adam(model, loss, 0.02, 400, 0, 1);
        var a = model.EffectiveWeights();
        double gap = loss.Gap(a);
        var ridge = new RidgeReference(task);

        var right = Seed003Theorem2Check.InferenceErrors(task, a, ridge.TransformerTarget, gap, loss.GramMinEigenvalue, 50, 1);
        Assert.Equal(0, right.Violations);
        Assert.True(right.WorstRatio <= 1 + 1e-9, $"worst ratio {right.WorstRatio}");

        var wrong = Seed003Theorem2Check.InferenceErrors(task, a, ridge.Best, gap, loss.GramMinEigenvalue, 50, 1);
        Assert.True(wrong.Violations > 0, $"a wrong ŷ* passed: worst ratio {wrong.WorstRatio}");
    }
}
