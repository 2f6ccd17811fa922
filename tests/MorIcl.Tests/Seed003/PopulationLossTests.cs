using MorIcl.Numerics;
using MorIcl.Seed003;

namespace MorIcl.Tests.Seed003;

/// <summary>
/// Seed 003's population loss (eq. (9)) in closed form (Lemma 5 / <see cref="PopulationLoss"/>) against
/// Monte Carlo with eq. (1)'s noisy labels and against the un-squared form; its gradient through the
/// softmax heads against finite differences; the limit A against the ridge regression of eq. (20).
/// </summary>
public class PopulationLossTests
{
    private static RepresentationTask Task(int n = 4, int k = 9, int d = 5, int m = 3, double tau = 0.3, int seed = 1) =>
        RepresentationTask.Random(d, k, n, tau, new GaussianTableFeatures(m, seed), seed);

    private static SoftmaxAttentionModel RandomModel(RepresentationTask t, int h, int seed, double wScale = 1)
    {
        var model = SoftmaxAttentionModel.Initialise(t, h, 1.0, seed);
        var rng = SeedSequence.Create(seed, 1);
        for (int i = h * t.D * t.D; i < model.Parameters.Length; i++) model.Parameters[i] = MathNet.Numerics.Distributions.Normal.Sample(rng, 0, wScale);
        return model;
    }

    [Theory]
    [InlineData(TaskPrior.Gaussian, 1)]
    [InlineData(TaskPrior.Rademacher, 2)]
    public void ClosedFormAgreesWithMonteCarlo(TaskPrior prior, int seed)
    {
        var t = Task(seed: seed);
        var loss = new PopulationLoss(t);
        var a = RandomModel(t, 6, seed, wScale: 0.3).EffectiveWeights();
        double closed = loss.Evaluate(a);
        // Per-prompt losses ½(1/K)Σ_k(ŷ_k − y_k)²: their mean estimates L, their spread its standard error.
        var rng = SeedSequence.Create(seed, 7);
        int count = 40_000;
        double sum = 0, sumSq = 0;
        for (int b = 0; b < count; b++)
        {
            var p = t.Sample(rng, prior);
            double l = PopulationLoss.Empirical(a, new[] { p }, out _);
            sum += l; sumSq += l * l;
        }
        double mean = sum / count, se = Math.Sqrt((sumSq / count - mean * mean) / count);
        Assert.True(Math.Abs(mean - closed) <= 4 * se, $"Monte Carlo {mean:G6} ± {se:G3} vs closed form {closed:G6}");
        // The constant matters: without the unseen tokens' irreducible noise the closed form would be off by
        // (K − N)mτ/(2K), far outside the Monte-Carlo error.
        double constant = (t.K - t.N) * t.M * t.Tau / (2.0 * t.K);
        Assert.True(Math.Abs(mean - (closed - constant)) > 4 * se, $"the constant {constant:G3} is not resolved by the Monte Carlo (se {se:G3})");
    }

    [Fact]
    public void LemmaFiveFormEqualsTheDirectFormAndItsMinimumIsAtA()
    {
        var t = Task();
        var loss = new PopulationLoss(t);
        var a = RandomModel(t, 5, 3).EffectiveWeights();
        Assert.Equal(loss.Direct(a), loss.Evaluate(a), 10);
        var atA = Enumerable.Range(0, t.K).Select(k => loss.A.Column(k).ToArray()).ToArray();
        Assert.Equal(loss.Infimum, loss.Evaluate(atA), 12);
        // Perturbing any column of A raises the loss (M is positive definite).
        var rng = SeedSequence.Create(3, 2);
        for (int trial = 0; trial < 20; trial++)
        {
            var b = atA.Select(c => c.Select(v => v + 0.01 * (rng.NextDouble() - 0.5)).ToArray()).ToArray();
            Assert.True(loss.Direct(b) > loss.Infimum);
        }
    }

    [Theory]
    [InlineData(3, 1)]
    [InlineData(7, 2)]
    public void GradientMatchesFiniteDifferences(int heads, int seed)
    {
        var t = Task(seed: seed);
        var loss = new PopulationLoss(t);
        var model = RandomModel(t, heads, seed);
        loss.Evaluate(model, out var grad);
        const double h = 1e-6;
        double worst = 0;
        var p = model.Parameters;
        for (int i = 0; i < p.Length; i++)
        {
            double keep = p[i];
            p[i] = keep + h; double up = loss.Evaluate(model.EffectiveWeights());
            p[i] = keep - h; double down = loss.Evaluate(model.EffectiveWeights());
            p[i] = keep;
            double fd = (up - down) / (2 * h);
            worst = Math.Max(worst, Math.Abs(fd - grad[i]) / Math.Max(1e-3, Math.Abs(fd)));
        }
        Assert.True(worst <= 1e-6, $"worst relative gradient error {worst:G3}");
    }

    [Fact]
    public void EmpiricalGradientMatchesFiniteDifferences()
    {
        var t = Task();
        var model = RandomModel(t, 4, 5);
        var rng = SeedSequence.Create(5, 3);
        var prompts = Enumerable.Range(0, 16).Select(_ => t.Sample(rng)).ToArray();
        var s = model.AttentionWeights();
        PopulationLoss.Empirical(model.EffectiveWeights(s), prompts, out var g);
        var grad = model.Backward(s, g);
        const double h = 1e-6;
        var p = model.Parameters;
        for (int i = 0; i < p.Length; i += 3)
        {
            double keep = p[i];
            p[i] = keep + h; double up = PopulationLoss.Empirical(model.EffectiveWeights(), prompts, out _);
            p[i] = keep - h; double down = PopulationLoss.Empirical(model.EffectiveWeights(), prompts, out _);
            p[i] = keep;
            double fd = (up - down) / (2 * h);
            Assert.True(Math.Abs(fd - grad[i]) <= 1e-6 * Math.Max(1e-3, Math.Abs(fd)), $"parameter {i}: {grad[i]} vs {fd}");
        }
    }

    [Fact]
    public void LimitMatrixImplementsTheRidgeRegressionOfEquationTwenty()
    {
        // eq. (27): ŷ*_k = ⟨y, A_{:,k}⟩ equals (y; (Z^Q)ᵀ λ̂) with λ̂ from eq. (20).
        var t = Task(n: 5, k: 12, m: 4);
        var loss = new PopulationLoss(t);
        var ridge = new RidgeReference(t);
        var rng = SeedSequence.Create(4, 0);
        var a = Enumerable.Range(0, t.K).Select(k => loss.A.Column(k).ToArray()).ToArray();
        for (int trial = 0; trial < 5; trial++)
        {
            var p = t.Sample(rng, trial % 2 == 0 ? TaskPrior.Gaussian : TaskPrior.OutOfDomain);
            var viaA = SoftmaxAttentionModel.Predict(a, p.Labels);
            var viaRidge = ridge.TransformerTarget(p.Labels);
            for (int k = 0; k < t.K; k++) Assert.Equal(viaRidge[k], viaA[k], 9);
        }
    }

    [Fact]
    public void ExpectedRidgeGapAgreesWithMonteCarloAndVanishesAtNEqualsM()
    {
        var t = Task(n: 6, k: 15, m: 4, tau: 0.2);
        var ridge = new RidgeReference(t);
        var rng = SeedSequence.Create(6, 0);
        int count = 20_000;
        double sum = 0, sumSq = 0;
        for (int b = 0; b < count; b++)
        {
            var p = t.Sample(rng);
            var a = ridge.TransformerTarget(p.Labels); var c = ridge.Best(p.Labels);
            double g = a.Zip(c, (x, y) => (x - y) * (x - y)).Sum() / t.K;
            sum += g; sumSq += g * g;
        }
        double mean = sum / count, se = Math.Sqrt((sumSq / count - mean * mean) / count);
        double closed = ridge.ExpectedGap();
        Assert.True(Math.Abs(mean - closed) <= 4 * se, $"Monte Carlo {mean:G6} ± {se:G3} vs closed form {closed:G6}");
        var equal = RepresentationTask.Random(5, 15, 4, 0.2, new GaussianTableFeatures(4, 6), 6);
        Assert.True(new RidgeReference(equal).ExpectedGap() <= 1e-24, "N = m: the two penalties coincide");
    }

    [Fact]
    public void BadSpecificationsAreNamed()
    {
        Assert.Contains("prompt length N", Assert.Throws<SpecificationException>(() => Task(n: 10, k: 9)).Message);
        Assert.Contains("noise level", Assert.Throws<SpecificationException>(() => Task(tau: 0)).Message);
        Assert.Contains("heads", Assert.Throws<SpecificationException>(() => new SoftmaxAttentionModel(Task(), 0)).Message);
    }
}
