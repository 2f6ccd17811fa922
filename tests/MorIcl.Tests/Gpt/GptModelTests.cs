using System.Runtime.Intrinsics;
using MorIcl.Training;
using MorIcl.Training.Gpt;
using Xunit.Abstractions;

namespace MorIcl.Tests.Gpt;

public sealed class GptModelTests(ITestOutputHelper output)
{
    [Fact]
    public void Named_sizes_follow_the_harness_and_the_descriptor_is_canonical()
    {
        var tiny = GptConfig.Named("tiny", 10);
        Assert.Equal((3, 64, 2), (tiny.Layers, tiny.Width, tiny.Heads));
        var small = GptConfig.Named("Small", 10);
        Assert.Equal((6, 128, 4), (small.Layers, small.Width, small.Heads));
        var model = new GptModel(tiny, 1);
        Assert.Equal(new ModelDescriptor("gpt2", "{\"d\":10,\"L\":3,\"D\":64,\"H\":2,\"initScale\":0.02}", Precision.Float), model.Descriptor);
        Assert.Equal("read_in.W", model.Blocks[0].Name);
        Assert.Contains(model.Blocks, b => b.Name == "block0.attn.Wq");
        Assert.Contains(model.Blocks, b => b.Name == "block2.mlp.W2");
        // blocks tile the parameter vector
        int next = 0;
        foreach (var b in model.Blocks) { Assert.Equal(next, b.Offset); next += b.Length; }
        Assert.Equal(model.Parameters.Length, next);
        // D(d+1) + 2D + L(12D² + 13D) + 3D + 1
        int D = 64, L = 3;
        Assert.Equal(D * 11 + 2 * D + L * (12 * D * D + 13 * D) + 3 * D + 1, model.Parameters.Length);
    }

    [Fact]
    public void Initialisation_is_seeded_with_the_stated_scale()
    {
        var a = new GptModel(GptConfig.Small(10), 7);
        var b = new GptModel(GptConfig.Small(10), 7);
        var c = new GptModel(GptConfig.Small(10), 8);
        Assert.Equal(a.Parameters, b.Parameters);
        Assert.NotEqual(a.Parameters, c.Parameters);
        var (off, len) = a.Block("block3.mlp.W1");
        var w = a.Parameters.AsSpan(off, len).ToArray();
        double sd = Math.Sqrt(w.Select(v => v * v).Average());
        Assert.InRange(sd, 0.02 * 0.98, 0.02 * 1.02);           // 65 536 draws: sd within ±2 %
        Assert.All(a.Parameters.AsSpan(a.Block("block3.mlp.b1").Offset, a.Block("block3.mlp.b1").Length).ToArray(), v => Assert.Equal(0.0, v));
        Assert.All(a.Parameters.AsSpan(a.Block("ln_f.gamma").Offset, 128).ToArray(), v => Assert.Equal(1.0, v));
    }

    [Theory]
    [InlineData("huge", "unknown GPT size 'huge'")]
    public void Unknown_size_names_the_problem(string name, string message)
    {
        var e = Assert.Throws<SpecificationException>(() => GptConfig.Named(name, 3));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Bad_configurations_name_the_problem()
    {
        Assert.Contains("D = 10 is not divisible by the number of heads H = 4", Assert.Throws<SpecificationException>(() => new GptConfig(3, 2, 10, 4)).Message);
        Assert.Contains("input dimension d must be at least 1, got 0", Assert.Throws<SpecificationException>(() => new GptConfig(0, 2, 8, 2)).Message);
        Assert.Contains("number of layers L must be at least 1", Assert.Throws<SpecificationException>(() => new GptConfig(3, 0, 8, 2)).Message);
        Assert.Contains("number of heads H must be at least 1", Assert.Throws<SpecificationException>(() => new GptConfig(3, 1, 8, 0)).Message);
        Assert.Contains("initial weight scale", Assert.Throws<SpecificationException>(() => new GptConfig(3, 1, 8, 2, initScale: -1)).Message);
        Assert.Contains("input dimension d must be at least 1", Assert.Throws<SpecificationException>(() => GptConfig.Tiny(0)).Message);
        var model = new GptModel(new GptConfig(3, 1, 8, 2), 1);
        var wrong = GptGradientCheckTests.Batch(4, 5, 2, 1);
        Assert.Contains("the model expects d = 3", Assert.Throws<SpecificationException>(() => model.LossAndGradient(wrong, new double[model.Parameters.Length])).Message);
        Assert.Contains("gradient has length 3", Assert.Throws<SpecificationException>(() => model.LossAndGradient(GptGradientCheckTests.Batch(3, 5, 2, 1), new double[3])).Message);
    }

    [Fact]
    public void Float_and_double_agree()
    {
        var config = new GptConfig(5, 2, 32, 4, initScale: 0.2);
        var batch = GptGradientCheckTests.Batch(5, 20, 19, 3);
        var f = new GptModel(config, 4, Precision.Float);
        var d = new GptModel(config, 4, Precision.Double);
        var gf = new double[f.Parameters.Length]; var gd = new double[d.Parameters.Length];
        double lf = f.LossAndGradient(batch, gf), ld = d.LossAndGradient(batch, gd);
        double relLoss = Math.Abs(lf - ld) / ld;
        double gScale = gd.Max(Math.Abs), gErr = gf.Zip(gd, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"loss float {lf:R}, double {ld:R}, relative difference {relLoss:E2}; gradient max |Δ| / ‖g‖∞ = {gErr / gScale:E2}");
        Assert.True(relLoss < 1e-4, $"relative loss difference {relLoss}");
        Assert.True(gErr / gScale < 1e-3, $"gradient difference {gErr / gScale}");
    }

    [Theory]
    [InlineData(Precision.Float)]
    [InlineData(Precision.Double)]
    public void Gradients_are_bit_identical_for_any_thread_count(Precision precision)
    {
        var config = new GptConfig(4, 2, 32, 2, initScale: 0.1);
        var batch = GptGradientCheckTests.Batch(4, 12, 37, 9);     // 5 chunks, the last partial
        var model = new GptModel(config, 2, precision);
        var g1 = new double[model.Parameters.Length]; var gAll = new double[model.Parameters.Length];
        model.MaxDegreeOfParallelism = 1;
        double l1 = model.LossAndGradient(batch, g1);
        model.MaxDegreeOfParallelism = -1;
        double lAll = model.LossAndGradient(batch, gAll);
        model.MaxDegreeOfParallelism = 3;
        var g3 = new double[model.Parameters.Length];
        double l3 = model.LossAndGradient(batch, g3);
        Assert.Equal(BitConverter.DoubleToInt64Bits(l1), BitConverter.DoubleToInt64Bits(lAll));
        Assert.Equal(BitConverter.DoubleToInt64Bits(l1), BitConverter.DoubleToInt64Bits(l3));
        Assert.True(g1.AsSpan().SequenceEqual(gAll) && g1.AsSpan().SequenceEqual(g3), "gradients differ between thread counts");
    }

    [Fact]
    public void Predict_matches_the_loss_and_is_independent_of_batching()
    {
        var model = new GptModel(new GptConfig(3, 2, 16, 2, initScale: 0.3), 6, Precision.Double);
        var batch = GptGradientCheckTests.Batch(3, 9, 13, 4);
        var all = model.Predict(batch.Select(p => (p.Examples, p.Query)).ToArray());
        for (int i = 0; i < batch.Length; i += 5)
            Assert.Equal(all[i], model.Predict(new[] { (batch[i].Examples, batch[i].Query) })[0], 12);
        var g = new double[model.Parameters.Length];
        double loss = model.LossAndGradient(batch, g);
        Assert.Equal(batch.Select((p, i) => (all[i] - p.QueryLabel) * (all[i] - p.QueryLabel)).Average(), loss, 12);
    }

    [Theory]
    [InlineData(1, 1, 1)] [InlineData(7, 5, 3)] [InlineData(13, 33, 17)] [InlineData(41, 41, 32)] [InlineData(6, 48, 70)] [InlineData(20, 17, 1)]
    public void Matrix_product_matches_the_definition(int m, int n, int k)
    {
        var rng = new Random(m * 1000 + n * 10 + k);
        var a = Enumerable.Range(0, m * k).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var b = Enumerable.Range(0, k * n + 3).Select(_ => rng.NextDouble() - 0.5).ToArray();
        foreach (bool transposed in new[] { false, true })
            foreach (bool accumulate in new[] { false, true })
            {
                int ars = transposed ? 1 : k, acs = transposed ? m : 1;
                var c = Enumerable.Range(0, m * (n + 2)).Select(_ => 1.0).ToArray();
                GptGemm<double>.Multiply(m, n, k, a, ars, acs, b, n, c, n + 2, accumulate);
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n + 2; j++)
                    {
                        double expected = j >= n ? 1 : (accumulate ? 1 : 0) + Enumerable.Range(0, k).Sum(kk => a[i * ars + kk * acs] * b[kk * n + j]);
                        Assert.True(Math.Abs(expected - c[i * (n + 2) + j]) <= 1e-12, $"C[{i},{j}] = {c[i * (n + 2) + j]}, expected {expected}");
                    }
            }
        output.WriteLine($"Vector512 accelerated: {Vector512.IsHardwareAccelerated}");
    }
}
