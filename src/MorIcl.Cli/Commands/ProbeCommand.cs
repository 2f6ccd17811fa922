using System.CommandLine;
using MorIcl.Cli.Hosting;
using System.Globalization;
using System.Text.Json.Nodes;
using MorIcl.IO;
using MorIcl.Probing;
using Spectre.Console;

namespace MorIcl.Cli.Commands;

/// <summary>
/// <c>mor-icl probe --model M --out DIR</c>: linear probes of every layer's residual stream
/// (docs/math.md §11) for gradient EM's iterates, exact EM, OLS, the true β and the oracle's
/// responsibilities, with an untrained and a shuffled-target control. Writes DIR/probe.json and
/// DIR/probe-heatmap.png and prints a table.
/// </summary>
internal static class ProbeCommand
{
    public static Command Create(CliContext ctx)
    {
        var model = new Option<string>("--model") { Description = "A training run folder (mor-icl train or import) or a model file (mor-icl construct, or hand-built).", Required = true };
        var output = new Option<string>("--out") { Description = "Folder for probe.json and probe-heatmap.png.", Required = true };
        var train = new Option<int>("--train-prompts") { Description = "Prompts the probes are fitted on (penalty by 5-fold cross-validation among them).", DefaultValueFactory = _ => 1000 };
        var test = new Option<int>("--test-prompts") { Description = "Held-out prompts the probes are scored on (R²).", DefaultValueFactory = _ => 500 };
        var n = new Option<int?>("--prompt-length") { Description = "Examples n per prompt (default: the run's n; 20 for a model file)." };
        var emIt = new Option<int?>("--em-iterations") { Description = "Runs: gradient EM iterations S of the targets (default: the constructed run's S, 10 for gpt2)." };
        var gd = new Option<int?>("--gd-steps") { Description = "Runs: inner steps T of the targets' gradient EM (default: the constructed run's T, 1 for gpt2)." };
        var alpha = new Option<double?>("--step-size") { Description = "Runs: step size α of the targets' gradient EM (default: the constructed run's α, 0.5 for gpt2)." };
        var mode = new Option<string?>("--mode") { Description = "Model files: per-sample (default) or per-prompt prompts." };
        var sigma = new Option<double?>("--sigma") { Description = "Model files: noise level σ of the prompts (default: the model's σ)." };
        var mixing = new Option<string?>("--mixing") { Description = "Model files: mixing weights π of the prompts (default: the model's π)." };
        var betaSeed = new Option<int>("--beta-seed") { Description = "Model files: seed of the fixed β the prompts are drawn with.", DefaultValueFactory = _ => 1 };
        var seed = new Option<int>("--seed") { Description = "Seed of the probe prompts, folds and the shuffled control.", DefaultValueFactory = _ => 1 };
        var cmd = new Command("probe", "Linear probes of every layer's residual stream for EM's iterates, exact EM, OLS, the true β and the oracle's responsibilities, with controls.")
        { model, output, train, test, n, emIt, gd, alpha, mode, sigma, mixing, betaSeed, seed };
        ThreadsOption.AddTo(cmd);
        cmd.SetAction(r => MorIclCli.Guard(ctx, "probe", () =>
        {
            var modelPath = r.GetValue(model)!;
            var shown = r.GetValue(output)!;
            var probeTask = ProbeSubject.Load(modelPath, new ProbeOverrides(r.GetValue(emIt), r.GetValue(gd), r.GetValue(alpha), r.GetValue(n),
                r.GetValue(mode) is { } m ? OptionParsing.Mode(m) : null, r.GetValue(sigma), null, r.GetValue(betaSeed)) with
            {
                Mixing = r.GetValue(mixing) is { } text ? OptionParsing.Numbers(text, "--mixing") : null,
            });
            var options = new ProbeOptions(r.GetValue(train), r.GetValue(test), probeTask.Task.PromptLength, r.GetValue(seed));
            options.Validate();
            using var outputs = new StagedOutputs();
            var folder = outputs.Folder(shown);
            ctx.Out.WriteLine($"probing {probeTask.Description}");
            var report = ProbeExperiment.Run(probeTask.Streams, probeTask.Untrained, probeTask.Targets(), options, ctx.Out.WriteLine);
            AtomicFile.WriteAllText(Path.Combine(folder, "probe.json"), ParametersJson.Serialize(Json(report, probeTask, options)));
            ProbeHeatmap.Write(Path.Combine(folder, "probe-heatmap.png"), $"Linear probes (ridge, R² on {options.TestPrompts} held-out prompts): {Path.GetFileName(Path.TrimEndingDirectorySeparator(modelPath))}", report);
            WriteTable(ctx, report);
            if (probeTask.Construction is { } construction) WriteKnownAnswer(ctx, IterateRecoveries.Of(construction, report));
            outputs.Commit(ctx.Interrupt);
            ctx.Out.WriteLine($"wrote probe.json and probe-heatmap.png to {shown}");
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    /// <summary>{"targets": [...], "layers": [{"layer": i, "name", "r2": {target: R²}, "r2ExampleMean": {...}, "lambda": {...}}], "control": {"untrained": …, "shuffled": …}, …}.</summary>
    public static JsonObject Json(ProbeReport report, ProbeSubject subject, ProbeOptions options)
    {
        static JsonNode Num(double v) => double.IsFinite(v) ? JsonValue.Create(v) : JsonValue.Create((string?)null)!;
        static JsonObject Map(Dictionary<string, double> d, IReadOnlyList<string> order) => new(order.Select(t => KeyValuePair.Create(t, (JsonNode?)(d.TryGetValue(t, out var v) && double.IsFinite(v) ? JsonValue.Create(v) : null))));
        JsonArray Layers(IReadOnlyList<ProbeLayer> layers, bool lambdas) => new(layers.Select(l =>
        {
            var o = new JsonObject { ["layer"] = l.Layer, ["name"] = l.Name, ["r2"] = Map(l.QueryR2, report.Targets), ["r2ExampleMean"] = Map(l.ExampleMeanR2, report.Targets) };
            if (lambdas) { o["lambda"] = Map(l.QueryLambda, report.Targets); o["lambdaExampleMean"] = Map(l.ExampleMeanLambda, report.Targets); }
            return (JsonNode)o;
        }).ToArray());
        var control = new JsonObject { ["shuffled"] = new JsonObject { ["description"] = "the model's streams, probe-training targets permuted across prompts", ["layers"] = Layers(report.Shuffled, false) } };
        if (report.Untrained is { } u) control["untrained"] = new JsonObject { ["description"] = "the same architecture at its initialisation (untrained)", ["layers"] = Layers(u, false) };
        var best = new JsonObject();
        foreach (var t in report.Targets)
        {
            var top = report.Layers.Select(l => (l, v: l.R2(ProbePosition.Query, t))).Where(x => double.IsFinite(x.v)).OrderByDescending(x => x.v).FirstOrDefault();
            best[t] = top.l is null ? null : new JsonObject { ["layer"] = top.l.Layer, ["name"] = top.l.Name, ["r2"] = Num(top.v) };
        }
        var json = new JsonObject
        {
            ["model"] = subject.Description,
            ["task"] = subject.Task.ToJson(),
            ["gradientEm"] = new JsonObject { ["emIterations"] = subject.GradientEm.EmIterations, ["gdSteps"] = subject.GradientEm.GradientSteps, ["stepSize"] = subject.GradientEm.StepSize,
                ["initialBeta"] = new JsonArray(subject.GradientEm.InitialBeta.Select(b => (JsonNode)ParametersJson.Array(b)).ToArray()) },
            ["prompts"] = new JsonObject { ["train"] = options.TrainPrompts, ["test"] = options.TestPrompts, ["n"] = options.PromptLength, ["seed"] = options.Seed, ["exactEmFailures"] = report.ExactEmFailures },
            ["penalties"] = ParametersJson.Array(RidgeProbe.Penalties),
            ["targets"] = new JsonArray(report.Targets.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()),
            ["layers"] = Layers(report.Layers, true),
            ["bestQueryLayer"] = best,
            ["control"] = control,
        };
        if (subject.Construction is { } construction)
        {
            var rec = IterateRecoveries.Of(construction, report);
            json["iterateRecovery"] = new JsonObject
            {
                ["description"] = "R² of beta_em_s{s} at the query token right after the last gd_step layer of iteration s (docs/math.md §11)",
                ["criterion"] = IterateRecoveries.Criterion,
                ["met"] = rec.All(x => x.Met),
                ["iterates"] = new JsonArray(rec.Select(x => (JsonNode)new JsonObject { ["iteration"] = x.Iteration, ["target"] = x.Target, ["layer"] = x.ReadPoint, ["name"] = x.ReadPointName, ["r2"] = Num(x.R2) }).ToArray()),
            };
        }
        return json;
    }

    /// <summary>The known answer on a constructed model: every EM iterate decoded right after its iteration, with 1 − R² shown (R² prints as 1.000 in the table).</summary>
    private static void WriteKnownAnswer(CliContext ctx, IReadOnlyList<IterateRecovery> recoveries)
    {
        ctx.Out.WriteLine($"known answer (constructed model): beta_em_s{{s}} at the query token right after iteration s, criterion R² ≥ {IterateRecoveries.Criterion.ToString(CultureInfo.InvariantCulture)}:");
        foreach (var x in recoveries)
            ctx.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {x.Target} at read point {x.ReadPoint} ({x.ReadPointName}): 1 − R² = {1 - x.R2:G3}{(x.Met ? "" : "  FAILS")}"));
        int met = recoveries.Count(x => x.Met);
        ctx.Out.WriteLine(met == recoveries.Count ? $"every iterate recovered ({met} of {recoveries.Count})" : $"NOT every iterate recovered: {met} of {recoveries.Count}");
    }

    private static void WriteTable(CliContext ctx, ProbeReport report)
    {
        static string F(double v) => double.IsNaN(v) ? "—" : v >= 0.9995 && v < 1 ? v.ToString("0.######", CultureInfo.InvariantCulture) : v.ToString("0.000", CultureInfo.InvariantCulture);
        double Max(IReadOnlyList<ProbeLayer>? layers, string t) => layers is null ? double.NaN
            : layers.SelectMany(l => new[] { l.R2(ProbePosition.Query, t), l.R2(ProbePosition.ExampleMean, t) }).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max();
        string Cell(ProbeLayer l, string t) => $"{F(l.R2(ProbePosition.Query, t))} / {F(l.R2(ProbePosition.ExampleMean, t))}";
        var table = new Table();
        if (report.Layers.Count <= 8)
        {
            // Few read points (a gpt2 model): targets down, read points across.
            table.AddColumn("target");
            foreach (var l in report.Layers) table.AddColumn(Markup.Escape($"{l.Layer}: {l.Name}"));
            table.AddColumn("[italic]untrained, best[/]").AddColumn("[italic]shuffled, best[/]");
            foreach (var t in report.Targets)
                table.AddRow(new[] { Markup.Escape(t) }.Concat(report.Layers.Select(l => Cell(l, t))).Concat(new[] { F(Max(report.Untrained, t)), F(Max(report.Shuffled, t)) }).ToArray());
        }
        else
        {
            table.AddColumn("read point");
            foreach (var t in report.Targets) table.AddColumn(Markup.Escape(t));
            foreach (var l in report.Layers) table.AddRow(new[] { Markup.Escape($"{l.Layer}: {l.Name}") }.Concat(report.Targets.Select(t => Cell(l, t))).ToArray());
            table.AddRow(new[] { "[italic]untrained, best[/]" }.Concat(report.Targets.Select(t => F(Max(report.Untrained, t)))).ToArray());
            table.AddRow(new[] { "[italic]shuffled, best[/]" }.Concat(report.Targets.Select(t => F(Max(report.Shuffled, t)))).ToArray());
        }
        table.Caption("R² on held-out prompts: query token / mean of the example tokens; controls: the best over read points and positions");
        ctx.Console.Write(table);
    }
}
