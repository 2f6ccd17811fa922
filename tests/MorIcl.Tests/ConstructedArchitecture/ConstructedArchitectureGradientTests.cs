using MorIcl.Construction;
using MorIcl.Training.Constructed;
using Xunit.Abstractions;

namespace MorIcl.Tests.ConstructedArchitecture;

/// <summary>
/// The hand-written backward pass against central finite differences, in double, on a small spec
/// (d = 2, K = 2, S = 1, T = 1, n = 6) from a random start whose scale (0.01) keeps every activation
/// O(1) (the embedding holds positional digits and their squares, so larger scales blow up across the
/// layers). Step: the deepest blocks have gradients ≈ 1e-5 while the loss is O(1), so a central
/// difference with h = 1e-6 has a rounding floor ε·|L|/h ≈ 1e-10 — relative error ≈ 1e-5 there, not
/// 1e-6. The check therefore uses the fourth-order five-point stencil with h = 1e-4: truncation
/// O(h⁴) ≈ 1e-16, rounding floor ≈ 1e-12. ReLU kinks: the forward pass can hash the sign of every
/// ReLU argument (ReLU-head scores, MLP pre-activations); a coordinate whose sign pattern at any
/// stencil point θ ± h, θ ± 2h differs from the one at θ is within 2h of a kink, where the loss is not
/// differentiable and the stencil meaningless — it is skipped (and counted; the test requires almost
/// all coordinates to be usable; about 7 % are skipped, mostly weights on the large positional features).
/// </summary>
public class ConstructedArchitectureGradientTests(ITestOutputHelper output)
{
    internal static ConstructionSpec SmallSpec => new(2, 2, 0.3, null, 1, 1, 0.5, maxPromptLength: 20);

    [Fact]
    public void ParameterGradientMatchesCentralDifferencesOnEveryBlock()
    {
        var model = ConstructedArchitectureModel.Random(Compiler.Compile(SmallSpec), 0.01, seed: 3);
        model.MaxDegreeOfParallelism = 1;
        var (blocks, checkedCoords, skipped, worst, worstBlock) = ArchitectureGradientCheck.Parameters(model, ArchitectureGradientCheck.Batch(2, 6, 17), _ => true, seed: 7, allowZeroBlocks: false);
        output.WriteLine($"{blocks} blocks, {checkedCoords} coordinates checked, {skipped} skipped near a ReLU kink; worst relative error {worst:E3} ({worstBlock})");
        Assert.True(skipped <= checkedCoords / 8, $"{skipped} coordinates near a kink");
    }

    [Fact]
    public void InputGradientMatchesCentralDifferences()
    {
        var model = ConstructedArchitectureModel.Random(Compiler.Compile(SmallSpec), 0.01, seed: 4);
        double worst = ArchitectureGradientCheck.InputGradient(model, ArchitectureGradientCheck.Batch(3, 6, 23));
        output.WriteLine($"input gradient: worst relative error {worst:E3}");
    }
}
