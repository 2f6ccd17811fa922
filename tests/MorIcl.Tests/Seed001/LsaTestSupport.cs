using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MorIcl.Numerics;
using MorIcl.Seed001;

namespace MorIcl.Tests.Seed001;

internal static class LsaTestSupport
{
    /// <summary>A random layer away from the optimum: p ~ N(0, 1), Q_ab ~ N(0, 1/d), from its own seeded stream.</summary>
    public static LsaLayer RandomLayer(int d, int seed)
    {
        var rng = SeedSequence.Create(seed, 0, 0x7E57);
        double p = Normal.Sample(rng, 0, 1);
        var q = Matrix<double>.Build.Dense(d, d, (_, _) => Normal.Sample(rng, 0, 1 / Math.Sqrt(d)));
        return new LsaLayer(p, q);
    }
}
