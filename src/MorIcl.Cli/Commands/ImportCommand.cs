using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using MorIcl.Export;
using MorIcl.Mixture;
using MorIcl.Training;
using MorIcl.Training.Gpt;

namespace MorIcl.Cli.Commands;

/// <summary>
/// <c>mor-icl import --safetensors F --family gpt2 --out RUNDIR</c>: brings in a GPT-2-style model
/// trained elsewhere, written in the gpt2 layout of docs/export.md, as a run folder that run, compare,
/// probe and export take like a native one. The task (the prompt distribution compare evaluates on)
/// comes from the file's MorIcl document when it has one, and from the options otherwise (options win).
/// </summary>
internal static class ImportCommand
{
    private static bool Given(ParseResult r, Option o) => r.GetResult(o) is { Implicit: false };

    public static Command Create(CliContext ctx)
    {
        var file = new Option<string>("--safetensors") { Description = "Weights in the gpt2 layout (docs/export.md).", Required = true };
        var family = new Option<string>("--family") { Description = "Model family of the file: gpt2.", Required = true };
        var output = new Option<string>("--out") { Description = "Run folder to create (must not hold files).", Required = true };
        var heads = new Option<int?>("--heads") { Description = "Attention heads H (default: the file's metadata)." };
        var precision = new Option<string?>("--precision") { Description = "float or double: the precision the run computes in (default: the file's, else float)." };
        var comps = new Option<int?>("--components") { Description = "Task: components K (required unless the file carries a task)." };
        var sigma = new Option<double?>("--sigma") { Description = "Task: noise level σ (required unless the file carries a task)." };
        var mixing = new Option<string?>("--mixing") { Description = "Task: mixing weights π (default uniform)." };
        var mode = new Option<string?>("--mode") { Description = "Task: per-sample or per-prompt (default per-sample)." };
        var n = new Option<int?>("--prompt-length") { Description = "Task: examples n per prompt (default 20)." };
        var betaSeed = new Option<int?>("--beta-seed") { Description = "Task: seed of the fixed β (default 1)." };
        var betaPerPrompt = new Option<bool>("--beta-per-prompt") { Description = "Task: β drawn afresh per prompt (default: the file's task, else fixed β)." };
        var cmd = new Command("import", "Import a GPT-2-style model trained elsewhere (safetensors, gpt2 layout) as a run folder.")
        { file, family, output, heads, precision, comps, sigma, mixing, mode, n, betaSeed, betaPerPrompt };
        cmd.SetAction(r => MorIclCli.Guard(ctx, "import", () =>
        {
            string path = r.GetValue(file)!, folder = r.GetValue(output)!;
            if (r.GetValue(family) != "gpt2") throw new SpecificationException($"--family: '{r.GetValue(family)}' cannot be imported; import takes gpt2 (the constructed layout is exported, not imported)");
            var (doc, tensors) = ModelExport.Read(path);
            if (doc?["family"] is JsonValue fv && fv.TryGetValue<string>(out var fileFamily) && fileFamily != "gpt2")
                throw new InputException($"{path}: holds a '{fileFamily}' model, not gpt2");
            var config = doc?["config"] as JsonObject;
            int h = r.GetValue(heads) ?? (config?["heads"] is JsonValue hv && hv.TryGetValue<int>(out var hh) ? hh
                : throw new SpecificationException($"{path} does not say how many heads the model has; give --heads"));
            double initScale = config?["initScale"] is JsonValue sv && sv.TryGetValue<double>(out var s) ? s : GptConfig.DefaultInitScale;
            var shape = GptTensors.InferConfig(tensors, h, initScale, path);
            var prec = (r.GetValue(precision) ?? (doc?["precision"] is JsonValue pv && pv.TryGetValue<string>(out var p) ? p : "float")) switch
            {
                "float" => Precision.Float,
                "double" => Precision.Double,
                var other => throw new SpecificationException($"--precision: '{other}' is not a precision; use float or double"),
            };
            var task = Task(r, doc, shape.InputDimension, path, comps, sigma, mixing, mode, n, betaSeed, betaPerPrompt);
            var request = new ModelRequest("gpt2", null, shape.Layers, shape.Width, shape.Heads, "random", initScale, prec, 2, 1, 0.5, 1);
            var run = new RunFile(task, new TrainingOptions(1, 64, 1e-3, 0, 0, 1, 100), request);
            var model = (GptModel)request.Create(task);
            var parameters = GptTensors.Parameters(model, tensors, path);
            var provenance = new JsonObject
            {
                ["importedFrom"] = Path.GetFileName(path),
                ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))),
                ["family"] = "gpt2",
                ["source"] = doc?["source"]?.DeepClone(),
            };
            ImportedRun.Write(folder, run, parameters, provenance, ctx.Interrupt);
            ctx.Out.WriteLine($"imported gpt2 (L = {shape.Layers}, D = {shape.Width}, H = {shape.Heads}, {parameters.Length} parameters, {prec.ToString().ToLowerInvariant()}) from {path} → {folder}; "
                + $"task d = {task.D}, K = {task.K}, σ = {OptionParsing.Format(task.Sigma)}, n = {task.PromptLength}");
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    private static TrainingTask Task(ParseResult r, JsonObject? doc, int d, string path, Option<int?> comps, Option<double?> sigma, Option<string?> mixing,
        Option<string?> mode, Option<int?> n, Option<int?> betaSeed, Option<bool> betaPerPrompt)
    {
        TrainingTask? fromFile = doc?["task"] is JsonNode t ? TrainingTask.FromJson(t, path) : null;
        if (fromFile is not null && fromFile.D != d) throw new InputException($"{path}: the task says d = {fromFile.D} but read_in.W takes d = {d}");
        int k = r.GetValue(comps) ?? fromFile?.K ?? throw new SpecificationException($"{path} carries no task: give --components and --sigma (the distribution compare evaluates on)");
        double sg = r.GetValue(sigma) ?? fromFile?.Sigma ?? throw new SpecificationException($"{path} carries no task: give --sigma");
        var mix = Given(r, mixing) || fromFile is null || fromFile.K != k ? OptionParsing.Mixing(r.GetValue(mixing), k, "--mixing") : fromFile.Mixing;
        var md = r.GetValue(mode) is { } m ? OptionParsing.Mode(m) : fromFile?.Mode ?? MixtureMode.PerSample;
        var task = new TrainingTask(d, k, sg, mix, md, r.GetValue(n) ?? fromFile?.PromptLength ?? 20, r.GetValue(betaSeed) ?? fromFile?.BetaSeed ?? 1)
        {
            BetaPerPrompt = Given(r, betaPerPrompt) ? r.GetValue(betaPerPrompt) : fromFile?.BetaPerPrompt ?? false,
        };
        task.Validate();
        return task;
    }
}
