using MathNet.Numerics.LinearAlgebra;
using MorIcl.Seed001;
using static MorIcl.Tests.Seed001.LsaTestSupport;

namespace MorIcl.Tests.Seed001;

/// <summary>
/// Seed 001, one LSA layer on the symmetric MoR prompt distribution: the closed-form population loss
/// L = tr(ΓᵀSΓ) − 2μ tr(ΓᵀM) + d c + σ² (no ½), its gradient, and its global optimum Γ* = g* I, L*.
/// </summary>
public class LsaClosedFormTests
{
    [Fact]
    public void SamplerIsSeededAndDrawsTheStatedModel()
    {
        var q = new LsaDistribution(3, 7, 0.8, 0.3);
        var a = LsaPromptSampler.Sample(q, 42, 5);
        var b = LsaPromptSampler.Sample(q, 42, 5);
        Assert.Equal(a.Beta, b.Beta);
        Assert.Equal(a.Data.Examples.Columns, b.Data.Examples.Columns);
        Assert.Equal(a.Data.Examples.Y, b.Data.Examples.Y);
        Assert.Equal(a.QueryLabel, b.QueryLabel);
        Assert.NotEqual(a.Beta, LsaPromptSampler.Sample(q, 42, 6).Beta);
        var batch = LsaPromptSampler.SampleBatch(q, 8, 42);
        Assert.Equal(LsaPromptSampler.Sample(q, 42, 7).Data.Examples.Y, batch[7].Data.Examples.Y);

        // y_i − z_i⟨x_i, β⟩ is the noise σε_i: its sample variance over many examples is σ² (5 standard errors,
        // Var(ε²) = 2), and the signs are +1 with frequency π (5 binomial standard errors).
        var prompts = LsaPromptSampler.SampleBatch(q, 2000, 3);
        var noise = new List<double>(); int plus = 0, total = 0;
        foreach (var p in prompts)
            for (int i = 0; i <= p.N; i++)
            {
                var x = i < p.N ? p.Data.Examples.Row(i) : p.Query;
                double y = i < p.N ? p.Data.Examples.Y[i] : p.QueryLabel;
                noise.Add(y - p.Sign(i) * x.Zip(p.Beta, (u, v) => u * v).Sum());
                plus += p.Sign(i) == 1 ? 1 : 0; total++;
            }
        double var = noise.Select(e => e * e).Average();
        Assert.InRange(var, 0.09 * (1 - 5 * Math.Sqrt(2.0 / total)), 0.09 * (1 + 5 * Math.Sqrt(2.0 / total)));
        Assert.InRange(plus / (double)total, 0.8 - 5 * Math.Sqrt(0.16 / total), 0.8 + 5 * Math.Sqrt(0.16 / total));
        // β ~ N(0, c I) with c = 1/d: E‖β‖² = 1, Var‖β‖² = 2 d c² = 2/3 per prompt.
        double beta2 = prompts.Average(p => p.Beta.Sum(v => v * v));
        Assert.InRange(beta2, 1 - 5 * Math.Sqrt(2.0 / 3 / prompts.Length), 1 + 5 * Math.Sqrt(2.0 / 3 / prompts.Length));
        // h is (1/n) Σ y_i x_i.
        var p0 = prompts[0];
        for (int a2 = 0; a2 < q.D; a2++)
            Assert.Equal(Enumerable.Range(0, p0.N).Sum(i => p0.Data.Examples.Y[i] * p0.Data.Examples.X(i, a2)) / p0.N, p0.H[a2], 14);
    }

    public static TheoryData<int, int, double, double, int> Configurations => new()
    {
        { 2, 5, 0.8, 0.1, 11 },
        { 4, 20, 0.5, 0.5, 12 },
        { 4, 5, 0.8, 0.5, 13 },
    };

    /// <summary>
    /// Test 1: the Monte-Carlo mean of (ŷ − y_q)² over 20 000 prompts (which uses only the sampler and the
    /// prediction) is within 4 standard errors (estimated from the same sample) of the closed form, at two random
    /// layers and at the optimum. Under the closed form the standardised difference is ≈ N(0, 1) (CLT; the squared
    /// error has finite variance), so a false failure has probability ≈ 6·10⁻⁵ per comparison.
    /// </summary>
    [Theory]
    [MemberData(nameof(Configurations))]
    public void ClosedFormLossAgreesWithMonteCarlo(int d, int n, double pi, double sigma, int seed)
    {
        var q = new LsaDistribution(d, n, pi, sigma);
        var prompts = LsaPromptSampler.SampleBatch(q, 20_000, seed);
        var gammas = new[] { RandomLayer(d, seed).Gamma, RandomLayer(d, seed + 100).Gamma, new LsaOptimum(q).Gamma };
        foreach (var gamma in gammas)
        {
            var mc = LsaMonteCarlo.Loss(gamma, prompts);
            double closed = LsaPopulationLoss.Loss(q, gamma);
            Assert.True(mc.ZScore(closed) <= 4, $"{q}: MC {mc.Mean} ± {mc.StandardError}, closed form {closed}, z = {mc.ZScore(closed):F2}");
        }
    }

    /// <summary>
    /// The comparison above has power: dropping the 2c I term of the fourth moment E[(xᵀβ)² x xᵀ] = ‖β‖² I + 2ββᵀ
    /// changes L by (2c/n)‖Γ‖_F², which for d = 2, n = 5 (c = ½) and ‖Γ‖_F² ≳ 1 is several standard errors
    /// (the standard error of the mean of 20 000 squared errors of size O(L) is O(L/100)).
    /// </summary>
    [Fact]
    public void MonteCarloRejectsAWrongFourthMoment()
    {
        var q = new LsaDistribution(2, 5, 0.8, 0.1);
        var prompts = LsaPromptSampler.SampleBatch(q, 20_000, 11);
        var gamma = Matrix<double>.Build.DenseOfArray(new[,] { { 1.5, 0.3 }, { -0.4, 1.0 } });
        double wrong = LsaPopulationLoss.Loss(q, gamma) - 2 * q.C / q.N * Math.Pow(gamma.FrobeniusNorm(), 2);
        var mc = LsaMonteCarlo.Loss(gamma, prompts);
        Assert.True(mc.ZScore(LsaPopulationLoss.Loss(q, gamma)) <= 4);
        Assert.True(mc.ZScore(wrong) > 4, $"z of the wrong formula = {mc.ZScore(wrong):F2}");
    }

    /// <summary>
    /// Test 2: the gradient (∂L/∂p, ∇_Q L) = (⟨G, Q⟩, pG), G = 2sΓ − 2μm I, against central differences with
    /// h = 10⁻⁵. L is a polynomial of degree 4 in (p, Q) with O(1) coefficients here, so the truncation error is
    /// O(h²) ≈ 10⁻¹⁰ and the rounding error O(ε_mach L/h) ≈ 10⁻¹¹: relative error ≤ 10⁻⁶ leaves a wide margin,
    /// while any wrong factor (a missing 2, p, or transpose) gives an O(1) relative error.
    /// </summary>
    [Theory]
    [MemberData(nameof(Configurations))]
    public void GradientMatchesCentralDifferences(int d, int n, double pi, double sigma, int seed)
    {
        var q = new LsaDistribution(d, n, pi, sigma);
        foreach (var layer in new[] { RandomLayer(d, seed + 200), RandomLayer(d, seed + 300), LsaLayer.BalancedInitialisation(d, 0.5, seed) })
        {
            var g = LsaPopulationLoss.Gradient(q, layer);
            const double h = 1e-5;
            double fdP = (LsaPopulationLoss.Loss(q, new LsaLayer(layer.P + h, layer.Q)) - LsaPopulationLoss.Loss(q, new LsaLayer(layer.P - h, layer.Q))) / (2 * h);
            var fdQ = Matrix<double>.Build.Dense(d, d);
            for (int a = 0; a < d; a++)
                for (int b = 0; b < d; b++)
                {
                    var plus = layer.Q.Clone(); plus[a, b] += h;
                    var minus = layer.Q.Clone(); minus[a, b] -= h;
                    fdQ[a, b] = (LsaPopulationLoss.Loss(q, new LsaLayer(layer.P, plus)) - LsaPopulationLoss.Loss(q, new LsaLayer(layer.P, minus))) / (2 * h);
                }
            double err = Math.Sqrt(Math.Pow(fdP - g.P, 2) + Math.Pow((fdQ - g.Q).FrobeniusNorm(), 2));
            Assert.True(err <= 1e-6 * g.Norm, $"{q}: relative gradient error {err / g.Norm:E2}");
        }
    }

    /// <summary>
    /// Test 3: Γ* = g* I is stationary in (p, Q) — for the balanced minimiser and for an unbalanced factorisation —
    /// with ‖∇L‖ ≤ 10⁻¹² times the size of the terms that cancel in G (2s‖Γ*‖_F + 2|μm|√d, times |p| + ‖Q‖_F);
    /// L(Γ*) = L*; the two forms of g* (μ²c/s and nμ²c/((n−1)μ²c + (d+2)c + σ²)) agree; and for random Γ,
    /// L(Γ) ≥ L* with L(Γ) − L* = s‖Γ − Γ*‖_F² (convexity in Γ), to rounding (10⁻¹² of the loss's terms).
    /// </summary>
    [Theory]
    [MemberData(nameof(Configurations))]
    public void OptimumIsStationaryAndGlobal(int d, int n, double pi, double sigma, int seed)
    {
        var q = new LsaDistribution(d, n, pi, sigma);
        var opt = new LsaOptimum(q);
        double s = LsaPopulationLoss.S(q), m = LsaPopulationLoss.M(q);
        Assert.Equal(q.Mu * m / s, opt.G, 14);
        Assert.True(opt.G >= 0 && opt.G < (double)n / (n - 1 + (d + 2.0) / (q.Mu * q.Mu + 1e-300)) + 1e-15);
        double termScale = 2 * s * opt.G * Math.Sqrt(d) + 2 * Math.Abs(q.Mu * m) * Math.Sqrt(d);
        var unbalanced = new LsaLayer(2.5, opt.Gamma / 2.5);
        foreach (var layer in new[] { opt.BalancedMinimiser(), unbalanced })
        {
            Assert.True((layer.Gamma - opt.Gamma).FrobeniusNorm() <= 1e-15 * (1 + opt.G));
            var grad = LsaPopulationLoss.Gradient(q, layer);
            double scale = termScale * (Math.Abs(layer.P) + layer.Q.FrobeniusNorm()) + double.Epsilon;
            Assert.True(grad.Norm <= 1e-12 * scale, $"{q}: ‖∇L(Γ*)‖ = {grad.Norm:E2}, scale {scale:E2}");
        }
        double lossScale = q.LabelSecondMoment;
        Assert.True(Math.Abs(LsaPopulationLoss.Loss(q, opt.Gamma) - opt.Loss) <= 1e-12 * lossScale);
        Assert.True(opt.Loss > 0 && opt.Loss <= q.LabelSecondMoment);
        for (int k = 0; k < 20; k++)
        {
            var gamma = RandomLayer(d, seed * 1000 + k).Gamma * (k % 4 == 0 ? 0.01 : 1);
            double l = LsaPopulationLoss.Loss(q, gamma);
            double excess = s * Math.Pow((gamma - opt.Gamma).FrobeniusNorm(), 2);
            double termsScale = s * Math.Pow(gamma.FrobeniusNorm(), 2) + 2 * Math.Abs(q.Mu * m * gamma.Trace()) + lossScale;
            Assert.True(l >= opt.Loss - 1e-12 * termsScale, $"L(Γ) = {l} < L* = {opt.Loss}");
            Assert.True(Math.Abs(l - opt.Loss - excess) <= 1e-12 * termsScale);
            Assert.Equal(excess, LsaPopulationLoss.Excess(q, gamma), 12);
        }
    }
}
