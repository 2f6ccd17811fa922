using MorIcl.Construction;
using MorIcl.Mixture;

namespace MorIcl.Verification;

/// <summary>Runs the system under test (the constructed transformer, by default) on seeded Monte-Carlo prompts.</summary>
internal static class TransformerMonteCarlo
{
    public sealed record Run(Prompt Prompt, SubjectRun Result);

    /// <summary>Prompt r of configuration <paramref name="config"/>: its own stream of (seed, config, r).</summary>
    public static Prompt[] Prompts(MixtureSpec truth, int n, int count, CheckOptions options, int config)
    {
        var data = options.NoiseScale == 1 ? truth
            : new MixtureSpec(truth.Beta, truth.Mixing, truth.Sigma * options.NoiseScale, truth.Mode, truth.Symmetric);
        return Enumerable.Range(0, count).Select(r => PromptSampler.Sample(data, n, Numerics.SeedSequence.Derive(options.Seed, config, 0x5645), r)).ToArray();
    }

    public static Run[] Forward(ISubjectInstance instance, Prompt[] prompts, CheckOptions options, bool trace = false)
    {
        var results = new Run[prompts.Length];
        Parallel.For(0, prompts.Length, Numerics.Parallelism.Options(options.MaxDegreeOfParallelism),
            i => results[i] = new Run(prompts[i], instance.Run(prompts[i], trace)));
        return results;
    }

    /// <summary>A measurement that every forward pass stayed in its certified domain.</summary>
    public static Measurement Domain(IEnumerable<Run> runs)
    {
        var all = runs.ToArray();
        int outside = all.Count(r => !r.Result.InDomain);
        return new Measurement("prompts outside the certified domain", outside, "= 0 (every layer exact)", outside == 0);
    }

    /// <summary>The smallest maximum prompt length 32^k − 1 ≥ max(n, 1023) (the positional digits a prompt of n examples needs).</summary>
    public static int MaxLengthFor(int n)
    {
        long cap = 1024;
        while (cap - 1 < n) cap *= 32;
        return (int)(cap - 1);
    }

    /// <summary>A symmetric-model specification whose β⁽⁰⁾ is β* plus a fixed perturbation of the given size.</summary>
    public static ConstructionSpec SymmetricSpec(double[] betaStar, double pi, double sigma, int s, int t, double alpha, double startDistance, int seed, int maxLength)
    {
        var rng = Numerics.SeedSequence.Create(seed, 0, 0x494E);
        var dir = RegressionVectors.DrawNormalised(betaStar.Length, 1, rng)[0];
        var b0 = betaStar.Select((v, a) => v + startDistance * dir[a]).ToArray();
        return new ConstructionSpec(betaStar.Length, 2, sigma, new[] { pi, 1 - pi }, s, t, alpha, new[] { b0 }, maxPromptLength: maxLength, symmetric: true);
    }
}
