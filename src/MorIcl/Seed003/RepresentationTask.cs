using MathNet.Numerics.Distributions;
using MorIcl.Numerics;

namespace MorIcl.Seed003;

/// <summary>How the task vector λ is drawn (seed 003 Assumption 1: independent entries, mean 0, variance 1).</summary>
public enum TaskPrior
{
    /// <summary>λ ~ N(0, I_m) (seed 003 §4, in-domain).</summary>
    Gaussian,
    /// <summary>λ_i = ±1 with probability ½ each (also satisfies Assumption 1).</summary>
    Rademacher,
    /// <summary>λ ~ N(1_m, 4 I_m): seed 003 §4's out-of-domain test tasks (violates Assumption 1 on purpose).</summary>
    OutOfDomain,
}

/// <summary>One prompt: the N given labels y, and all K labels (the first N equal y; seed 003 eq. (1)).</summary>
public sealed record RepresentationPrompt(double[] Lambda, double[] Labels, double[] AllLabels);

/// <summary>
/// In-context regression with a representation (seed 003 §2, docs/math.md §4): a dictionary of K distinct
/// unit tokens v_1 … v_K ∈ R^d, features f(v_k) ∈ R^m, noise level τ. A prompt gives the first N tokens
/// with labels y_k = λᵀ(f(v_k) + ε_k), ε_k ~ N(0, τ I_m), and the model predicts all K labels.
/// Z = (f(v_1) … f(v_N)) ∈ R^{m×N}, Ẑ = (f(v_1) … f(v_K)) ∈ R^{m×K}.
/// </summary>
public sealed class RepresentationTask
{
    public int D { get; }
    public int K { get; }
    public int N { get; }
    public int M { get; }
    public double Tau { get; }
    /// <summary>The K dictionary tokens (unit vectors in R^d); the prompt holds the first N.</summary>
    public double[][] Tokens { get; }
    /// <summary>f(v_k) for every token (K arrays of length m): the columns of Ẑ.</summary>
    public double[][] Features { get; }
    public string FeatureDescription { get; }

    public RepresentationTask(double[][] tokens, double[][] features, int n, double tau, string featureDescription = "given")
    {
        K = tokens.Length;
        if (K < 2) throw new SpecificationException($"the dictionary needs at least 2 tokens, got {K}");
        D = tokens[0].Length;
        if (features.Length != K) throw new SpecificationException($"features: {features.Length} vectors for {K} tokens");
        M = features[0].Length;
        if (n < 1 || n > K) throw new SpecificationException($"prompt length N must be in [1, K = {K}], got {n}");
        if (!(tau > 0) || double.IsInfinity(tau)) throw new SpecificationException($"noise level τ must be a finite number > 0, got {tau}");
        for (int k = 0; k < K; k++)
        {
            if (tokens[k].Length != D) throw new SpecificationException($"token {k + 1} has dimension {tokens[k].Length}, expected {D}");
            if (features[k].Length != M) throw new SpecificationException($"features of token {k + 1} have dimension {features[k].Length}, expected {M}");
            double norm = Math.Sqrt(tokens[k].Sum(v => v * v));
            if (Math.Abs(norm - 1) > 1e-12) throw new SpecificationException($"token {k + 1} has norm {norm}, tokens must be unit vectors");
        }
        Tokens = tokens; Features = features; N = n; Tau = tau; FeatureDescription = featureDescription;
    }

    /// <summary>A seeded task: K tokens uniform on the unit sphere of R^d (distinct almost surely), features from <paramref name="features"/>.</summary>
    public static RepresentationTask Random(int d, int k, int n, double tau, IFeatureMap features, int seed)
    {
        if (d < 1) throw new SpecificationException($"token dimension d must be at least 1, got {d}");
        if (k < 2) throw new SpecificationException($"dictionary size K must be at least 2, got {k}");
        var rng = SeedSequence.Create(seed, 0, 0x3D1C);
        var tokens = new double[k][];
        for (int i = 0; i < k; i++)
        {
            var v = new double[d];
            double norm;
            do { Normal.Samples(rng, v, 0, 1); norm = Math.Sqrt(v.Sum(x => x * x)); } while (norm == 0);
            tokens[i] = v.Select(x => x / norm).ToArray();
        }
        return new RepresentationTask(tokens, features.Evaluate(tokens), n, tau, features.Describe());
    }

    /// <summary>A prompt with λ from <paramref name="prior"/> and fresh noise, from <paramref name="rng"/>.</summary>
    public RepresentationPrompt Sample(System.Random rng, TaskPrior prior = TaskPrior.Gaussian)
    {
        var lambda = new double[M];
        switch (prior)
        {
            case TaskPrior.Gaussian: Normal.Samples(rng, lambda, 0, 1); break;
            case TaskPrior.Rademacher: for (int i = 0; i < M; i++) lambda[i] = rng.NextDouble() < 0.5 ? -1 : 1; break;
            case TaskPrior.OutOfDomain: Normal.Samples(rng, lambda, 1, 2); break;
        }
        var all = new double[K];
        var eps = new double[M];
        double sd = Math.Sqrt(Tau);
        for (int k = 0; k < K; k++)
        {
            Normal.Samples(rng, eps, 0, sd);
            double y = 0;
            for (int i = 0; i < M; i++) y += lambda[i] * (Features[k][i] + eps[i]);
            all[k] = y;
        }
        return new RepresentationPrompt(lambda, all.Take(N).ToArray(), all);
    }
}
