using MathNet.Numerics.Distributions;
using MorIcl.Mixture;
using MorIcl.Numerics;

namespace MorIcl.Em;

/// <summary>
/// Starting points for EM. Besides a given θ⁽⁰⁾, the seeded random rule used by <c>mor-icl em
/// --init-seed</c> (and by default, with seed 0):
/// <list type="bullet">
/// <item>s² = (1/n) Σ y_i² (for x ~ N(0, I): E y² = Σ π_k ‖β_k‖² + σ², the scale of the signal);</item>
/// <item>β_k⁽⁰⁾ ~ N(0, (s²/d) I_d) independently, so E‖β_k⁽⁰⁾‖² = s²;</item>
/// <item>σ_k⁽⁰⁾ = s (deliberately large: no component starts collapsed), π⁽⁰⁾ = 1/K.</item>
/// </list>
/// </summary>
public static class Initialisation
{
    public static MixtureParameters RandomGaussian(RegressionData data, int k, int seed)
    {
        if (k < 1) throw new SpecificationException($"the number of components K must be at least 1, got {k}");
        double s2 = 0;
        foreach (var y in data.Y) s2 += y * y;
        s2 /= data.N;
        double s = Math.Sqrt(s2);
        if (!(s > 0)) s = 1; // all labels zero: any scale works, keep σ > 0
        var rng = SeedSequence.Create(seed, 0, salt: 0x494E4954);
        var beta = new double[k][];
        double sd = s / Math.Sqrt(data.D);
        for (int j = 0; j < k; j++)
        {
            beta[j] = new double[data.D];
            Normal.Samples(rng, beta[j], 0.0, sd);
        }
        return MixtureParameters.Uniform(beta, s);
    }
}
