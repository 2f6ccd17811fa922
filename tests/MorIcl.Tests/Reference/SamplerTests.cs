using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Reference;

public class SamplerTests
{
    [Fact]
    public void SameSeedSameNumbersAndParallelBatchEqualsSequential()
    {
        var spec = Fixtures.Spec(4, 3, 0.5, 1);
        var a = PromptSampler.Sample(spec, 100, 42, 7);
        var b = PromptSampler.Sample(spec, 100, 42, 7);
        Assert.Equal(a.Examples.Columns, b.Examples.Columns);
        Assert.Equal(a.Examples.Y, b.Examples.Y);
        Assert.Equal(a.Components, b.Components);
        var batch = PromptSampler.SampleBatch(spec, 50, 16, 9);
        for (int i = 0; i < 16; i++) Assert.Equal(PromptSampler.Sample(spec, 50, 9, i).Examples.Y, batch[i].Examples.Y);
        Assert.NotEqual(batch[0].Examples.Y, batch[1].Examples.Y);
    }

    [Fact]
    public void PerSampleFrequenciesAndSecondMomentMatchTheModel()
    {
        // z_i ~ Cat(π); E y² = Σ π_k ‖β_k‖² + σ² = 1 + σ² for unit β_k. Bounds: 5 standard errors.
        var spec = Fixtures.Spec(3, 3, 0.5, 2, new[] { 0.2, 0.3, 0.5 });
        const int n = 40000;
        var p = PromptSampler.Sample(spec, n, 1, 0);
        for (int k = 0; k < 3; k++)
        {
            double freq = p.Components.Take(n).Count(z => z == k) / (double)n;
            Assert.InRange(freq, spec.Mixing[k] - 5 * Math.Sqrt(0.25 / n), spec.Mixing[k] + 5 * Math.Sqrt(0.25 / n));
        }
        double m2 = p.Examples.Y.Select(y => y * y).Average();
        // Var(y²) ≤ 3 (1 + σ²)² for a Gaussian scale mixture with these moments; sd of the mean √(3/n)·1.25.
        Assert.InRange(m2, 1.25 - 5 * 1.25 * Math.Sqrt(3.0 / n), 1.25 + 5 * 1.25 * Math.Sqrt(3.0 / n));
        // x is standard normal: mean ≈ 0, variance ≈ 1.
        var x0 = p.Examples.Column(0).ToArray();
        Assert.InRange(x0.Average(), -5 / Math.Sqrt(n), 5 / Math.Sqrt(n));
        Assert.InRange(x0.Select(v => v * v).Average(), 1 - 5 * Math.Sqrt(2.0 / n), 1 + 5 * Math.Sqrt(2.0 / n));
    }

    [Fact]
    public void PerPromptModeSharesOneComponent()
    {
        var spec = Fixtures.Spec(3, 4, 0.5, 3, mode: MixtureMode.PerPrompt);
        for (int s = 0; s < 20; s++)
        {
            var p = PromptSampler.Sample(spec, 30, s, 0);
            Assert.Single(p.Components.Distinct());
        }
    }

    [Fact]
    public void BetaIsNormalisedGaussian()
    {
        var betas = RegressionVectors.DrawNormalised(7, 50, SeedSequence.Create(3));
        Assert.All(betas, b => Assert.Equal(1.0, Math.Sqrt(b.Sum(v => v * v)), 12));
        // Directions are uniform on the sphere: the mean of 50 unit vectors has norm ≈ 1/√50.
        var mean = Enumerable.Range(0, 7).Select(a => betas.Average(b => b[a])).ToArray();
        Assert.True(Math.Sqrt(mean.Sum(v => v * v)) < 4 / Math.Sqrt(50));
    }

    [Fact]
    public void SnrFollowsSpec()
    {
        var sym = MixtureSpec.SymmetricTwoComponent(new[] { 3.0, 4.0 }, 0.5, 0.5);
        Assert.Equal(10.0, sym.Snr, 12);
        var gen = new MixtureSpec(new[] { new[] { 0.0, 0.0 }, new[] { 3.0, 4.0 }, new[] { 0.0, 1.0 } }, new[] { 0.2, 0.3, 0.5 }, 0.5);
        Assert.Equal(2.0, gen.Snr, 12); // min distance 1 (β_1 to β_3) / σ
    }

    [Theory]
    [InlineData("K")]
    [InlineData("sigma0")]
    [InlineData("sigmaNaN")]
    [InlineData("mixNeg")]
    [InlineData("mixSum")]
    [InlineData("ragged")]
    [InlineData("symK")]
    public void InvalidSpecificationsAreNamed(string what)
    {
        var b = new[] { 1.0, 0.0 };
        var e = Assert.Throws<SpecificationException>(() => what switch
        {
            "K" => new MixtureSpec(Array.Empty<double[]>(), Array.Empty<double>(), 1),
            "sigma0" => new MixtureSpec(new[] { b }, new[] { 1.0 }, 0),
            "sigmaNaN" => new MixtureSpec(new[] { b }, new[] { 1.0 }, double.NaN),
            "mixNeg" => new MixtureSpec(new[] { b, b }, new[] { 1.5, -0.5 }, 1),
            "mixSum" => new MixtureSpec(new[] { b, b }, new[] { 0.5, 0.6 }, 1),
            "ragged" => new MixtureSpec(new[] { b, new[] { 1.0 } }, new[] { 0.5, 0.5 }, 1),
            "symK" => new MixtureSpec(new[] { b }, new[] { 1.0 }, 1, symmetric: true),
            _ => throw new InvalidOperationException(),
        });
        Assert.Matches(what switch
        {
            "K" => "K must be at least 1",
            "sigma0" or "sigmaNaN" => "sigma",
            "mixNeg" => "positive",
            "mixSum" => "sum to 1",
            "ragged" => "beta\\[1\\]",
            _ => "symmetric",
        }, e.Message);
    }
}
