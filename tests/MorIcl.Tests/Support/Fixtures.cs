using MorIcl.Em;
using MorIcl.Mixture;
using MorIcl.Numerics;

namespace MorIcl.Tests.Support;

internal static class Fixtures
{
    public static MixtureSpec Spec(int d, int k, double sigma, int seed, double[]? mixing = null, MixtureMode mode = MixtureMode.PerSample) =>
        new(RegressionVectors.DrawNormalised(d, k, SeedSequence.Create(seed, 0, 7)), mixing ?? Enumerable.Repeat(1.0 / k, k).ToArray(), sigma, mode);

    /// <summary>The truth perturbed by N(0, scale²) per coordinate: a "sensible" start.</summary>
    public static MixtureParameters NearTruth(MixtureSpec spec, double scale, int seed)
    {
        var rng = SeedSequence.Create(seed, 1, 11);
        var beta = spec.Beta.Select(b => b.Select(v => v + scale * MathNet.Numerics.Distributions.Normal.Sample(rng, 0, 1)).ToArray()).ToArray();
        return MixtureParameters.Uniform(beta, spec.Sigma * 1.5);
    }
}
