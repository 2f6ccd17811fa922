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
    private const double H = 1e-4;
    private const double Tolerance = 1e-6;
    private static double FivePoint(double u2, double u1, double d1, double d2) => (-u2 + 8 * u1 - 8 * d1 + d2) / (12 * H);

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

    private static Prompt[] Batch(int count, int n, int seed) =>
        Enumerable.Range(0, count).Select(b => PromptSampler.Sample(Fixtures.Spec(2, 2, 0.3, 5), n, seed, b)).ToArray();

    private static double Loss(ConstructedArchitectureModel m, Prompt[] batch, out ulong pattern)
    {
        double loss = 0;
        pattern = 0;
        foreach (var p in batch)
        {
            double r = m.PredictWithPattern(p.Examples, p.Query, out var pat) - p.QueryLabel;
            loss += r * r;
            pattern = pattern * 1099511628211UL ^ pat;
        }
        return loss / batch.Length;
    }

    /// <summary>
    /// Per block: six random coordinates and the six largest analytic gradients against the stencil.
    /// Returns (coordinates checked, skipped, worst relative error). A block whose checked analytic
    /// gradients are all 0 must have finite differences ≤ 1e-10 there.
    /// </summary>
    private static (int Checked, int Skipped, double Worst) Check(ConstructedArchitectureModel model, Prompt[] batch, Func<string, bool> blocks, int seed)
    {
        var grad = new double[model.Parameters.Length];
        double loss = model.LossAndGradient(batch, grad);
        Assert.Equal(loss, Loss(model, batch, out var basePattern), 12);
        var rng = new Random(seed);
        int checkedCoords = 0, skipped = 0;
        double worst = 0;
        foreach (var (name, offset, length) in model.Blocks)
        {
            if (length == 0 || !blocks(name)) continue;
            var coords = Enumerable.Range(0, 6).Select(_ => offset + rng.Next(length)).ToList();
            coords.AddRange(Enumerable.Range(offset, length).OrderByDescending(c => Math.Abs(grad[c])).ThenBy(c => c).Take(6));
            double diff2 = 0, norm2 = 0, maxFd = 0;
            int inBlock = 0;
            foreach (int c in coords.Distinct())
            {
                double saved = model.Parameters[c];
                double Eval(double step, out ulong pattern) { model.Parameters[c] = saved + step; return Loss(model, batch, out pattern); }
                double u2 = Eval(2 * H, out var p1), u1 = Eval(H, out var p2), d1 = Eval(-H, out var p3), d2 = Eval(-2 * H, out var p4);
                model.Parameters[c] = saved;
                if (p1 != basePattern || p2 != basePattern || p3 != basePattern || p4 != basePattern) { skipped++; continue; }
                double fd = FivePoint(u2, u1, d1, d2);
                diff2 += (fd - grad[c]) * (fd - grad[c]);
                norm2 += grad[c] * grad[c];
                maxFd = Math.Max(maxFd, Math.Abs(fd));
                checkedCoords++; inBlock++;
            }
            Assert.True(inBlock >= 3, $"{name}: only {inBlock} coordinates away from a ReLU kink");
            if (norm2 == 0) { Assert.True(maxFd <= 1e-10, $"{name}: analytic gradient 0, finite differences up to {maxFd:E3}"); continue; }
            double rel = Math.Sqrt(diff2 / norm2);
            worst = Math.Max(worst, rel);
            Assert.True(rel <= Tolerance, $"{name}: relative error {rel:E3} (|g| {Math.Sqrt(norm2):E3})");
        }
        return (checkedCoords, skipped, worst);
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
        double worst = 0;
        foreach (var p in Batch(3, 6, 23))
        {
            var g = model.InputGradient(p.Examples, p.Query);
            model.PredictWithPattern(p.Examples, p.Query, out var basePattern);
            double diff2 = 0, norm2 = 0;
            for (int a = 0; a < g.Length; a++)
            {
                double Eval(double step, out ulong pattern)
                {
                    var q = (double[])p.Query.Clone();
                    q[a] += step;
                    return model.PredictWithPattern(p.Examples, q, out pattern);
                }
                double u2 = Eval(2 * H, out var p1), u1 = Eval(H, out var p2), d1 = Eval(-H, out var p3), d2 = Eval(-2 * H, out var p4);
                Assert.True(p1 == basePattern && p2 == basePattern && p3 == basePattern && p4 == basePattern, "query coordinate within 2h of a ReLU kink");
                double fd = FivePoint(u2, u1, d1, d2);
                diff2 += (fd - g[a]) * (fd - g[a]);
                norm2 += g[a] * g[a];
            }
            double rel = Math.Sqrt(diff2 / norm2);
            worst = Math.Max(worst, rel);
            Assert.True(rel <= Tolerance, $"input gradient relative error {rel:E3} (|g| {Math.Sqrt(norm2):E3})");
        }
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
