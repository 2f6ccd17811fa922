using MathNet.Numerics.Distributions;
using MorIcl.Numerics;

namespace MorIcl.Seed003;

/// <summary>
/// The representation f: R^d → R^m of seed 003 §2 (eq. (1)): labels are λᵀ(f(v) + ε). Only its values
/// on the K dictionary tokens matter, so a map is evaluated once per dictionary.
/// </summary>
public interface IFeatureMap
{
    int Dimension { get; }
    /// <summary>f(v_k) for every dictionary token (K arrays of length m).</summary>
    double[][] Evaluate(double[][] tokens);
    string Describe();
}

/// <summary>
/// Seed 003 §4's choice: "we randomly generate each token v_k and their representation f(v_k) from
/// the standard Gaussian distribution" — an independent N(0, I_m) vector per token (a lookup table).
/// </summary>
public sealed class GaussianTableFeatures(int dimension, int seed) : IFeatureMap
{
    public int Dimension { get; } = dimension > 0 ? dimension : throw new SpecificationException($"feature dimension m must be at least 1, got {dimension}");

    public double[][] Evaluate(double[][] tokens)
    {
        var rng = SeedSequence.Create(seed, 0, 0x3F3A);
        return tokens.Select(_ => { var f = new double[Dimension]; Normal.Samples(rng, f, 0, 1); return f; }).ToArray();
    }

    public string Describe() => $"f(v_k) ~ N(0, I_{Dimension}) per token (seed {seed})";
}

/// <summary>
/// Random ReLU features f(v) = √(2/m) ReLU(W v) with W ~ N(0, 1)^{m×d}: a genuine function of v
/// (nearby tokens get nearby features), the pluggable alternative to the table.
/// </summary>
public sealed class RandomReluFeatures(int dimension, int seed) : IFeatureMap
{
    public int Dimension { get; } = dimension > 0 ? dimension : throw new SpecificationException($"feature dimension m must be at least 1, got {dimension}");

    public double[][] Evaluate(double[][] tokens)
    {
        int d = tokens[0].Length;
        var rng = SeedSequence.Create(seed, 0, 0x3F3B);
        var w = new double[Dimension * d];
        Normal.Samples(rng, w, 0, 1);
        double scale = Math.Sqrt(2.0 / Dimension);
        return tokens.Select(v =>
        {
            var f = new double[Dimension];
            for (int r = 0; r < Dimension; r++)
            {
                double s = 0;
                for (int a = 0; a < d; a++) s += w[r * d + a] * v[a];
                f[r] = scale * Math.Max(s, 0);
            }
            return f;
        }).ToArray();
    }

    public string Describe() => $"f(v) = √(2/{Dimension}) ReLU(W v), W ~ N(0, 1) (seed {seed})";
}
