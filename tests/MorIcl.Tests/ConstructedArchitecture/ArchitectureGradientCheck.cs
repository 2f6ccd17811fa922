using MorIcl.Mixture;
using MorIcl.Tests.Support;
using MorIcl.Training.Constructed;

namespace MorIcl.Tests.ConstructedArchitecture;

/// <summary>
/// The finite-difference check shared by the architecture's gradient tests (the reasoning for the
/// stencil, the step and the kink test is in <see cref="ConstructedArchitectureGradientTests"/>):
/// five-point central differences with h = 1e-4, relative error per block ≤ 1e-6, and coordinates
/// whose ReLU sign pattern changes within 2h skipped.
/// </summary>
internal static class ArchitectureGradientCheck
{
    public const double H = 1e-4;
    public const double Tolerance = 1e-6;

    /// <summary>f'(θ) ≈ (−f(θ+2h) + 8f(θ+h) − 8f(θ−h) + f(θ−2h)) / 12h, error O(h⁴).</summary>
    public static double FivePoint(double u2, double u1, double d1, double d2) => (-u2 + 8 * u1 - 8 * d1 + d2) / (12 * H);

    public static Prompt[] Batch(int count, int n, int seed) =>
        Enumerable.Range(0, count).Select(b => PromptSampler.Sample(Fixtures.Spec(2, 2, 0.3, 5), n, seed, b)).ToArray();

    /// <summary>Mean squared error of the batch, with a hash of every prompt's ReLU sign pattern.</summary>
    public static double Loss(ConstructedArchitectureModel m, Prompt[] batch, out ulong pattern)
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
    /// Per non-empty block selected by <paramref name="blocks"/>: six random coordinates (a wrongly zero
    /// or wrongly placed gradient shows there) and the six largest analytic gradients (so the block's norm
    /// is not made of entries at the rounding floor) against the stencil. A block whose checked analytic
    /// gradients are all 0 fails unless <paramref name="allowZeroBlocks"/>, and then its finite
    /// differences must be ≤ 1e-10. Returns (blocks, coordinates checked, skipped, worst, worst block).
    /// </summary>
    public static (int Blocks, int Checked, int Skipped, double Worst, string WorstBlock) Parameters(
        ConstructedArchitectureModel model, Prompt[] batch, Func<string, bool> blocks, int seed, bool allowZeroBlocks)
    {
        var grad = new double[model.Parameters.Length];
        double loss = model.LossAndGradient(batch, grad);
        Assert.Equal(loss, Loss(model, batch, out var basePattern), 12);
        var rng = new Random(seed);
        int blockCount = 0, checkedCoords = 0, skipped = 0;
        double worst = 0;
        string worstBlock = "";
        foreach (var (name, offset, length) in model.Blocks)
        {
            if (length == 0 || !blocks(name)) continue; // an MLP with no hidden units has empty W1, b1, W2
            blockCount++;
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
            if (norm2 == 0)
            {
                Assert.True(allowZeroBlocks, $"{name}: every checked coordinate has a zero gradient");
                Assert.True(maxFd <= 1e-10, $"{name}: analytic gradient 0, finite differences up to {maxFd:E3}");
                continue;
            }
            double rel = Math.Sqrt(diff2 / norm2);
            if (rel > worst) { worst = rel; worstBlock = name; }
            Assert.True(rel <= Tolerance, $"{name}: relative error {rel:E3} (|g| {Math.Sqrt(norm2):E3})");
        }
        return (blockCount, checkedCoords, skipped, worst, worstBlock);
    }

    /// <summary>∂ŷ/∂x_query against the stencil on each prompt; returns the worst relative error.</summary>
    public static double InputGradient(ConstructedArchitectureModel model, IEnumerable<Prompt> prompts)
    {
        double worst = 0;
        foreach (var p in prompts)
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
        return worst;
    }
}
