using System.CommandLine;
using MorIcl.Cli.Hosting;
using System.Globalization;
using System.Text.Json.Nodes;
using MorIcl.Comparison;
using MorIcl.IO;
using MorIcl.Probing;
using Spectre.Console;

namespace MorIcl.Cli.Commands;

/// <summary>
/// <c>mor-icl match --model M --out DIR</c>: which algorithm a model matches, as n grows and layer by
/// layer (<see cref="AlgorithmMatch"/>, docs/math.md §11). Writes DIR/match.json, DIR/match.png (SPD
/// against gradient EM's S per n, with the other algorithms as levels) and DIR/match-layers.png.
/// </summary>
internal static class MatchCommand
{
    public static Command Create(CliContext ctx)
    {
        var model = new Option<string>("--model") { Description = "A training run folder (mor-icl train or import) or a model file (mor-icl construct, or hand-built).", Required = true };
        var output = new Option<string>("--out") { Description = "Folder for match.json and the PNGs.", Required = true };
        var lengths = new Option<string?>("--prompt-lengths") { Description = "Prompt lengths n, comma-separated (default: n/2, n, 2n of the run; 10, 20, 40 for a model file)." };
        var prompts = new Option<int>("--prompts") { Description = "Evaluation prompts per n.", DefaultValueFactory = _ => 200 };
        var queries = new Option<int>("--queries") { Description = "Queries per prompt (its own and fresh ones).", DefaultValueFactory = _ => 4 };
        var maxS = new Option<int>("--max-em-iterations") { Description = "Gradient EM is compared after S = 1 … this many iterations.", DefaultValueFactory = _ => 50 };
        var readout = new Option<int>("--readout-prompts") { Description = "Prompts per n the layer read-outs are fitted on.", DefaultValueFactory = _ => 500 };
        var noLayers = new Option<bool>("--no-layers") { Description = "Only the model's output, no layer read-outs." };
        var gd = new Option<int?>("--gd-steps") { Description = "Runs: inner steps T of gradient EM (default: the constructed run's T, 1 for gpt2)." };
        var alpha = new Option<double?>("--step-size") { Description = "Runs: step size α of gradient EM (default: the constructed run's α, 0.5 for gpt2)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the prompts and queries.", DefaultValueFactory = _ => 1 };
        var cmd = new Command("match", "Which algorithm a model matches (SPD against gradient EM with S = 1…50, exact EM, least squares, ridge, oracle), as n grows and layer by layer.")
        { model, output, lengths, prompts, queries, maxS, readout, noLayers, gd, alpha, seed };
        ThreadsOption.AddTo(cmd);
        cmd.SetAction(r => MorIclCli.Guard(ctx, "match", () =>
        {
            var path = r.GetValue(model)!;
            var subject = ProbeSubject.Load(path, new ProbeOverrides(GdSteps: r.GetValue(gd), StepSize: r.GetValue(alpha)));
            int n0 = subject.Task.PromptLength;
            var ns = r.GetValue(lengths) is { } text ? OptionParsing.Numbers(text, "--prompt-lengths").Select(v => (int)v).ToArray()
                : Directory.Exists(path) ? new[] { Math.Max(2, n0 / 2), n0, 2 * n0 } : new[] { 10, 20, 40 };
            if (ns.Any(v => v < 1)) throw new SpecificationException("--prompt-lengths: every n must be at least 1");
            if (subject.Streams is ExecutorStreams ex && ns.Max() > ex.Model.Spec.MaxPromptLength)
                throw new SpecificationException($"--prompt-lengths: {ns.Max()} exceeds the model's maximum prompt length {ex.Model.Spec.MaxPromptLength}");
            var options = new MatchOptions(ns, r.GetValue(prompts), r.GetValue(queries), r.GetValue(maxS), r.GetValue(readout), r.GetValue(seed));
            options.Validate();
            var shown = r.GetValue(output)!;
            using var outputs = new StagedOutputs();
            var folder = outputs.Folder(shown);
            ctx.Out.WriteLine($"matching {subject.Description}");
            var results = AlgorithmMatch.Run(subject.Predictor, r.GetValue(noLayers) ? null : subject.Streams, subject.Task, subject.GradientEm, options, ctx.Out.WriteLine);
            AtomicFile.WriteAllText(Path.Combine(folder, "match.json"), ParametersJson.Serialize(Json(subject, options, results)));
            WriteTables(ctx, results);
            WritePlots(folder, Path.GetFileName(Path.TrimEndingDirectorySeparator(path)), results, options);
            outputs.Commit(ctx.Interrupt);
            ctx.Out.WriteLine($"wrote match.json, match.png{(results.Any(x => x.Layer >= 0) ? ", match-layers.png" : "")} to {shown}");
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    private static JsonObject Json(ProbeSubject subject, MatchOptions o, List<MatchResult> results)
    {
        static JsonNode? Num(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;
        JsonNode Entry(MatchResult m) => new JsonObject
        {
            ["n"] = m.N, ["layer"] = m.Layer < 0 ? null : m.Layer, ["name"] = m.Name, ["best"] = m.Best, ["bestSpd"] = Num(m.BestSpd), ["bestS"] = m.BestS,
            ["bestSSpd"] = m.BestS > 0 ? Num(m.GradientEmSpd[m.BestS - 1]) : null,
            ["spd"] = new JsonObject(m.Spd.Where(kv => !AlgorithmMatch.IsIterate(kv.Key)).Select(kv => KeyValuePair.Create(kv.Key, Num(kv.Value)))),
            ["gradientEmSpd"] = new JsonArray(m.GradientEmSpd.Select(v => Num(v)).ToArray()),
            ["bestGdSteps"] = m.BestGdSteps,
            ["gradientDescentSpd"] = new JsonArray(m.GradientDescentSpd.Select(v => Num(v)).ToArray()),
        };
        return new JsonObject
        {
            ["model"] = subject.Description, ["task"] = subject.Task.ToJson(),
            ["gradientEm"] = new JsonObject { ["gdSteps"] = subject.GradientEm.GradientSteps, ["stepSize"] = subject.GradientEm.StepSize, ["maxEmIterations"] = o.MaxEmIterations },
            ["prompts"] = o.Prompts, ["queries"] = o.Queries, ["readOutPrompts"] = o.ReadOutPrompts, ["seed"] = o.Seed,
            ["spdNote"] = "SPD = mean over prompts and queries of (a − b)², divided by d",
            ["output"] = new JsonArray(results.Where(m => m.Layer < 0).Select(Entry).ToArray()),
            ["layers"] = new JsonArray(results.Where(m => m.Layer >= 0).Select(Entry).ToArray()),
        };
    }

    private static string F(double v) => double.IsFinite(v) ? v.ToString("G3", CultureInfo.InvariantCulture) : "—";

    private static void WriteTables(CliContext ctx, List<MatchResult> results)
    {
        var outputs = results.Where(m => m.Layer < 0).ToArray();
        var names = outputs[0].Spd.Keys.Where(k => !AlgorithmMatch.IsIterate(k)).ToArray();
        var table = new Table().AddColumn("n").AddColumn("best match (SPD)").AddColumn("best S of gradient EM (SPD)").AddColumn("best GD steps (SPD)");
        foreach (var k in names) table.AddColumn(Markup.Escape(k));
        foreach (var m in outputs)
            table.AddRow(new[] { m.N.ToString(CultureInfo.InvariantCulture), Markup.Escape($"{m.Best} ({F(m.BestSpd)})"), $"{m.BestS} ({F(m.GradientEmSpd[m.BestS - 1])})", $"{m.BestGdSteps} ({F(m.GradientDescentSpd[m.BestGdSteps - 1])})" }
                .Concat(names.Select(k => F(m.Spd[k]))).ToArray());
        table.Caption("SPD (per d) of the model's predictions against each algorithm's");
        ctx.Console.Write(table);
        var layers = results.Where(m => m.Layer >= 0).ToArray();
        if (layers.Length == 0) return;
        var lt = new Table().AddColumn("n").AddColumn("read point").AddColumn("best match (SPD)").AddColumn("best S (SPD)").AddColumn("best GD steps (SPD)").AddColumn("SPD vs the model's output");
        foreach (var m in layers)
            lt.AddRow(m.N.ToString(CultureInfo.InvariantCulture), Markup.Escape($"{m.Layer}: {m.Name}"), Markup.Escape($"{m.Best} ({F(m.BestSpd)})"),
                m.BestS > 0 ? $"{m.BestS} ({F(m.GradientEmSpd[m.BestS - 1])})" : "—", m.BestGdSteps > 0 ? $"{m.BestGdSteps} ({F(m.GradientDescentSpd[m.BestGdSteps - 1])})" : "—", F(m.Spd[AlgorithmMatch.Model]));
        lt.Caption(Markup.Escape("layer read-outs (ridge from [h; h ⊗ x_query] of the query token's stream to the model's prediction)"));
        ctx.Console.Write(lt);
    }

    private static void WritePlots(string folder, string name, List<MatchResult> results, MatchOptions o)
    {
        var sAxis = Enumerable.Range(1, o.MaxEmIterations).Select(s => (double)s).ToArray();
        var panels = new List<BandPlot.Panel>();
        foreach (var m in results.Where(m => m.Layer < 0))
        {
            var bands = new List<BandPlot.Band> { new("gradient EM after S iterations", sAxis, m.GradientEmSpd, null, null, 0, 0), new("GD on least squares after S steps", sAxis, m.GradientDescentSpd, null, null, 1, 1) };
            int c = 2;
            foreach (var kv in m.Spd.Where(kv => !AlgorithmMatch.IsIterate(kv.Key)))
                bands.Add(new BandPlot.Band(kv.Key, new[] { 1.0, o.MaxEmIterations }, new[] { kv.Value, kv.Value }, null, null, c, c++));
            panels.Add(new BandPlot.Panel($"n = {m.N}: best {m.Best}", bands));
        }
        BandPlot.WritePanels(Path.Combine(folder, "match.png"), $"{name}: SPD of the model's predictions against each algorithm (per d)", "iterations S (gradient EM) or steps (GD)", "SPD", panels, logX: true, columns: 3);
        var layers = results.Where(m => m.Layer >= 0).ToArray();
        if (layers.Length == 0) return;
        var lp = new List<BandPlot.Panel>();
        foreach (var g in layers.GroupBy(m => m.N))
        {
            var x = g.Select(m => (double)m.Layer).ToArray();
            var keys = g.First().Spd.Keys.Where(k => !AlgorithmMatch.IsIterate(k)).ToArray();
            var bands = new List<BandPlot.Band> { new("gradient EM, best S per layer", x, g.Select(m => m.BestS > 0 ? m.GradientEmSpd[m.BestS - 1] : double.NaN).ToArray(), null, null, 0, 0),
                new("GD on least squares, best steps per layer", x, g.Select(m => m.BestGdSteps > 0 ? m.GradientDescentSpd[m.BestGdSteps - 1] : double.NaN).ToArray(), null, null, 1, 1) };
            int c = 2;
            foreach (var k in keys) bands.Add(new BandPlot.Band(k, x, g.Select(m => m.Spd[k]).ToArray(), null, null, c, c++));
            lp.Add(new BandPlot.Panel($"n = {g.Key}", bands));
        }
        BandPlot.WritePanels(Path.Combine(folder, "match-layers.png"), $"{name}: SPD of each layer's read-out against each algorithm (per d)", "read point (0 = embedding)", "SPD", lp, logX: false, columns: 3);
    }
}
