using System.CommandLine;
using MorIcl.Cli.Hosting;
using MorIcl.IO;
using MorIcl.Verification;
using Spectre.Console;

namespace MorIcl.Cli.Commands;

/// <summary><c>mor-icl verify</c>: runs the proof checks (fast by default, full with --full) and writes the report.</summary>
internal static class VerifyCommand
{
    public static Command Create(CliContext ctx)
    {
        var check = new Option<string?>("--check") { Description = "Run one check (e.g. TheoremB2); default all." };
        var full = new Option<bool>("--full") { Description = "The full versions (larger n, more Monte-Carlo prompts; minutes)." };
        var output = new Option<string?>("--out") { Description = "Folder for report.md, report.json and the plots." };
        var seed = new Option<int>("--seed") { Description = "Root seed of every Monte-Carlo draw.", DefaultValueFactory = _ => 1 };
        var readme = new Option<string?>("--update-readme") { Description = "Write the table of checks into this README (between the verify markers)." };
        var cmd = new Command("verify", "Check the seeds' statements numerically: seed 000 on the constructed transformer (Lemma 3.1 … Theorem 4.1), seed 003 (Theorems 1, 2, Proposition 1), seed 001 (LSA global optimum).") { check, full, output, seed, readme };
        ThreadsOption.AddTo(cmd);
        cmd.SetAction(r => MorIclCli.Guard(ctx, "verify", () =>
        {
            var checks = r.GetValue(check) is { } name
                ? new[] { CheckCatalogue.Find(name) ?? throw new SpecificationException($"--check: no check named '{name}'; the checks are {string.Join(", ", CheckCatalogue.All.Select(c => c.Name))}") }
                : CheckCatalogue.All.ToArray();
            var readmePath = r.GetValue(readme);
            if (readmePath is not null && !File.Exists(readmePath)) throw new InputException($"{readmePath}: file not found");
            if (readmePath is not null) VerifyReport.RequireMarkers(readmePath);
            using var outputs = new StagedOutputs();
            var folder = r.GetValue(output) is { } o ? outputs.Folder(o) : null;
            var readmeStage = readmePath is not null ? outputs.File(readmePath) : null;
            var options = new CheckOptions { Full = r.GetValue(full), Seed = r.GetValue(seed) };
            var results = new CheckResult[checks.Length];
            ProgressBars.Create(ctx.Console).Start(p =>
            {
                var tasks = checks.Select(c => p.AddTask(c.Name, autoStart: false, maxValue: 1)).ToArray();
                for (int i = 0; i < checks.Length; i++)
                {
                    tasks[i].StartTask();
                    var task = tasks[i];
                    results[i] = checks[i].Run(options, new SynchronousProgress<double>(v => task.Value = Math.Min(1, v)));
                    task.Value = 1;
                    task.Description = $"{checks[i].Name} {(results[i].Passed ? "passed" : "FAILED")}";
                }
            });
            var table = new Table().AddColumn("check").AddColumn("status").AddColumn("result").AddColumn("seconds");
            foreach (var res in results)
                table.AddRow(res.Name, res.Passed ? "[green]passed[/]" : "[red]FAILED[/]", Markup.Escape(res.Summary), $"{res.Seconds:F1}");
            ctx.Console.Write(table);
            foreach (var res in results.Where(x => !x.Passed)) ctx.Out.WriteLine(res.FailureMessage);
            if (folder is not null)
            {
                AtomicFile.WriteAllText(Path.Combine(folder, "report.md"), VerifyReport.Markdown(results, checks, options.Full, options.Seed, includeTimes: true));
                AtomicFile.WriteAllText(Path.Combine(folder, "report.json"), ParametersJson.Serialize(VerifyReport.Json(results, options.Full, options.Seed)));
                foreach (var s in results.SelectMany(x => x.Series)) VerifyReport.Plot(Path.Combine(folder, VerifyReport.FileName(s)), s);
            }
            if (readmePath is not null) VerifyReport.UpdateReadme(readmePath, readmeStage!, results, options.Full, options.Seed, partial: r.GetValue(check) is not null);
            outputs.Commit(ctx.Interrupt);
            if (folder is not null) ctx.Out.WriteLine($"report written to {Path.Combine(r.GetValue(output)!, "report.md")}");
            return results.All(x => x.Passed) ? ExitCodes.Ok : ExitCodes.CheckFailed;
        }));
        return cmd;
    }
}
