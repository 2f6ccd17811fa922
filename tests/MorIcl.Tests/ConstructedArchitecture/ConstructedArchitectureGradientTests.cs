using MorIcl.Construction;
using MorIcl.Mixture;
using MorIcl.Tests.Support;
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
    private const double H = 1e-4;

    /// <summary>f'(θ) ≈ (−f(θ+2h) + 8f(θ+h) − 8f(θ−h) + f(θ−2h)) / 12h, error O(h⁴).</summary>
    private static double FivePoint(double u2, double u1, double d1, double d2) => (-u2 + 8 * u1 - 8 * d1 + d2) / (12 * H);
    private const double Tolerance = 1e-6;

    internal static ConstructionSpec SmallSpec => new(2, 2, 0.3, null, 1, 1, 0.5, maxPromptLength: 20);

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

    [Fact]
    public void ParameterGradientMatchesCentralDifferencesOnEveryBlock()
    {
        var model = ConstructedArchitectureModel.Random(Compiler.Compile(SmallSpec), 0.01, seed: 3);
        model.MaxDegreeOfParallelism = 1;
        var batch = Batch(2, 6, 17);
        var grad = new double[model.Parameters.Length];
        double loss = model.LossAndGradient(batch, grad);
        Assert.Equal(loss, Loss(model, batch, out var basePattern), 12);
        var rng = new Random(7);
        int checkedCoords = 0, skipped = 0, blocks = 0;
        double worst = 0;
        string worstBlock = "";
        foreach (var (name, offset, length) in model.Blocks)
        {
            if (length == 0) continue; // an MLP with no hidden units (the first layer) has empty W1, b1, W2
            blocks++;
            // Six uniformly random coordinates (a wrongly zero or wrongly placed gradient shows there) and the
            // block's six largest analytic gradients (so the block's norm is not made of entries at the
            // finite differences' rounding floor, ≈ 1e-12 here).
            var coords = Enumerable.Range(0, 6).Select(_ => offset + rng.Next(length)).ToList();
            coords.AddRange(Enumerable.Range(offset, length).OrderByDescending(c => Math.Abs(grad[c])).ThenBy(c => c).Take(6));
            double diff2 = 0, norm2 = 0;
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
                checkedCoords++; inBlock++;
            }
            Assert.True(inBlock >= 3, $"{name}: only {inBlock} coordinates away from a ReLU kink");
            Assert.True(norm2 > 0, $"{name}: every checked coordinate has a zero gradient");
            double rel = Math.Sqrt(diff2 / norm2);
            if (rel > worst) { worst = rel; worstBlock = name; }
            Assert.True(rel <= Tolerance, $"{name}: relative error {rel:E3} (|g| {Math.Sqrt(norm2):E3})");
        }
        output.WriteLine($"{blocks} blocks, {checkedCoords} coordinates checked, {skipped} skipped near a ReLU kink; worst relative error {worst:E3} ({worstBlock}); loss {loss:G6}");
        Assert.True(skipped <= checkedCoords / 8, $"{skipped} coordinates near a kink");
    }

    [Fact]
    public void InputGradientMatchesCentralDifferences()
    {
        var model = ConstructedArchitectureModel.Random(Compiler.Compile(SmallSpec), 0.01, seed: 4);
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
        output.WriteLine($"input gradient: worst relative error {worst:E3}");
    }
}
