using System.CommandLine;
using MorIcl.Cli.Hosting;
using MorIcl.IO;
using MorIcl.Runtime;
using MorIcl.Verification;
using Spectre.Console;

namespace MorIcl.Cli.Commands;

/// <summary>
/// <c>mor-icl verify</c>: runs the proof checks (fast by default, full with --full) and writes the report;
/// <c>--model FILE</c> checks one model at its own specification; <c>--calibrate</c> measures false alarms
/// over seeds; <c>--mutants</c> runs every check on every mutant and prints the kill matrix.
/// </summary>
internal static class VerifyCommand
{
    public static Command Create(CliContext ctx)
    {
        var check = new Option<string?>("--check") { Description = "Run one check (e.g. TheoremB2), or several separated by commas; default all." };
        var full = new Option<bool>("--full") { Description = "The full versions (larger n, more Monte-Carlo prompts; minutes)." };
        var output = new Option<string?>("--out") { Description = "Folder for report.md, report.json and the plots (with --calibrate: calibration.md/json; with --mutants: mutants.json)." };
        var seed = new Option<int>("--seed") { Description = "Root seed of every Monte-Carlo draw.", DefaultValueFactory = _ => 1 };
        var readme = new Option<string?>("--update-readme") { Description = "Write the table of checks into this README (between the verify markers)." };
        var model = new Option<string?>("--model") { Description = "Check this model file (mor-icl construct --out) at its own specification, n swept up to its maximum prompt length; exit 4 names the failing checks." };
        var calibrate = new Option<bool>("--calibrate") { Description = "Run the checks on the correct system with seeds 1 … --seeds and report each check's false alarms." };
        var seeds = new Option<int>("--seeds") { Description = "Seeds for --calibrate.", DefaultValueFactory = _ => 40 };
        var mutants = new Option<bool>("--mutants") { Description = "Run every check on every mutant of the catalogue and print the kill matrix (mutants.json with --out)." };
        var cmd = new Command("verify", "Check the seeds' statements numerically: seed 000 on the constructed transformer (Lemma 3.1 … Theorem 4.1), seed 003 (Theorems 1, 2, Proposition 1), seed 001 (LSA global optimum).")
        { check, full, output, seed, readme, model, calibrate, seeds, mutants };
        ThreadsOption.AddTo(cmd);
        cmd.SetAction(r => MorIclCli.Guard(ctx, "verify", () =>
        {
            var checks = r.GetValue(check) is { } names
                ? names.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(name => CheckCatalogue.Find(name)
                    ?? throw new SpecificationException($"--check: no check named '{name}'; the checks are {string.Join(", ", CheckCatalogue.All.Select(c => c.Name))}")).Distinct().ToArray()
                : CheckCatalogue.All.ToArray();
            var readmePath = r.GetValue(readme);
            int modes = (r.GetValue(model) is null ? 0 : 1) + (r.GetValue(calibrate) ? 1 : 0) + (r.GetValue(mutants) ? 1 : 0);
            if (modes > 1) throw new SpecificationException("--model, --calibrate and --mutants are separate runs; give one of them");
            if (modes > 0 && readmePath is not null) throw new SpecificationException("--update-readme writes the table of a plain verify run; it cannot be combined with --model, --calibrate or --mutants");
            if (r.GetValue(seeds) < 1) throw new SpecificationException($"--seeds must be at least 1, got {r.GetValue(seeds)}");
            if (readmePath is not null && !File.Exists(readmePath)) throw new InputException($"{readmePath}: file not found");
            if (readmePath is not null) VerifyReport.RequireMarkers(readmePath);
            string? modelPath = r.GetValue(model);
            var options = new CheckOptions { Full = r.GetValue(full), Seed = r.GetValue(seed) };
            if (modelPath is not null)
            {
                var target = ModelJson.Read(modelPath, out var digestMatches, w => ctx.Err.WriteLine($"warning: {w}"));
                if (digestMatches == false) ctx.Out.WriteLine($"{modelPath}: integrity: the weights do not hash to the file's weightsSha256 (changed since it was written); the checks hold them to the stated specification as they are");
                options = options with { Target = target, Subject = TransformerSubject.Of(target, Path.GetFileName(modelPath)) };
            }
            using var outputs = new StagedOutputs();
            var folder = r.GetValue(output) is { } o ? outputs.Folder(o) : null;
            var readmeStage = readmePath is not null ? outputs.File(readmePath) : null;
            int code;
            if (r.GetValue(calibrate)) code = VerifyCalibration.Run(ctx, checks, options, r.GetValue(seeds), folder);
            else if (r.GetValue(mutants)) code = VerifyMutants.Run(ctx, checks, options, folder);
            else
            {
                if (modelPath is not null)
                {
                    ctx.Out.WriteLine($"checking {modelPath} at its specification: {VerifyModelText.Describe(options.Target!.Spec)}");
                    var match = SpecificationMatch.Check(options.Target);
                    ctx.Out.WriteLine(match.Matches == false ? $"WEIGHTS ARE NOT THE CONSTRUCTION OF THE STATED SPECIFICATION: {match.Detail}" : $"weights: {match.Detail}");
                }
                var results = RunChecks(ctx, checks, options);
                var table = new Table().AddColumn("check").AddColumn("status").AddColumn("result").AddColumn("seconds");
                foreach (var res in results)
                    table.AddRow(res.Name, res.Status switch { CheckStatus.Passed => "[green]passed[/]", CheckStatus.Failed => "[red]FAILED[/]", _ => "[grey]not applicable[/]" },
                        Markup.Escape(res.Summary), $"{res.Seconds:F1}");
                ctx.Console.Write(table);
                foreach (var res in results.Where(x => x.Failed)) ctx.Out.WriteLine(res.FailureMessage);
                if (folder is not null)
                {
                    AtomicFile.WriteAllText(Path.Combine(folder, "report.md"), VerifyReport.Markdown(results, checks, options.Full, options.Seed, includeTimes: true, modelPath));
                    AtomicFile.WriteAllText(Path.Combine(folder, "report.json"), ParametersJson.Serialize(VerifyReport.Json(results, options.Full, options.Seed, modelPath)));
                    foreach (var s in results.SelectMany(x => x.Series)) VerifyReport.Plot(Path.Combine(folder, VerifyReport.FileName(s)), s);
                }
                if (readmePath is not null) VerifyReport.UpdateReadme(readmePath, readmeStage!, results, options.Full, options.Seed, partial: r.GetValue(check) is not null);
                var failed = results.Where(x => x.Failed).Select(x => x.Name).ToArray();
                if (modelPath is not null)
                    ctx.Out.WriteLine(failed.Length == 0
                        ? $"{modelPath}: every applicable check passed ({results.Count(x => x.Status == CheckStatus.Passed)} passed, {results.Count(x => !x.Applicable)} not applicable)"
                        : $"{modelPath}: REJECTED by {string.Join(", ", failed)}");
                code = failed.Length == 0 ? ExitCodes.Ok : ExitCodes.CheckFailed;
            }
            outputs.Commit(ctx.Interrupt);
            if (folder is not null) ctx.Out.WriteLine($"written to {r.GetValue(output)}");
            return code;
        }));
        return cmd;
    }

    /// <summary>Runs the checks with a progress bar each.</summary>
    internal static CheckResult[] RunChecks(CliContext ctx, IReadOnlyList<ProofCheck> checks, CheckOptions options)
    {
        var results = new CheckResult[checks.Count];
        ProgressBars.Create(ctx.Console).Start(p =>
        {
            var tasks = checks.Select(c => p.AddTask(c.Name, autoStart: false, maxValue: 1)).ToArray();
            for (int i = 0; i < checks.Count; i++)
            {
                tasks[i].StartTask();
                var task = tasks[i];
                results[i] = checks[i].Run(options, new SynchronousProgress<double>(v => task.Value = Math.Min(1, v)));
                task.Value = 1;
                task.Description = $"{checks[i].Name} {VerifyReport.StatusText(results[i])}";
            }
        });
        return results;
    }
}
