using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using MorIcl.IO;
using MorIcl.Verification;

namespace MorIcl.Cli.Commands;

/// <summary>report.md, report.json, one PNG per rate series, and the README table.</summary>
internal static class VerifyReport
{
    public const string ReadmeBegin = "<!-- verify:begin (written by `mor-icl verify --full --update-readme README.md`; do not edit by hand) -->";
    public const string ReadmeEnd = "<!-- verify:end -->";

    /// <summary>A number rounded for reports and snapshots: 3 significant digits, invariant culture.</summary>
    public static string Round(double v) =>
        double.IsNaN(v) ? "NaN" : double.IsPositiveInfinity(v) ? "∞" : double.IsNegativeInfinity(v) ? "−∞" : v == 0 ? "0" : v.ToString("G3", CultureInfo.InvariantCulture);

    /// <summary>As <see cref="Round"/>, but rounding-level values (|v| &lt; 1e−12, which differ in the last bits between
    /// processors) print as "&lt; 1e-12", so a report is identical on every machine.</summary>
    public static string Stable(double v) => double.IsFinite(v) && v != 0 && Math.Abs(v) < 1e-12 ? "< 1e-12" : Round(v);

    /// <summary>"passed", "FAILED" or "not applicable".</summary>
    public static string StatusText(CheckResult r) => r.Status switch { CheckStatus.Passed => "passed", CheckStatus.Failed => "FAILED", _ => "not applicable" };

    /// <summary>A measurement's value, with "± SE" when it is statistical.</summary>
    public static string ValueText(Measurement m, bool exact)
    {
        string v = exact ? Round(m.Value) : Stable(m.Value);
        return double.IsNaN(m.StandardError) ? v : $"{v} ± {(exact ? Round(m.StandardError) : Stable(m.StandardError))}";
    }

    public static string Markdown(IReadOnlyList<CheckResult> results, IReadOnlyList<ProofCheck> checks, bool full, int seed, bool includeTimes, string? modelPath = null)
    {
        var sb = new StringBuilder();
        sb.Append("# MorIcl proof checks (").Append(modelPath is null ? full ? "full" : "fast" : $"model {Path.GetFileName(modelPath)}, {(full ? "full" : "fast")}").Append(" versions, seed ").Append(seed).Append(")\n\n");
        sb.Append("Every statistical measurement is printed as value ± its Monte-Carlo standard error (SE); rate windows use z = ").Append(SlopeWindow.Z.ToString(CultureInfo.InvariantCulture))
          .Append(" (docs/math.md §10).\n\n");
        sb.Append(Table(results, includeTimes)).Append('\n');
        foreach (var r in results)
        {
            var check = checks.First(c => c.Name == r.Name);
            sb.Append("## ").Append(r.Name).Append(" — ").Append(StatusText(r)).Append("\n\n");
            sb.Append("**Statement.** ").Append(r.Statement).Append("\n\n");
            if (!r.Applicable) { sb.Append("**Not applicable:** ").Append(r.NotApplicableReason).Append("\n\n"); continue; }
            sb.Append("**Criterion and its derivation.** ").Append(check.Derivation).Append("\n\n");
            if (check.MeantToKill.Count > 0) sb.Append("**Mutants it is meant to kill.** ").Append(string.Join("; ", check.MeantToKill)).Append("\n\n");
            sb.Append("**Configuration.** ").Append(r.Configuration).Append("\n\n");
            sb.Append("| measured | value ± SE | criterion | |\n|---|---|---|---|\n");
            foreach (var m in r.Measurements) sb.Append($"| {Cell(m.Name)} | {ValueText(m, includeTimes)} | {Cell(m.Criterion)} | {(m.Passed ? "✓" : "✗")} |\n");
            foreach (var s in r.Series) sb.Append($"\n![{s.Title}]({FileName(s)})\n");
            if (r.Failed) sb.Append("\n**Failure.** ").Append(r.FailureMessage).Append('\n');
            sb.Append("\nReproduce: `").Append(r.Reproduce).Append("`\n\n");
        }
        sb.Append(NotChecked());
        return sb.ToString();
    }

    /// <summary>The statements without a numerical check, each with its reason and what was tried.</summary>
    public static string NotChecked()
    {
        var sb = new StringBuilder("## Statements not checked\n\n");
        foreach (var u in UncheckedStatement.All)
            sb.Append("**").Append(u.Name).Append("** — ").Append(u.Statement).Append(". **Not checked:** ").Append(u.Reason).Append(". ").Append(u.Details).Append("\n\n");
        return sb.ToString();
    }

    public static string Table(IReadOnlyList<CheckResult> results, bool includeTimes)
    {
        var sb = new StringBuilder("| check | statement | status | result |" + (includeTimes ? " seconds |" : "") + "\n|---|---|---|---|" + (includeTimes ? "---|" : "") + "\n");
        foreach (var r in results) sb.Append(TableRow(r, includeTimes));
        return sb.ToString();
    }

    private static string TableRow(CheckResult r, bool includeTimes) =>
        $"| {Cell(r.Name)} | {Cell(r.Statement)} | {StatusText(r)} | {Cell(RoundSummary(r, includeTimes))} |" + (includeTimes ? $" {r.Seconds:F0} |" : "") + "\n";

    /// <summary>A Markdown table cell: a '|' in the text (|x|, ‖·‖ written with bars) would start a new cell.</summary>
    public static string Cell(string text) => text.Replace("|", "\\|").Replace("\n", " ");

    /// <summary>The summary with every number rounded (stable across machines).</summary>
    private static string RoundSummary(CheckResult r, bool exact) =>
        System.Text.RegularExpressions.Regex.Replace(r.Summary, @"-?\d+(\.\d+)?(E[-+]?\d+)?", m =>
        {
            double v = double.Parse(m.Value, CultureInfo.InvariantCulture);
            return exact ? Round(v) : Stable(v);
        });

    public static JsonObject Json(IReadOnlyList<CheckResult> results, bool full, int seed, string? modelPath = null) => new()
    {
        ["full"] = full, ["seed"] = seed, ["model"] = modelPath, ["passed"] = results.All(r => !r.Failed),
        ["failed"] = new JsonArray(results.Where(r => r.Failed).Select(r => (JsonNode)JsonValue.Create(r.Name)!).ToArray()),
        ["notChecked"] = new JsonArray(UncheckedStatement.All.Select(u => (JsonNode)new JsonObject
        {
            ["name"] = u.Name, ["statement"] = u.Statement, ["reason"] = u.Reason, ["details"] = u.Details,
        }).ToArray()),
        ["checks"] = new JsonArray(results.Select(r => (JsonNode)new JsonObject
        {
            ["name"] = r.Name, ["statement"] = r.Statement, ["status"] = StatusText(r), ["passed"] = !r.Failed, ["notApplicable"] = r.NotApplicableReason,
            ["summary"] = r.Summary, ["configuration"] = r.Configuration, ["reproduce"] = r.Reproduce, ["seconds"] = r.Seconds,
            ["measurements"] = new JsonArray(r.Measurements.Select(m => (JsonNode)new JsonObject
            {
                ["name"] = m.Name, ["value"] = double.IsFinite(m.Value) ? m.Value : null, ["standardError"] = double.IsFinite(m.StandardError) ? m.StandardError : null,
                ["criterion"] = m.Criterion, ["passed"] = m.Passed,
            }).ToArray()),
            ["series"] = new JsonArray(r.Series.Select(s => (JsonNode)new JsonObject
            {
                ["title"] = s.Title, ["x"] = Numbers(s.X), ["median"] = Numbers(s.Median), ["quantile95"] = Numbers(s.Quantile95),
                ["slope"] = double.IsFinite(s.Slope) ? s.Slope : null, ["intercept"] = double.IsFinite(s.Intercept) ? s.Intercept : null,
                ["bound"] = s.BoundOrder is null ? null : Numbers(s.BoundOrder), ["boundLabel"] = s.BoundLabel,
            }).ToArray()),
        }).ToArray()),
    };

    /// <summary>A JSON array of numbers with null for NaN and ±∞ (which JSON cannot hold).</summary>
    public static JsonArray Numbers(IEnumerable<double> values) => new(values.Select(v => (JsonNode?)(double.IsFinite(v) ? JsonValue.Create(v) : null)).ToArray());

    public static string FileName(RateSeries s) =>
        new string(s.Title.Select(c => char.IsLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-').ToArray()).Replace("--", "-").Trim('-') + ".png";

    /// <summary>Error against n (or d) on log–log axes (<see cref="AxisScale"/>: ticks in the values; a zero or
    /// negative value turns the axis symmetric-log instead of being dropped): the Monte-Carlo central value
    /// and 95 % quantile, the fitted line and the bound's order.</summary>
    public static void Plot(string path, RateSeries s)
    {
        var fitted = s.X.Select(x => Math.Exp(s.Intercept + s.Slope * Math.Log(x))).ToArray();
        var ys = s.Median.Concat(s.Quantile95).Concat(fitted).Concat(s.BoundOrder ?? Array.Empty<double>()).ToArray();
        var xScale = AxisScale.For(s.X, log: true);
        var yScale = AxisScale.For(ys, log: true);
        var plt = new ScottPlot.Plot();
        var lx = s.X.Select(xScale.Map).ToArray();
        ScottPlot.Plottables.Scatter Line(double[] y, string label)
        {
            var keep = Enumerable.Range(0, y.Length).Where(i => double.IsFinite(y[i])).ToArray();
            var sc = plt.Add.Scatter(keep.Select(i => lx[i]).ToArray(), keep.Select(i => yScale.Map(y[i])).ToArray());
            sc.LegendText = label;
            return sc;
        }
        Line(s.Median, "Monte-Carlo central value");
        Line(s.Quantile95, "95 % quantile").LinePattern = ScottPlot.LinePattern.Dashed;
        Line(fitted, $"fit, slope {s.Slope:F3}").MarkerSize = 0;
        if (s.BoundOrder is { } b)
        {
            var bound = Line(b, s.BoundLabel);
            bound.MarkerSize = 0; bound.LinePattern = ScottPlot.LinePattern.Dotted;
        }
        if (xScale.Ticks(s.X) is { } xt) plt.Axes.Bottom.TickGenerator = xt;
        if (yScale.Ticks(ys) is { } yt) plt.Axes.Left.TickGenerator = yt;
        plt.Title(s.Title.Replace("‖", "|"));
        plt.XLabel(s.XLabel + xScale.Note);
        plt.YLabel(s.YLabel.Replace("‖", "|").Replace("β̂", "b").Replace("β", "b") + yScale.Note);
        // Decreasing curves leave the upper right empty, increasing ones the upper left.
        plt.ShowLegend(s.Slope < 0 ? ScottPlot.Alignment.UpperRight : ScottPlot.Alignment.UpperLeft);
        AtomicFile.WriteAllBytes(path, plt.GetImageBytes(800, 550, ScottPlot.ImageFormat.Png));
    }

    /// <summary>Throws unless the README's markers are usable: none (the table is appended), or a begin marker followed by an end marker.</summary>
    public static void RequireMarkers(string path)
    {
        var text = File.ReadAllText(path);
        int b = text.IndexOf(BeginPrefix, StringComparison.Ordinal), e = text.IndexOf(ReadmeEnd, StringComparison.Ordinal);
        if ((b >= 0) != (e >= 0) || e >= 0 && e < b)
            throw new InputException($"{path}: the table markers are broken (expected '{BeginPrefix} …' before '{ReadmeEnd}')");
    }

    private const string BeginPrefix = "<!-- verify:begin";

    /// <summary>
    /// Writes <paramref name="readPath"/> with its marked table replaced to <paramref name="writePath"/> (adds the
    /// markers if absent). With <paramref name="partial"/> (one <c>--check</c>) only the rows of the checks run are
    /// replaced (or added); the other rows and the table's provenance stay, and a line says where the new rows come from.
    /// </summary>
    public static void UpdateReadme(string readPath, string writePath, IReadOnlyList<CheckResult> results, bool full, int seed, bool partial)
    {
        if (!File.Exists(readPath)) throw new InputException($"{readPath}: file not found");
        var text = File.ReadAllText(readPath);
        int b = text.IndexOf(BeginPrefix, StringComparison.Ordinal), e = text.IndexOf(ReadmeEnd, StringComparison.Ordinal);
        bool marked = b >= 0 && e > b;
        string date = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        string block;
        if (partial && marked)
        {
            var lines = text[b..e].Split('\n').Skip(1).ToList(); // without the begin marker
            foreach (var r in results)
            {
                var row = TableRow(r, includeTimes: true).TrimEnd('\n');
                int at = lines.FindIndex(l => l.StartsWith($"| {r.Name} |", StringComparison.Ordinal));
                if (at >= 0) lines[at] = row;
                else lines.Insert(Math.Max(lines.FindLastIndex(l => l.StartsWith('|')) + 1, 0), row);
                string note = $"_Row {r.Name} from `mor-icl verify --check {r.Name}{(full ? " --full" : "")} --seed {seed}`, {date}._";
                int old = lines.FindIndex(l => l.StartsWith($"_Row {r.Name} from ", StringComparison.Ordinal));
                if (old >= 0) lines[old] = note;
                else lines.Insert(lines.FindIndex(l => l.StartsWith('|')) is int t && t > 0 ? t - 1 : 0, note);
            }
            block = ReadmeBegin + "\n" + string.Join("\n", lines).TrimEnd('\n') + "\n" + ReadmeEnd;
        }
        else block = $"{ReadmeBegin}\n_From `mor-icl verify{(full ? " --full" : "")}{(partial ? " --check " + results[0].Name : "")} --seed {seed}`, {date}._\n\n{Table(results, includeTimes: true)}{ReadmeEnd}";
        text = marked ? text[..b] + block + text[(e + ReadmeEnd.Length)..] : text.TrimEnd() + "\n\n" + block + "\n";
        AtomicFile.WriteAllText(writePath, text);
    }
}
