using System.CommandLine;
using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.IO;

namespace MorIcl.Cli.Commands;

/// <summary><c>mor-icl construct</c>: compiles gradient EM into transformer weights (SPEC §3).</summary>
internal static class ConstructCommand
{
    public static Command Create(CliContext ctx)
    {
        var dim = new Option<int>("--dim") { Description = "Dimension d.", Required = true };
        var comps = new Option<int>("--components") { Description = "Components K (2 with --symmetric).", Required = true };
        var s = new Option<int>("--em-iterations") { Description = "Outer EM iterations S.", Required = true };
        var t = new Option<int>("--gd-steps") { Description = "Inner gradient steps T per M-step.", Required = true };
        var alpha = new Option<double>("--step-size") { Description = "Step size α.", Required = true };
        var sigma = new Option<double>("--sigma") { Description = "Known noise level σ.", Required = true };
        var mixing = new Option<string?>("--mixing") { Description = "Known mixing weights π (default uniform; symmetric: π, 1 − π)." };
        var symmetric = new Option<bool>("--symmetric") { Description = "The symmetric two-component program (tanh form)." };
        var init = new Option<string?>("--init") { Description = "β⁽⁰⁾ as JSON (the 'beta' field of the em --init format)." };
        var margin = new Option<double>("--margin") { Description = "Margin R of positional and exclusion scores.", DefaultValueFactory = _ => ConstructionSpec.DefaultMargin };
        var maxLen = new Option<int>("--max-prompt-length") { Description = "Longest prompt the positional scheme encodes.", DefaultValueFactory = _ => ConstructionSpec.DefaultMaxPromptLength };
        var output = new Option<string>("--out") { Description = "Model JSON.", Required = true };
        var npz = new Option<string?>("--npz") { Description = "Also write the weights as NumPy arrays (.npz)." };
        var cmd = new Command("construct", "Construct a transformer whose layers run gradient EM (seed 000 Lemmas 3.2–3.3).")
        { dim, comps, s, t, alpha, sigma, mixing, symmetric, init, margin, maxLen, output, npz };
        cmd.SetAction(r => MorIclCli.Guard(ctx, "construct", () =>
        {
            var spec = BuildSpec(r.GetValue(dim), r.GetValue(comps), r.GetValue(sigma), r.GetValue(mixing), r.GetValue(s), r.GetValue(t),
                r.GetValue(alpha), r.GetValue(init), r.GetValue(margin), r.GetValue(maxLen), r.GetValue(symmetric));
            var model = Compiler.Compile(spec);
            var outPath = r.GetValue(output)!;
            var npzPath = r.GetValue(npz);
            AtomicFile.RequireFolder(outPath);
            if (npzPath is not null) AtomicFile.RequireFolder(npzPath);
            ModelJson.Write(outPath, model);
            if (npzPath is not null) NpzWriter.Write(npzPath, model);
            ctx.Out.WriteLine($"constructed {(spec.Symmetric ? "symmetric two-component" : $"K = {spec.Components}")} gradient EM (S = {spec.EmIterations}, T = {spec.GradientSteps}, α = {OptionParsing.Format(spec.StepSize)}): "
                + $"{model.Layers.Count} layers, {model.Layers.OfType<AttentionLayer>().Sum(a => a.Heads.Length)} heads, D = {model.Dimension}, prompts up to n = {model.Embedding.MaxPromptLength} → {outPath}");
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    internal static ConstructionSpec BuildSpec(int d, int k, double sigma, string? mixingText, int s, int t, double alpha, string? initPath, double margin, int maxLen, bool symmetric)
    {
        if (k < 1) throw new SpecificationException($"--components must be at least 1, got {k}");
        double[]? mixing = mixingText is null ? (symmetric ? new[] { 0.5, 0.5 } : null) : OptionParsing.Mixing(mixingText, k, "--mixing");
        double[][]? beta0 = null;
        if (initPath is not null)
        {
            beta0 = ParametersJson.Read(initPath).Beta;
            try { _ = new ConstructionSpec(d, k, sigma, mixing, s, t, alpha, beta0, margin, maxLen, symmetric); }
            catch (ConstructionException e) when (e.Parameter == "InitialBeta") { throw new InputException($"{initPath}: {e.Message}"); }
        }
        return new ConstructionSpec(d, k, sigma, mixing, s, t, alpha, beta0, margin, maxLen, symmetric);
    }
}
