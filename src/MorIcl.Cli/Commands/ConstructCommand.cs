using System.CommandLine;
using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.IO;

namespace MorIcl.Cli.Commands;

/// <summary><c>mor-icl construct</c>: compiles gradient EM into transformer weights (docs/math.md §3).</summary>
internal static class ConstructCommand
{
    public static Command Create(CliContext ctx)
    {
        var spec = new SpecOptions();
        var output = new Option<string>("--out") { Description = "Model JSON.", Required = true };
        var npz = new Option<string?>("--npz") { Description = "Also write the weights as NumPy arrays (.npz)." };
        var cmd = new Command("construct", "Construct a transformer whose layers run gradient EM (seed 000 Lemmas 3.2–3.3).");
        spec.AddTo(cmd, required: true);
        cmd.Add(output); cmd.Add(npz);
        cmd.SetAction(r => MorIclCli.Guard(ctx, "construct", () =>
        {
            var specification = spec.Build(r);
            ConstructionMemory.Require(specification);
            var outPath = r.GetValue(output)!;
            using var outputs = new StagedOutputs();
            var modelFile = outputs.File(outPath);
            var npzFile = r.GetValue(npz) is { } npzPath ? outputs.File(npzPath) : null;
            var model = Compiler.Compile(specification);
            ModelJson.Write(modelFile, model);
            if (npzFile is not null) NpzWriter.Write(npzFile, model);
            outputs.Commit(ctx.Interrupt);
            var sp = model.Spec;
            ctx.Out.WriteLine($"constructed {(sp.Symmetric ? "symmetric two-component" : $"K = {sp.Components}")} gradient EM (S = {sp.EmIterations}, T = {sp.GradientSteps}, α = {OptionParsing.Format(sp.StepSize)}): "
                + $"{model.Layers.Count} layers, {model.Layers.OfType<AttentionLayer>().Sum(a => a.Heads.Length)} heads, D = {model.Dimension}, prompts up to n = {model.MaxPromptLength} → {outPath}");
            return ExitCodes.Ok;
        }));
        return cmd;
    }
}
