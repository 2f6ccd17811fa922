using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using MorIcl.IO;
using MorIcl.Verification;
using Spectre.Console;

namespace MorIcl.Cli.Commands;

/// <summary><c>mor-icl verify --calibrate --seeds N</c>: each check's false alarms on the correct system over seeds 1 … N.</summary>
internal static class VerifyCalibration
{
    /// <summary>The goal for a fast check: at most one false alarm in 40 seeds.</summary>
    public const double Goal = 1.0 / 40;

    public static int Run(CliContext ctx, IReadOnlyList<ProofCheck> checks, CheckOptions options, int seeds, string? folder)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        IReadOnlyList<Calibration.CheckCalibration> result = Array.Empty<Calibration.CheckCalibration>();
        ProgressBars.Create(ctx.Console).Start(p =>
        {
            var tasks = checks.ToDictionary(c => c.Name, c => p.AddTask(c.Name, autoStart: true, maxValue: seeds));
            result = Calibration.Run(checks, seeds, options, (name, s) => tasks[name].Value = s);
        });
        var table = new Table().AddColumn("check").AddColumn("false alarms").AddColumn("failed seeds").AddColumn("closest criterion (failures per measurement)").AddColumn("seconds");
        foreach (var c in result)
            table.AddRow(c.Name, c.NotApplicable == c.Seeds ? "n/a" : $"{c.Failures}/{c.Seeds}", string.Join(" ", c.FailedSeeds),
                Markup.Escape(string.Join("; ", c.Measurements.Where(m => m.Failures > 0).Select(m => $"{m.Name}: {m.Failures}"))), c.Seconds.ToString("F0", CultureInfo.InvariantCulture));
        ctx.Console.Write(table);
        var over = result.Where(c => c.Failures > Goal * c.Seeds).Select(c => c.Name).ToArray();
        ctx.Out.WriteLine($"{(options.Full ? "full" : "fast")} checks, seeds 1–{seeds}, {sw.Elapsed.TotalMinutes:F1} min: "
            + (over.Length == 0 ? $"every check at or below {Goal * seeds:G3} false alarms per {seeds} seeds" : $"above {Goal * seeds:G3} per {seeds}: {string.Join(", ", over)}"));
        if (folder is not null)
        {
            AtomicFile.WriteAllText(Path.Combine(folder, "calibration.json"), ParametersJson.Serialize(Json(result, options.Full)));
            AtomicFile.WriteAllText(Path.Combine(folder, "calibration.md"), Markdown(result, options.Full, sw.Elapsed.TotalMinutes));
        }
        return ExitCodes.Ok;
    }

    public static JsonObject Json(IReadOnlyList<Calibration.CheckCalibration> result, bool full) => new()
    {
        ["full"] = full,
        ["checks"] = new JsonArray(result.Select(c => (JsonNode)new JsonObject
        {
            ["name"] = c.Name, ["seeds"] = c.Seeds, ["falseAlarms"] = c.Failures, ["failedSeeds"] = new JsonArray(c.FailedSeeds.Select(s => (JsonNode)JsonValue.Create(s)).ToArray()),
            ["notApplicable"] = c.NotApplicable, ["seconds"] = c.Seconds,
            ["measurements"] = new JsonArray(c.Measurements.Select(m => (JsonNode)new JsonObject
            {
                ["name"] = m.Name, ["failures"] = m.Failures, ["values"] = VerifyReport.Numbers(m.Values),
                ["mean"] = Finite(m.Values.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average()), ["sd"] = Finite(Sd(m.Values)),
                ["meanStandardError"] = Finite(m.StandardErrors.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average()),
            }).ToArray()),
        }).ToArray()),
    };

    public static string Markdown(IReadOnlyList<Calibration.CheckCalibration> result, bool full, double minutes)
    {
        var sb = new StringBuilder($"# False alarms of the {(full ? "full" : "fast")} proof checks (seeds 1–{result.FirstOrDefault()?.Seeds ?? 0}, {minutes:F1} min)\n\n");
        sb.Append("| check | false alarms | failed seeds | seconds |\n|---|---|---|---|\n");
        foreach (var c in result) sb.Append($"| {c.Name} | {(c.NotApplicable == c.Seeds ? "n/a" : $"{c.Failures}/{c.Seeds}")} | {string.Join(" ", c.FailedSeeds)} | {c.Seconds:F0} |\n");
        sb.Append("\nPer measurement: mean and standard deviation over seeds, the mean Monte-Carlo SE the check itself reported, and the failures.\n\n");
        sb.Append("| check | measurement | mean | sd over seeds | mean reported SE | failures |\n|---|---|---|---|---|---|\n");
        foreach (var c in result)
            foreach (var m in c.Measurements)
                sb.Append($"| {c.Name} | {VerifyReport.Cell(m.Name)} | {VerifyReport.Round(m.Values.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average())} | {VerifyReport.Round(Sd(m.Values))} | "
                    + $"{VerifyReport.Round(m.StandardErrors.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average())} | {m.Failures} |\n");
        return sb.ToString();
    }

    private static double Sd(double[] v)
    {
        var f = v.Where(double.IsFinite).ToArray();
        if (f.Length < 2) return double.NaN;
        double m = f.Average();
        return Math.Sqrt(f.Sum(x => (x - m) * (x - m)) / (f.Length - 1));
    }

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;
}
