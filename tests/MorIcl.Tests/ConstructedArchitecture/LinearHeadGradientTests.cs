using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Mixture;
using MorIcl.Runtime;
using MorIcl.Tests.LinearAttention;
using MorIcl.Tests.Support;
using MorIcl.Training.Constructed;
using Xunit.Abstractions;

namespace MorIcl.Tests.ConstructedArchitecture;

/// <summary>
/// The trainable architecture with linear heads (<see cref="Activation.Linear"/>): its forward pass
/// equals the executors, and its hand-written backward pass (a_ij = s_ij/N, so dV_j = Σ_i a_ij dY_i,
/// ds_ij = ⟨dY_i, v_j⟩/N, dq_i = Σ_j ds_ij k_j, dk_j = Σ_i ds_ij q_i) equals the five-point finite
/// differences of <see cref="ConstructedArchitectureGradientTests"/> (h = 1e-4, relative error per block
/// ≤ 1e-6; coordinates within 2h of a kink of a remaining ReLU are skipped). Architectures: the small
/// spec with every other attention layer turned linear (the rest stay ReLU/softmax), and a random model
/// of linear heads with one ReLU head. A linear head's zero scores still pass gradient (unlike ReLU's):
/// the last test starts with Q = 0, where every weight a_ij is 0 and only ds_ij = dA_ij/N moves Q.
/// </summary>
public class LinearHeadGradientTests(ITestOutputHelper output)
{
    public static TheoryData<string> Architectures => new() { "alternate-linear", "random-linear" };

    private static TransformerModel Template(string name)
    {
        switch (name)
        {
            case "alternate-linear":
                var template = Compiler.Compile(ConstructedArchitectureGradientTests.SmallSpec);
                var attention = LinearHeads.AttentionLayers(template);
                return LinearHeads.Replace(template, l => Array.IndexOf(attention, l) % 2 == 0);
            case "random-linear":
                return LinearAttentionExecutorTests.Model(11);
            default: throw new ArgumentException(name);
        }
    }

    private static Prompt[] Batch(int count, int n, int seed) => ArchitectureGradientCheck.Batch(count, n, seed);

    private static (int Checked, int Skipped, double Worst) Check(ConstructedArchitectureModel model, Prompt[] batch, Func<string, bool> blocks, int seed)
    {
        var r = ArchitectureGradientCheck.Parameters(model, batch, blocks, seed, allowZeroBlocks: true);
        return (r.Checked, r.Skipped, r.Worst);
    }

    private static bool IsLinearHeadBlock(TransformerModel template, string block)
    {
        // Block names are "layerLL.headH.{Q,K,V}".
        if (!block.Contains(".head")) return false;
        int l = int.Parse(block.Substring(5, 2));
        int h = int.Parse(block.Split('.')[1].Substring(4));
        return ((AttentionLayer)template.Layers[l]).Heads[h].Activation == Activation.Linear;
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void ForwardPassEqualsTheExecutors(string name)
    {
        var template = Template(name);
        Assert.Contains(template.Layers.OfType<AttentionLayer>().SelectMany(a => a.Heads), h => h.Activation == Activation.Linear);
        // The template's own weights as parameters (noise 0), on a random-weight copy for the compiled spec
        // (its construction weights make linear scores of size R², far outside double's comfort).
        var model = name == "random-linear" ? ConstructedArchitectureModel.FromConstruction(template, 0, seed: 1) : ConstructedArchitectureModel.Random(template, 0.01, seed: 2);
        var runnable = name == "random-linear" ? template : null;
        foreach (var p in Batch(3, 9, 41))
        {
            double predicted = model.Predict(p.Examples, p.Query);
            if (runnable is null) { Assert.True(double.IsFinite(predicted)); continue; }
            double reference = ScalarExecutor.Forward(runnable, p.Examples, p.Query).Prediction;
            Assert.True(Math.Abs(predicted - reference) <= 1e-12 * Math.Max(1, Math.Abs(reference)), $"{predicted} vs {reference}");
        }
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void ParameterGradientMatchesFiniteDifferences(string name)
    {
        var template = Template(name);
        var model = ConstructedArchitectureModel.Random(template, 0.01, seed: 3);
        model.MaxDegreeOfParallelism = 1;
        var (n, skipped, worst) = Check(model, Batch(2, 6, 17), _ => true, seed: 7);
        int linearBlocks = model.Blocks.Count(b => IsLinearHeadBlock(template, b.Name));
        output.WriteLine($"{name}: {model.Blocks.Count} blocks ({linearBlocks} of linear heads), {n} coordinates checked, {skipped} skipped near a ReLU kink; worst relative error {worst:E3}");
        Assert.True(linearBlocks >= 3);
        Assert.True(skipped <= n / 8, $"{skipped} coordinates near a kink");
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void InputGradientMatchesFiniteDifferences(string name)
    {
        var model = ConstructedArchitectureModel.Random(Template(name), 0.01, seed: 4);
        double worst = ArchitectureGradientCheck.InputGradient(model, Batch(3, 6, 23));
        output.WriteLine($"{name}: input gradient worst relative error {worst:E3}");
    }

    [Fact]
    public void ZeroScoresStillPassGradient()
    {
        // Q = 0 in every linear head: all their scores and weights are exactly 0, yet ∂L/∂Q ≠ 0.
        var template = Template("random-linear");
        var model = ConstructedArchitectureModel.Random(template, 0.01, seed: 5);
        model.MaxDegreeOfParallelism = 1;
        foreach (var (block, offset, length) in model.Blocks)
            if (IsLinearHeadBlock(template, block) && block.EndsWith(".Q")) Array.Clear(model.Parameters, offset, length);
        var grad = new double[model.Parameters.Length];
        model.LossAndGradient(Batch(2, 6, 17), grad);
        foreach (var (block, offset, length) in model.Blocks.Where(b => IsLinearHeadBlock(template, b.Name) && b.Name.EndsWith(".Q")))
            Assert.True(grad.AsSpan(offset, length).ToArray().Any(g => g != 0), $"{block}: zero gradient at Q = 0");
        var (n, skipped, worst) = Check(model, Batch(2, 6, 17), block => IsLinearHeadBlock(template, block), seed: 9);
        output.WriteLine($"Q = 0: {n} coordinates of linear-head blocks checked, {skipped} skipped; worst relative error {worst:E3}");
    }
}
