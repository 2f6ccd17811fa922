using MathNet.Numerics.Distributions;
using MorIcl.Numerics;

namespace MorIcl.Mixture;

/// <summary>
/// Seeded sampling of MoR prompts (docs/math.md §1): x_i ~ N(0, I_d), z_i ~ Cat(π) per sample (or one z per
/// prompt), y_i = ⟨x_i, β_{z_i}⟩ + σ ε_i; with <see cref="MixtureSpec.BetaPerPrompt"/> the β_k are drawn per prompt. Prompt b of a batch uses its own stream derived from
/// (seed, b), so batches are identical single- or multi-threaded.
/// </summary>
public static class PromptSampler
{
    /// <summary>One prompt with n examples, drawn from <paramref name="rng"/>.</summary>
    public static Prompt Sample(MixtureSpec spec, int n, System.Random rng)
    {
        if (n < 1) throw new SpecificationException($"the prompt length n must be at least 1, got {n}");
        int d = spec.D;
        var cols = new double[(long)n * d];
        var y = new double[n];
        var z = new int[n + 1];
        var pi = spec.Mixing.ToArray();
        // β per prompt: drawn first from the prompt's own stream (then the labels, as for a fixed β).
        var betas = spec.BetaPerPrompt ? RegressionVectors.DrawNormalised(d, spec.K, rng) : null;
        int shared = spec.Mode == MixtureMode.PerPrompt ? Categorical.Sample(rng, pi) : -1;
        var x = new double[d];
        var query = new double[d];
        double queryLabel = 0;
        for (int i = 0; i <= n; i++)
        {
            int k = shared >= 0 ? shared : Categorical.Sample(rng, pi);
            z[i] = k;
            Normal.Samples(rng, x, 0.0, 1.0);
            double mean = 0;
            var beta = betas is null ? spec.Beta[k] : betas[k];
            for (int a = 0; a < d; a++) mean += x[a] * beta[a];
            double label = mean + spec.Sigma * Normal.Sample(rng, 0.0, 1.0);
            if (i < n)
            {
                for (int a = 0; a < d; a++) cols[(long)a * n + i] = x[a];
                y[i] = label;
            }
            else
            {
                Array.Copy(x, query, d);
                queryLabel = label;
            }
        }
        return new Prompt(new RegressionData(n, d, cols, y), query, queryLabel, z, betas);
    }

    /// <summary>Prompt number <paramref name="index"/> of the batch with root seed <paramref name="seed"/>.</summary>
    public static Prompt Sample(MixtureSpec spec, int n, int seed, long index) =>
        Sample(spec, n, SeedSequence.Create(seed, index, salt: 0x50524D));

    /// <summary><paramref name="count"/> prompts, drawn in parallel, identical to drawing them one by one.</summary>
    public static Prompt[] SampleBatch(MixtureSpec spec, int n, int count, int seed)
    {
        var prompts = new Prompt[count];
        Parallel.For(0, count, Numerics.Parallelism.Options(), b => prompts[b] = Sample(spec, n, seed, b));
        return prompts;
    }
}
