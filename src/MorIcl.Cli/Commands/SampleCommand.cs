using System.CommandLine;
using System.Text.Json.Nodes;
using MorIcl.Em;
using MorIcl.IO;
using MorIcl.Mixture;
using MorIcl.Numerics;

namespace MorIcl.Cli.Commands;

/// <summary><c>mor-icl sample</c>: draws one MoR prompt (docs/math.md §1) and writes it as CSV x1,…,xd,y.</summary>
internal static class SampleCommand
{
    /// <summary>Stream salt for β, so β depends only on (seed, d, K), not on n.</summary>
    internal const int BetaSalt = 0x42455441;

    public static Command Create(CliContext ctx)
    {
        var dim = new Option<int>("--dim") { Description = "Dimension d of x.", Required = true };
        var comps = new Option<int>("--components") { Description = "Number of components K.", Required = true };
        var n = new Option<int>("--prompt-length") { Description = "Number of labelled examples n.", Required = true };
        var sigma = new Option<double>("--sigma") { Description = "Noise level σ > 0.", Required = true };
        var mixing = new Option<string?>("--mixing") { Description = "Mixing weights π, comma-separated (default uniform)." };
        var mode = new Option<string>("--mode") { Description = "per-sample (each example draws its component) or per-prompt.", DefaultValueFactory = _ => "per-sample" };
        var symmetric = new Option<bool>("--symmetric") { Description = "Symmetric two-component model β_2 = −β_1 (needs K = 2)." };
        var seed = new Option<int>("--seed") { Description = "Random seed (β and the data).", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--out") { Description = "Output CSV with header x1,…,xd,y.", Required = true };
        var truth = new Option<string?>("--truth") { Description = "Also write the true parameters as JSON (same format as em --init)." };
        var cmd = new Command("sample", "Sample one prompt from a mixture of linear regressions (β drawn as in seed 000 §5).")
        { dim, comps, n, sigma, mixing, mode, symmetric, seed, output, truth };
        cmd.SetAction(r => MorIclCli.Guard(ctx, "sample", () =>
        {
            int d = r.GetValue(dim), k = r.GetValue(comps), len = r.GetValue(n), s = r.GetValue(seed);
            if (d < 1) throw new SpecificationException($"--dim must be at least 1, got {d}");
            if (k < 1) throw new SpecificationException($"--components must be at least 1, got {k}");
            if (len < 1) throw new SpecificationException($"--prompt-length must be at least 1, got {len}");
            MixtureSpec.ValidateSigma(r.GetValue(sigma), "--sigma");
            RequireMemory(len, d, k);
            var spec = BuildSpec(d, k, r.GetValue(sigma), OptionParsing.Mixing(r.GetValue(mixing), k, "--mixing"),
                OptionParsing.Mode(r.GetValue(mode)!), r.GetValue(symmetric), s);
            using var outputs = new StagedOutputs();
            var csvPath = outputs.File(r.GetValue(output)!);
            var truthPath = r.GetValue(truth) is { } t ? outputs.File(t) : null;
            var prompt = PromptSampler.Sample(spec, len, s, 0);
            RegressionCsv.Write(csvPath, prompt.Examples);
            if (truthPath is not null) AtomicFile.WriteAllText(truthPath, ParametersJson.Serialize(TruthJson(spec)));
            outputs.Commit(ctx.Interrupt);
            ctx.Out.WriteLine($"wrote {len} examples (d = {d}, K = {k}, σ = {OptionParsing.Format(spec.Sigma)}, SNR η = {OptionParsing.Format(spec.Snr)}, {r.GetValue(mode)}) to {r.GetValue(output)}");
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    /// <summary>A prompt of n examples in d dimensions, and its CSV text (≈ 20 characters per number, built as UTF-16 and encoded), and K regression vectors must fit in memory.</summary>
    internal static void RequireMemory(int n, int d, int k)
    {
        MemoryBudget.Require(16.0 * k * d, $"--components {k} with --dim {d}");
        MemoryBudget.RequireArray((double)n * d, $"--prompt-length {n} with --dim {d}");
        MemoryBudget.Require((double)n * (d + 1) * (8 + 5 * 20), $"--prompt-length {n} with --dim {d}");
    }

    /// <summary>The mixture with β drawn from the seed: K normalised Gaussians (seed 000 §5), or β* and −β*.</summary>
    internal static MixtureSpec BuildSpec(int d, int k, double sigma, double[] mixing, MixtureMode mode, bool symmetric, int seed)
    {
        var rng = SeedSequence.Create(seed, 0, BetaSalt);
        if (symmetric)
        {
            if (k != 2) throw new SpecificationException($"--symmetric needs --components 2, got {k}");
            var star = RegressionVectors.DrawNormalised(d, 1, rng)[0];
            return MixtureSpec.SymmetricTwoComponent(star, mixing[0], sigma, mode);
        }
        return new MixtureSpec(RegressionVectors.DrawNormalised(d, k, rng), mixing, sigma, mode);
    }

    internal static JsonObject TruthJson(MixtureSpec spec)
    {
        var o = ParametersJson.ToJson(MixtureParameters.FromSpec(spec));
        o["mode"] = spec.Mode == MixtureMode.PerSample ? "per-sample" : "per-prompt";
        o["symmetric"] = spec.Symmetric;
        o["snr"] = spec.Snr;
        return o;
    }
}
