using MathNet.Numerics.Distributions;
using MorIcl.Mixture;
using MorIcl.Numerics;

namespace MorIcl.Seed001;

/// <summary>
/// Seeded sampling of <see cref="LsaDistribution"/>: from one random source, first β = √c·g with g ~ N(0, I_d)
/// (d draws), then the examples and query by <see cref="PromptSampler.Sample(MixtureSpec, int, System.Random)"/> on
/// the symmetric per-sample mixture with β* = β, mixing (π, 1 − π) and noise σ. Prompt <c>index</c> of root seed
/// <c>seed</c> uses its own stream <see cref="SeedSequence.Create(int, long, int)"/>(seed, index, salt "LSA"), so the
/// same seed gives the same numbers and a batch does not depend on how it is split across threads.
/// </summary>
public static class LsaPromptSampler
{
    /// <summary>Salt of the prompt streams ("LSA").</summary>
    public const int Salt = 0x4C5341;

    /// <summary>One prompt drawn from <paramref name="rng"/>.</summary>
    public static LsaPrompt Sample(LsaDistribution distribution, System.Random rng)
    {
        var beta = new double[distribution.D];
        Normal.Samples(rng, beta, 0.0, Math.Sqrt(distribution.C));
        var spec = MixtureSpec.SymmetricTwoComponent(beta, distribution.Pi, distribution.Sigma, MixtureMode.PerSample);
        return new LsaPrompt(PromptSampler.Sample(spec, distribution.N, rng), beta);
    }

    /// <summary>Prompt number <paramref name="index"/> of root seed <paramref name="seed"/>.</summary>
    public static LsaPrompt Sample(LsaDistribution distribution, int seed, long index) =>
        Sample(distribution, SeedSequence.Create(seed, index, Salt));

    /// <summary><paramref name="count"/> prompts (in parallel), identical to drawing them one by one.</summary>
    public static LsaPrompt[] SampleBatch(LsaDistribution distribution, int count, int seed)
    {
        if (count < 0) throw new SpecificationException($"the number of prompts must be ≥ 0, got {count}");
        var prompts = new LsaPrompt[count];
        Parallel.For(0, count, Numerics.Parallelism.Options(), b => prompts[b] = Sample(distribution, seed, b));
        return prompts;
    }
}
