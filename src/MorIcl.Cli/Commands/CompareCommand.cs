using System.CommandLine;
using MorIcl.Cli.Hosting;
using System.Text.Json.Nodes;
using MorIcl.Comparison;
using MorIcl.IO;
using MorIcl.Training;
using Spectre.Console;

namespace MorIcl.Cli.Commands;

/// <summary>
/// <c>mor-icl compare --trained run/ [--trained run2/ …] [--constructed model.json] --out dir</c>:
/// docs/math.md §5's comparison of trained models with the constructed transformer, gradient EM, exact EM from
/// random initialisations, OLS and the oracle, on fresh prompts from the runs' training distribution.
/// Every algorithm is profiled once per prompt length; SPD, ILWD and sensitivity are then reported for
/// every pair (compare.json), the table shows them against the first trained model and an SPD matrix.
/// </summary>
internal static class CompareCommand
{
    public static Command Create(CliContext ctx)
    {
        var trained = new Option<string[]>("--trained") { Description = "A training run folder (repeat for several runs, e.g. different seeds).", Required = true, AllowMultipleArgumentsPerToken = false };
        var constructed = new Option<string?>("--constructed") { Description = "A constructed model (mor-icl construct --out model.json) for the same d and K." };
        var prompts = new Option<int>("--prompts") { Description = "Evaluation prompts per prompt length.", DefaultValueFactory = _ => 200 };
        var lengths = new Option<string?>("--prompt-lengths") { Description = "Prompt lengths n to evaluate, comma-separated (default: n/2, n, 2n of the run)." };
        var restarts = new Option<int>("--em-restarts") { Description = "Random initialisations of exact EM (its spread).", DefaultValueFactory = _ => 5 };
        var seed = new Option<int>("--seed") { Description = "Seed of the evaluation prompts.", DefaultValueFactory = _ => 12345 };
        var output = new Option<string>("--out") { Description = "Folder for compare.json and the PNGs.", Required = true };
        var cmd = new Command("compare", "Compare trained models with the constructed transformer, EM, OLS and the oracle (excess MSE, SPD, ILWD, sensitivity, EM's spread).")
        { trained, constructed, prompts, lengths, restarts, seed, output };
        ThreadsOption.AddTo(cmd);
        cmd.SetAction(r => MorIclCli.Guard(ctx, "compare", () =>
        {
            var runs = r.GetValue(trained)!;
            int count = r.GetValue(prompts), emRestarts = r.GetValue(restarts), s = r.GetValue(seed);
            if (count < 2) throw new SpecificationException($"--prompts must be at least 2, got {count}");
            if (emRestarts < 1) throw new SpecificationException($"--em-restarts must be at least 1, got {emRestarts}");
            var loaded = runs.Select(folder =>
            {
                var run = RunFile.Read(folder);
                RunFolder.RequireNotFailed(folder);
                var cp = Checkpoint.Read(Path.Combine(folder, Trainer.CheckpointFile));
                var model = run.Model.Create(run.Task);
                Trainer.LoadParameters(model, cp, Path.Combine(folder, Trainer.CheckpointFile));
                return (Folder: folder, Run: run, Model: model, Steps: cp.Step);
            }).ToArray();
            var task = loaded[0].Run.Task;
            foreach (var l in loaded.Skip(1))
                if (l.Run.Task.D != task.D || l.Run.Task.K != task.K || l.Run.Task.Sigma != task.Sigma || l.Run.Task.Mode != task.Mode
                    || l.Run.Task.BetaSeed != task.BetaSeed || !l.Run.Task.Mixing.SequenceEqual(task.Mixing))
                    throw new SpecificationException($"{l.Folder} was trained on another distribution than {loaded[0].Folder} (compare runs of the same d, K, σ, π, β)");
            var truth = task.Spec();
            Construction.Model.TransformerModel? cons = null;
            if (r.GetValue(constructed) is { } path)
            {
                cons = ModelJson.Read(path);
                if (cons.Spec.Dimension != task.D || cons.Spec.Components != task.K)
                    throw new SpecificationException($"{path} is constructed for d = {cons.Spec.Dimension}, K = {cons.Spec.Components}; the runs have d = {task.D}, K = {task.K}");
            }
            var ns = r.GetValue(lengths) is { } text ? OptionParsing.Numbers(text, "--prompt-lengths").Select(v => (int)v).ToArray()
                : new[] { Math.Max(task.D + 1, task.PromptLength / 2), task.PromptLength, 2 * task.PromptLength };
            // Each prompt set: count prompts of n examples, each profiled along 2d + 4 perturbed queries.
            Numerics.MemoryBudget.Require(8.0 * count * ns.Max() * (task.D + 2) * (2 * task.D + 6), $"--prompts {count} with --prompt-lengths up to {ns.Max()}");
            if (ns.Any(v => v <= task.D)) throw new SpecificationException($"--prompt-lengths: every n must exceed d = {task.D} (OLS and exact EM need it)");
            if (cons is not null && ns.Max() > cons.MaxPromptLength) throw new SpecificationException($"--prompt-lengths: {ns.Max()} exceeds the constructed model's maximum prompt length {cons.MaxPromptLength}");

            var algorithms = new List<IPromptPredictor>();
            foreach (var (l, i) in loaded.Select((l, i) => (l, i))) algorithms.Add(new TrainedPredictor(l.Model, loaded.Length == 1 ? "trained" : $"trained ({Path.GetFileName(Path.TrimEndingDirectorySeparator(l.Folder))})"));
            if (cons is not null) { algorithms.Add(new ConstructedPredictor(cons)); algorithms.Add(new GradientEmPredictor(cons.Spec)); }
            algorithms.Add(new ExactEmPredictor(task.K, task.Sigma, task.Mode, s));
            algorithms.Add(new OlsPredictor());
            var oracle = new OraclePromptPredictor(truth);
            algorithms.Add(oracle);

            var shown = r.GetValue(output)!;
            using var outputs = new StagedOutputs();
            var folder = outputs.Folder(shown);
            var json = new JsonObject { ["runs"] = new JsonArray(loaded.Select(l => (JsonNode)new JsonObject { ["folder"] = l.Folder, ["steps"] = l.Steps, ["family"] = l.Model.Descriptor.Family, ["parameters"] = l.Model.Parameters.Length }).ToArray()),
                ["task"] = task.ToJson(), ["prompts"] = count, ["seed"] = s };
            var excess = algorithms.ToDictionary(a => a.Name, _ => new double[ns.Length]);
            var pairs = new JsonArray();
            var primary = algorithms[0];
            var spdCurves = algorithms.Skip(1).ToDictionary(a => a.Name, _ => new double[ns.Length]);
            var spdMatrix = new double[algorithms.Count, algorithms.Count];
            ProgressBars.Create(ctx.Console, autoClear: true).Start(p =>
            {
                var bar = p.AddTask("comparing", maxValue: ns.Length);
                for (int j = 0; j < ns.Length; j++)
                {
                    var set = ComparisonMeasures.Draw(truth, ns[j], count, 4, Math.Max(2 * task.D, 8), s + j);
                    var o = ComparisonMeasures.QueryPredictions(oracle, set);
                    foreach (var a in algorithms) excess[a.Name][j] = ComparisonMeasures.ExcessMse(ComparisonMeasures.QueryPredictions(a, set), o, set);
                    var profiles = algorithms.Select(a => ComparisonMeasures.ProfileOf(a, set)).ToArray();
                    for (int u = 0; u < algorithms.Count; u++)
                        for (int v = u + 1; v < algorithms.Count; v++)
                        {
                            var (spd, ilwd, cos, l2) = ComparisonMeasures.Compare(profiles[u], profiles[v]);
                            if (u == 0) spdCurves[algorithms[v].Name][j] = spd;
                            if (j == ns.Length - 1) spdMatrix[u, v] = spdMatrix[v, u] = spd;
                            pairs.Add(new JsonObject { ["n"] = ns[j], ["a"] = algorithms[u].Name, ["b"] = algorithms[v].Name, ["spd"] = spd, ["ilwd"] = ilwd, ["sensitivityCosine"] = cos, ["sensitivityL2"] = l2 });
                        }
                    bar.Increment(1);
                }
            });
            // Sensitivity to initialisation: exact EM's excess MSE per random start, against the trained runs' (different seeds).
            var spreadSet = ComparisonMeasures.Draw(truth, task.PromptLength, count, 1, task.D, s + 1000);
            var spreadOracle = ComparisonMeasures.QueryPredictions(oracle, spreadSet);
            var emPerInit = Enumerable.Range(0, emRestarts).Select(i => ComparisonMeasures.ExcessMse(
                ComparisonMeasures.QueryPredictions(new ExactEmPredictor(task.K, task.Sigma, task.Mode, s, i + 1), spreadSet), spreadOracle, spreadSet)).ToArray();
            var trainedPerRun = loaded.Select(l => ComparisonMeasures.ExcessMse(ComparisonMeasures.QueryPredictions(new TrainedPredictor(l.Model), spreadSet), spreadOracle, spreadSet)).ToArray();

            json["promptLengths"] = new JsonArray(ns.Select(v => (JsonNode)v).ToArray());
            json["excessMse"] = new JsonObject(excess.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)ParametersJson.Array(kv.Value))));
            json["pairs"] = pairs;
            json["initialisation"] = new JsonObject { ["emExcessMsePerInit"] = ParametersJson.Array(emPerInit), ["trainedExcessMsePerRun"] = ParametersJson.Array(trainedPerRun) };
            AtomicFile.WriteAllText(Path.Combine(folder, "compare.json"), ParametersJson.Serialize(json));

            var table = new Table().AddColumn("algorithm");
            foreach (var v in ns) table.AddColumn($"excess MSE, n = {v}");
            table.AddColumn($"SPD vs {Markup.Escape(primary.Name)} (n = {ns[^1]})").AddColumn("ILWD").AddColumn("sensitivity cos / L2");
            foreach (var a in algorithms)
            {
                var row = new List<string> { Markup.Escape(a.Name) };
                row.AddRange(excess[a.Name].Select(v => v.ToString("G3", System.Globalization.CultureInfo.InvariantCulture)));
                var pr = pairs.LastOrDefault(x => (string)x!["a"]! == primary.Name && (string)x!["b"]! == a.Name);
                row.Add(pr is null ? "—" : ((double)pr["spd"]!).ToString("G3", System.Globalization.CultureInfo.InvariantCulture));
                row.Add(pr is null ? "—" : ((double)pr["ilwd"]!).ToString("G3", System.Globalization.CultureInfo.InvariantCulture));
                row.Add(pr is null ? "—" : $"{(double)pr["sensitivityCosine"]!:F3} / {(double)pr["sensitivityL2"]!:G3}");
                table.AddRow(row.ToArray());
            }
            ctx.Console.Write(table);
            var matrix = new Table().AddColumn($"SPD, n = {ns[^1]}");
            foreach (var a in algorithms) matrix.AddColumn(Markup.Escape(a.Name));
            for (int u = 0; u < algorithms.Count; u++)
                matrix.AddRow(new[] { Markup.Escape(algorithms[u].Name) }.Concat(Enumerable.Range(0, algorithms.Count)
                    .Select(v => u == v ? "—" : spdMatrix[u, v].ToString("G3", System.Globalization.CultureInfo.InvariantCulture))).ToArray());
            ctx.Console.Write(matrix);
            ctx.Out.WriteLine($"exact EM over {emRestarts} random initialisations (on {count} other prompts at n = {task.PromptLength}, seed {s + 1000}; not the table's): excess MSE from {emPerInit.Min():G3} to {emPerInit.Max():G3}; trained run(s): {string.Join(", ", trainedPerRun.Select(v => v.ToString("G3", System.Globalization.CultureInfo.InvariantCulture)))}");

            var x = ns.Select(v => (double)v).ToArray();
            // Excess MSEs below 0 (Monte-Carlo noise: the oracle is optimal only in expectation) are drawn below the zero line, not clamped.
            BandPlot.Band Curve(string name, double[] xs, double[] ys, int i) => new(name, xs, ys, null, null, i, i);
            BandPlot.WritePanels(Path.Combine(folder, "excess-mse.png"), "Excess MSE against prompt length", "n", "excess MSE",
                new[] { new BandPlot.Panel($"{count} prompts per n", algorithms.Where(a => a != oracle).Select((a, i) => Curve(a.Name, x, excess[a.Name], i)).ToArray()) }, logX: true, columns: 1);
            BandPlot.WritePanels(Path.Combine(folder, "spd.png"), $"Prediction difference from {primary.Name}", "n", "SPD",
                new[] { new BandPlot.Panel("SPD per d", spdCurves.Select((kv, i) => Curve(kv.Key, x, kv.Value, i)).ToArray()) }, logX: true, columns: 1);
            BandPlot.WritePanels(Path.Combine(folder, "initialisation.png"), "Excess MSE per initialisation: exact EM vs trained runs", "initialisation / run index", "excess MSE",
                new[] { new BandPlot.Panel($"n = {task.PromptLength}", new[] { Curve("exact EM, random starts", Enumerable.Range(1, emRestarts).Select(i => (double)i).ToArray(), emPerInit, 0),
                    Curve("trained runs", Enumerable.Range(1, trainedPerRun.Length).Select(i => (double)i).ToArray(), trainedPerRun, 1) }) }, logX: false, columns: 1);
            outputs.Commit(ctx.Interrupt);
            ctx.Out.WriteLine($"wrote compare.json, excess-mse.png, spd.png, initialisation.png to {shown}");
            return ExitCodes.Ok;
        }));
        return cmd;
    }
}
