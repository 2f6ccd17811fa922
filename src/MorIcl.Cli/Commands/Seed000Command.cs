using System.CommandLine;
using System.Globalization;
using MorIcl.Cli.Hosting;
using MorIcl.Comparison;
using MorIcl.IO;
using MorIcl.Training;
using MorIcl.Training.Gpt;

namespace MorIcl.Cli.Commands;

/// <summary>
/// <c>mor-icl seed000 figure1|figure2a|figure2b|figure2c --out dir</c>: seed 000's Figure 1 and
/// Figure 2(a–c) (<see cref="Seed000Figures"/>) with <c>--repeats</c> repeats per point, in a
/// <c>--setting</c>: one GPT-2-style model (3 blocks, 2 heads, width 64 unless the figure varies it;
/// float) trained per job, with exact EM (random and good start) and least squares on the same
/// evaluation prompts. <c>--shard i/m</c> runs every m-th job; <c>seed000 merge</c> joins the shards.
/// Writes <c>&lt;stem&gt;-repeats.csv</c> (one row per job), <c>&lt;stem&gt;.csv</c> (mean and bootstrap
/// 95 % interval per point) and <c>&lt;stem&gt;.png</c> (curves with interval bands).
/// </summary>
internal static class Seed000Command
{
    public static Command Create(CliContext ctx)
    {
        var cmd = new Command("seed000", "Seed 000's simulation figures (excess MSE of trained transformers against n, B, D, d) with repeats and bootstrap intervals.");
        foreach (var f in Seed000Figures.Figures) cmd.Add(FigureCommand(ctx, f));
        cmd.Add(MergeCommand(ctx));
        cmd.Add(FromConstructionCommand.Create(ctx));
        return cmd;
    }

    private static Command FigureCommand(CliContext ctx, string figure)
    {
        var output = new Option<string>("--out") { Description = "Folder for the CSVs and PNG.", Required = true };
        var seed = new Option<int>("--seed") { Description = "Root seed s; repeat r uses s + r (β, initialisation, batches, evaluation, EM's random start).", DefaultValueFactory = _ => 1 };
        var repeats = new Option<int>("--repeats") { Description = "Repeats per point (seed 000 averages 20).", DefaultValueFactory = _ => 20 };
        var steps = new Option<int?>("--steps") { Description = "Training steps per model (default 1500)." };
        var batch = new Option<int?>("--batch") { Description = "Prompts per training step (default 64)." };
        var prompts = new Option<int?>("--prompts") { Description = "Evaluation prompts per model (default 400)." };
        var smoke = new Option<bool>("--smoke") { Description = "A seconds-long smoke run (tiny grid, 5 steps, 2 repeats), to try the command." };
        var setting = new Option<string?>("--setting") { Description = "paper (default), per-prompt, beta-per-prompt, unequal-mixing or small-n." };
        var mode = new Option<string?>("--mode") { Description = "Older spelling: per-sample (= --setting paper) or per-prompt (= --setting per-prompt)." };
        var ks = new Option<string?>("--components") { Description = "Figure 1: the component counts K, comma-separated (default 2,3)." };
        var sigmas = new Option<string?>("--sigmas") { Description = "The noise levels σ, comma-separated (default 0.2,1)." };
        var grid = new Option<string?>("--grid") { Description = figure switch
        {
            "1" => "The prompt lengths n, comma-separated (default 10,20,40; 3,5,8 for small-n).",
            "2a" => "The training pool sizes B, comma-separated (default 64,256,1024,4096).",
            "2b" => "The hidden widths D, comma-separated (default 16,32,64; each a multiple of the 2 heads).",
            _ => "The dimensions d, comma-separated (default 2,5,10; 8,16,32 for small-n).",
        } };
        var shard = new Option<string?>("--shard") { Description = "i/m: run only jobs j with j mod m = i − 1 and write <stem>.shard-i-of-m.csv (join with seed000 merge)." };
        var sub = new Command($"figure{figure}", Describe(figure)) { output, seed, repeats, steps, batch, prompts, smoke, setting, mode, ks, sigmas, grid, shard };
        ThreadsOption.AddTo(sub);
        sub.SetAction(r => MorIclCli.Guard(ctx, $"seed000 figure{figure}", () =>
        {
            var s = ParseSetting(r.GetValue(setting), r.GetValue(mode));
            var baseScale = r.GetValue(smoke) ? Seed000Figures.Scale.Smoke : Seed000Figures.Scale.Default;
            int Positive(int? v, int fallback, string name) => v is int x ? (x >= 1 ? x : throw new SpecificationException($"{name} must be at least 1, got {x}")) : fallback;
            int rep = r.GetResult(repeats) is { Implicit: false } ? r.GetValue(repeats) : baseScale.Repeats;
            var sweep = new Seed000Sweep(figure, s, r.GetValue(smoke) ? "smoke" : "default", Positive(r.GetValue(steps), baseScale.Steps, "--steps"),
                Positive(r.GetValue(batch), baseScale.Batch, "--batch"), Positive(r.GetValue(prompts), baseScale.EvaluationPrompts, "--prompts"), Positive(rep, 1, "--repeats"), r.GetValue(seed));
            if (sweep.Prompts < 2) throw new SpecificationException($"--prompts must be at least 2, got {sweep.Prompts}");
            if (r.GetValue(ks) is { } kText)
            {
                if (figure != "1") throw new SpecificationException("--components applies to figure1 (figures 2a–2c use K = 2)");
                var kList = OptionParsing.Numbers(kText, "--components").Select(v => v >= 1 && v == Math.Floor(v) ? (int)v : throw new SpecificationException($"--components: {v} is not a component count ≥ 1")).ToArray();
                sweep = sweep with { Ks = kList };
            }
            if (r.GetValue(sigmas) is { } sText)
                sweep = sweep with { Sigmas = OptionParsing.Numbers(sText, "--sigmas").Select(v => v > 0 && double.IsFinite(v) ? v : throw new SpecificationException($"--sigmas: {v} is not a noise level σ > 0")).ToArray() };
            if (r.GetValue(grid) is { } gText)
            {
                int least = figure == "2b" ? 2 : 1;
                sweep = sweep with { Grid = OptionParsing.Numbers(gText, "--grid").Select(v => v >= least && v == Math.Floor(v) && v <= 1 << 20 && (figure != "2b" || v % 2 == 0)
                    ? (int)v : throw new SpecificationException($"--grid: {v} is not a{(figure == "2b" ? "n even width (2 heads)" : "n integer ≥ 1")}")).ToArray() };
            }
            var (index, count) = r.GetValue(shard) is { } text ? Seed000Shards.Parse(text) : (1, 1);
            var folder = r.GetValue(output)!;
            using var outputs = new StagedOutputs();
            var stage = outputs.Folder(folder);
            var jobs = sweep.Jobs();
            var mine = Seed000Shards.Select(jobs, index, count);
            var scale = sweep.Scale;
            var results = new List<Seed000Result>();
            foreach (var job in mine)
            {
                ctx.Interrupt.ThrowIfCancellationRequested();
                var res = Seed000Figures.Run(job, scale, (task, width, sd) => new GptModel(new GptConfig(task.D, 3, width, 2), sd, Precision.Float));
                results.Add(res);
                ctx.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"job {job.Index + 1}/{jobs.Count}: figure {figure}, {job.Series}, {Seed000Csv.XName(figure)} = {job.X}, repeat {job.Repeat + 1}: trained {res.Trained:G3}, EM (random) {res.EmRandom:G3}, EM (good) {res.EmGood:G3}, OLS {res.Ols:G3} ({res.Seconds:F1} s)"));
            }
            if (count > 1)
            {
                string name = $"{sweep.FileStem}.shard-{index}-of-{count}.csv";
                AtomicFile.WriteAllText(Path.Combine(stage, name), Seed000Csv.Repeats(sweep, jobs.Count, results));
                outputs.Commit(ctx.Interrupt);
                ctx.Out.WriteLine($"wrote {name} ({results.Count} of {jobs.Count} jobs) to {folder}; join the shards with: mor-icl seed000 merge --out {folder} {sweep.FileStem}.shard-*-of-{count}.csv");
            }
            else
            {
                WriteSweep(stage, sweep, jobs.Count, results);
                outputs.Commit(ctx.Interrupt);
                ctx.Out.WriteLine($"wrote {sweep.FileStem}-repeats.csv, {sweep.FileStem}.csv and {sweep.FileStem}.png to {folder} ({results.Sum(x => x.Seconds):F0} s of training and evaluation)");
            }
            return ExitCodes.Ok;
        }));
        return sub;
    }

    private static Command MergeCommand(CliContext ctx)
    {
        var output = new Option<string>("--out") { Description = "Folder for the merged CSVs and PNG.", Required = true };
        var files = new Argument<string[]>("shards") { Description = "The shard CSVs of one sweep (seed000 figure… --shard i/m), or repeats CSVs.", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("merge", "Join the shards of a seed000 sweep into its repeats CSV, summary CSV (means and bootstrap intervals) and PNG.") { output, files };
        cmd.SetAction(r => MorIclCli.Guard(ctx, "seed000 merge", () =>
        {
            var (sweep, results) = Seed000Csv.Merge(r.GetValue(files)!);
            var folder = r.GetValue(output)!;
            using var outputs = new StagedOutputs();
            WriteSweep(outputs.Folder(folder), sweep, results.Count, results);
            outputs.Commit(ctx.Interrupt);
            ctx.Out.WriteLine($"merged {results.Count} jobs of {sweep.Config}: wrote {sweep.FileStem}-repeats.csv, {sweep.FileStem}.csv and {sweep.FileStem}.png to {folder}");
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    private static Seed000Setting ParseSetting(string? setting, string? mode)
    {
        if (setting is not null && mode is not null) throw new SpecificationException("give --setting or the older --mode, not both");
        if (mode is not null)
            return mode switch
            {
                "per-sample" => Seed000Setting.Paper,
                "per-prompt" => Seed000Setting.PerPrompt,
                _ => throw new SpecificationException($"--mode: '{mode}' is not a mode; use per-sample or per-prompt (or --setting)"),
            };
        return setting is null ? Seed000Setting.Paper : Seed000Settings.Parse(setting);
    }

    private static string Describe(string f) => f switch
    {
        "1" => "Figure 1: excess MSE against prompt length n, per K and σ.",
        "2a" => "Figure 2(a): excess MSE against the number of training prompts B (fixed pool).",
        "2b" => "Figure 2(b): excess MSE against the hidden width D.",
        _ => "Figure 2(c): excess MSE against the dimension d.",
    };

    /// <summary>Writes the repeats CSV, the summary CSV and the PNG of a complete sweep.</summary>
    private static void WriteSweep(string folder, Seed000Sweep sweep, int jobs, List<Seed000Result> results)
    {
        var points = Seed000Figures.Summarise(results);
        AtomicFile.RequireFolder(Path.Combine(folder, "x"));
        AtomicFile.WriteAllText(Path.Combine(folder, $"{sweep.FileStem}-repeats.csv"), Seed000Csv.Repeats(sweep, jobs, results));
        AtomicFile.WriteAllText(Path.Combine(folder, $"{sweep.FileStem}.csv"), Seed000Csv.Summary(sweep, points));
        var panels = new List<BandPlot.Panel>();
        foreach (var g in points.GroupBy(p => p.Series))
        {
            var x = g.Select(p => p.X).ToArray();
            BandPlot.Band B(string what, Func<Seed000Point, MeanInterval> m, int colour) =>
                new(what, x, g.Select(p => m(p).Mean).ToArray(), g.Select(p => m(p).Low).ToArray(), g.Select(p => m(p).High).ToArray(), colour, colour);
            panels.Add(new BandPlot.Panel(g.Key, new[] { B("trained transformer", p => p.Trained, 0), B("EM, random start", p => p.EmRandom, 1), B("EM, true start", p => p.EmGood, 2), B("least squares", p => p.Ols, 3) }));
        }
        string xName = Seed000Csv.XName(sweep.Figure);
        BandPlot.WritePanels(Path.Combine(folder, $"{sweep.FileStem}.png"),
            $"Seed 000 Figure {sweep.Figure}, {Seed000Settings.Describe(sweep.Setting)}: mean excess MSE over {sweep.Repeats} repeats, 95 % bootstrap bands",
            xName, "excess MSE", panels, logX: true);
    }
}
