using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Mixture;
using MorIcl.Runtime;

namespace MorIcl.Verification;

/// <summary>Runs the constructed transformer (the object under check) on seeded Monte-Carlo prompts.</summary>
internal static class TransformerMonteCarlo
{
    public sealed record Run(Prompt Prompt, ForwardResult Result);

    /// <summary>Prompt r of configuration <paramref name="config"/>: its own stream of (seed, config, r).</summary>
    public static Prompt[] Prompts(MixtureSpec truth, int n, int count, CheckOptions options, int config)
    {
        var data = options.NoiseScale == 1 ? truth
            : new MixtureSpec(truth.Beta, truth.Mixing, truth.Sigma * options.NoiseScale, truth.Mode, truth.Symmetric);
        return Enumerable.Range(0, count).Select(r => PromptSampler.Sample(data, n, Numerics.SeedSequence.Derive(options.Seed, config, 0x5645), r)).ToArray();
    }

    public static Run[] Forward(TransformerModel model, Prompt[] prompts, CheckOptions options, bool trace = false)
    {
        // Monte-Carlo checks measure the construction's statistics over many prompts; the rounding analysis
        // (O(N²) per dense head) is certified per pass by `mor-icl run` and its own tests, not here.
        var exec = new ModelExecutor<double>(model, boundRounding: false);
        var results = new Run[prompts.Length];
        Parallel.For(0, prompts.Length, new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism ?? Environment.ProcessorCount },
            i => results[i] = new Run(prompts[i], exec.Forward(prompts[i].Examples, prompts[i].Query, trace)));
        return results;
    }

    /// <summary>A measurement that every forward pass stayed in its certified domain.</summary>
    public static Measurement Domain(IEnumerable<Run> runs)
    {
        var all = runs.ToArray();
        int outside = all.Count(r => !r.Result.Certificate.InDomain);
        return new Measurement("prompts outside the certified domain", outside, "= 0 (every layer exact)", outside == 0);
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
