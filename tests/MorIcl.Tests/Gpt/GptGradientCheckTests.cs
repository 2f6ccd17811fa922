using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Tests.Support;
using MorIcl.Training;
using MorIcl.Training.Gpt;
using Xunit.Abstractions;

namespace MorIcl.Tests.Gpt;

/// <summary>
/// The hand-written backward pass against central finite differences, in double, on small random
/// models (init scale 0.5 so LayerNorm, softmax and GELU are far from linear).
/// Finite differences: fourth-order central stencil, h = 1e-4. Criterion: |g − fd| ≤ 1e-6 · max(|g|, |fd|)
/// for every parameter whose derivative is not negligible (max(|g|, |fd|) ≥ 1e-6 · ‖g‖∞), and
/// |g − fd| ≤ 1e-9 · max(‖g‖∞, 1) for the rest (e.g. the key biases, whose gradient is exactly 0:
/// softmax is invariant to adding the same score to a row).
/// </summary>
public sealed class GptGradientCheckTests(ITestOutputHelper output)
{
    private const double Step = 1e-4;

    internal static Prompt[] Batch(int d, int n, int count, int seed, double sigma = 0.1) =>
        PromptSampler.SampleBatch(Fixtures.Spec(d, 2, sigma, seed), n, count, seed);

    private static double Loss(GptModel model, Prompt[] batch)
    {
        var yhat = model.Predict(batch.Select(p => (p.Examples, p.Query)).ToArray());
        double s = 0;
        for (int i = 0; i < batch.Length; i++) s += (yhat[i] - batch[i].QueryLabel) * (yhat[i] - batch[i].QueryLabel);
        return s / batch.Length;
    }

    /// <summary>Fourth-order central difference (f(−2h) − 8f(−h) + 8f(h) − f(2h)) / 12h: truncation O(h⁴), rounding ~ ε·f/h.</summary>
    private static double FiniteDifference(Func<double, double> f, double x) =>
        (f(x - 2 * Step) - 8 * f(x - Step) + 8 * f(x + Step) - f(x + 2 * Step)) / (12 * Step);

    [Theory]
    [InlineData(3, 2, 8, 2, 5, 3, 11)]
    [InlineData(2, 1, 6, 3, 4, 2, 12)]
    [InlineData(4, 2, 8, 1, 7, 9, 13)]    // 9 prompts: two chunks, the second partial
    public void Gradient_matches_central_differences_for_every_parameter(int d, int layers, int width, int heads, int n, int batchSize, int seed)
    {
        var model = new GptModel(new GptConfig(d, layers, width, heads, initScale: 0.5), seed, Precision.Double);
        var batch = Batch(d, n, batchSize, seed);
        var g = new double[model.Parameters.Length];
        double loss = model.LossAndGradient(batch, g);
        Assert.Equal(Loss(model, batch), loss, 12);
        double gMax = g.Max(Math.Abs);
        var theta = model.Parameters;
        var worstPerBlock = new List<string>();
        int failures = 0;
        foreach (var (name, offset, length) in model.Blocks)
        {
            double worst = 0;
            for (int i = offset; i < offset + length; i++)
            {
                double saved = theta[i];
                double fd = FiniteDifference(v => { theta[i] = v; return Loss(model, batch); }, saved);
                theta[i] = saved;
                double scale = Math.Max(Math.Abs(g[i]), Math.Abs(fd));
                double err = Math.Abs(g[i] - fd);
                if (scale >= 1e-6 * gMax)
                {
                    double rel = err / scale;
                    worst = Math.Max(worst, rel);
                    if (rel > 1e-6) { failures++; output.WriteLine($"FAIL {name}[{i - offset}]: {g[i]:R} vs {fd:R}"); }
                }
                else if (err > 1e-9 * Math.Max(gMax, 1)) { failures++; output.WriteLine($"FAIL {name}[{i - offset}]: {g[i]:R} vs {fd:R} (small)"); }
            }
            worstPerBlock.Add($"{name}: {worst:E2}");
        }
        output.WriteLine($"loss {loss:R}, ‖g‖∞ {gMax:E3}, {model.Parameters.Length} parameters; worst relative error per block:");
        foreach (var line in worstPerBlock) output.WriteLine("  " + line);
        Assert.Equal(0, failures);
    }

    [Fact]
    public void Input_gradient_matches_central_differences()
    {
        const int d = 3;
        var model = new GptModel(new GptConfig(d, 2, 8, 2, initScale: 0.5), 5, Precision.Double);
        var prompt = Batch(d, 5, 1, 21)[0];
        var grad = model.InputGradient(prompt.Examples, prompt.Query);
        Assert.Equal(d, grad.Length);
        for (int a = 0; a < d; a++)
        {
            var q = (double[])prompt.Query.Clone();
            double fd = FiniteDifference(v => { q[a] = v; return model.Predict(new[] { (prompt.Examples, q) })[0]; }, prompt.Query[a]);
            output.WriteLine($"∂ŷ/∂x_q[{a}] = {grad[a]:R}, finite difference {fd:R}");
            Assert.True(Math.Abs(grad[a] - fd) <= 1e-6 * Math.Max(Math.Abs(fd), 1e-3), $"coordinate {a}: {grad[a]} vs {fd}");
        }
    }
}
