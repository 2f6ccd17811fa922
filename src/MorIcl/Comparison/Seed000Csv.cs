using System.Globalization;
using System.Text;

namespace MorIcl.Comparison;

/// <summary>
/// What identifies a seed 000 sweep: the figure, the setting, the scale (named grid, steps, batch,
/// evaluation prompts, repeats) and the root seed. Written into every row of a repeats CSV as
/// <c>figure=1;setting=paper;scale=default;steps=1500;batch=64;prompts=400;repeats=20;seed=1</c>, so
/// shards of different sweeps are never merged together.
/// </summary>
public sealed record Seed000Sweep(string Figure, Seed000Setting Setting, string ScaleName, int Steps, int Batch, int Prompts, int Repeats, int Seed)
{
    /// <summary>Figure 1's component counts K when narrower than the scale's (null: the scale's); written as <c>;ks=2</c> or <c>;ks=2/3</c>.</summary>
    public int[]? Ks { get; init; }

    /// <summary>The noise levels σ when narrower than the scale's (null: the scale's); written as <c>;sigmas=1</c> or <c>;sigmas=0.2/1</c>.</summary>
    public double[]? Sigmas { get; init; }

    /// <summary>The figure's x values (n, B, D or d) when other than the scale's (null: the scale's); written as <c>;grid=64/4096</c>.</summary>
    public int[]? Grid { get; init; }

    public string Config => string.Create(CultureInfo.InvariantCulture,
        $"figure={Figure};setting={Seed000Settings.Name(Setting)};scale={ScaleName};steps={Steps};batch={Batch};prompts={Prompts};repeats={Repeats};seed={Seed}")
        + (Ks is null ? "" : ";ks=" + string.Join("/", Ks.Select(k => k.ToString(CultureInfo.InvariantCulture))))
        + (Sigmas is null ? "" : ";sigmas=" + string.Join("/", Sigmas.Select(v => v.ToString("R", CultureInfo.InvariantCulture))))
        + (Grid is null ? "" : ";grid=" + string.Join("/", Grid.Select(v => v.ToString(CultureInfo.InvariantCulture))));

    public string FileStem => Seed000Settings.FileStem(Figure, Setting);

    /// <summary>The scale this sweep runs at: the named grid with its steps, batch, prompts and repeats.</summary>
    public Seed000Figures.Scale Scale
    {
        get
        {
            var named = ScaleName switch
            {
                "default" => Seed000Figures.Scale.Default,
                "smoke" => Seed000Figures.Scale.Smoke,
                _ => throw new SpecificationException($"unknown scale '{ScaleName}': expected default or smoke"),
            };
            var scale = named with { Steps = Steps, Batch = Batch, EvaluationPrompts = Prompts, Repeats = Repeats, Ks = Ks ?? named.Ks, Sigmas = Sigmas ?? named.Sigmas };
            if (Grid is not { } g) return scale;
            bool small = Setting == Seed000Setting.SmallN;
            return Figure switch
            {
                "1" => small ? scale with { SmallNs = g } : scale with { Ns = g },
                "2a" => scale with { Pools = g },
                "2b" => scale with { Widths = g },
                _ => small ? scale with { SmallDims = g } : scale with { Dims = g },
            };
        }
    }

    public IReadOnlyList<Seed000Job> Jobs() => Seed000Figures.Jobs(Figure, Setting, Scale, Seed);

    public static Seed000Sweep Parse(string config, string source)
    {
        var fields = new Dictionary<string, string>();
        foreach (var part in config.Split(';'))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0) throw new InputException($"{source}: the config '{config}' is malformed (expected key=value;…)");
            fields[part[..eq]] = part[(eq + 1)..];
        }
        string Get(string key) => fields.TryGetValue(key, out var v) ? v : throw new InputException($"{source}: the config '{config}' has no {key}");
        int Int(string key) => int.TryParse(Get(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : throw new InputException($"{source}: the config's {key} is not an integer");
        Seed000Setting setting;
        try { setting = Seed000Settings.Parse(Get("setting")); }
        catch (SpecificationException e) { throw new InputException($"{source}: {e.Message}"); }
        int[]? ks = null;
        if (fields.TryGetValue("ks", out var kText))
            ks = kText.Split('/').Select(k => int.TryParse(k, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= 1 ? v : throw new InputException($"{source}: the config's ks '{kText}' is not a list of K ≥ 1")).ToArray();
        double[]? sigmas = null;
        if (fields.TryGetValue("sigmas", out var sText))
            sigmas = sText.Split('/').Select(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) && x > 0 && double.IsFinite(x) ? x : throw new InputException($"{source}: the config's sigmas '{sText}' is not a list of σ > 0")).ToArray();
        int[]? grid = null;
        if (fields.TryGetValue("grid", out var gText))
            grid = gText.Split('/').Select(v => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int x) && x >= 1 ? x : throw new InputException($"{source}: the config's grid '{gText}' is not a list of integers ≥ 1")).ToArray();
        var sweep = new Seed000Sweep(Get("figure"), setting, Get("scale"), Int("steps"), Int("batch"), Int("prompts"), Int("repeats"), Int("seed")) { Ks = ks, Sigmas = sigmas, Grid = grid };
        if (!Seed000Figures.Figures.Contains(sweep.Figure)) throw new InputException($"{source}: unknown figure '{sweep.Figure}'");
        if (sweep.ScaleName is not ("default" or "smoke")) throw new InputException($"{source}: unknown scale '{sweep.ScaleName}'");
        return sweep;
    }
}

/// <summary>
/// The CSV files of a seed 000 sweep. A <b>repeats</b> file (a whole sweep, or one shard of it) has one
/// row per job: <c>config,job,jobs,series,x,repeat,seed,trained_excess_mse,em_random_excess_mse,
/// em_good_excess_mse,ols_excess_mse,final_training_loss,seconds</c>. A <b>summary</b> file has one row
/// per point: <c>series,&lt;x&gt;,repeats</c>, then for each measure its mean over repeats and
/// <c>&lt;measure&gt;_ci_low</c>, <c>&lt;measure&gt;_ci_high</c> (bootstrap 95 %), then <c>seconds</c>
/// (the point's training and evaluation time summed over repeats), <c>setting</c> and <c>steps</c>.
/// </summary>
public static class Seed000Csv
{
    public const string RepeatsHeader = "config,job,jobs,series,x,repeat,seed,trained_excess_mse,em_random_excess_mse,em_good_excess_mse,ols_excess_mse,final_training_loss,seconds";
    public static readonly string[] Measures = { "trained_excess_mse", "em_random_excess_mse", "em_good_excess_mse", "ols_excess_mse", "final_training_loss" };

    public static string XName(string figure) => figure switch { "1" => "n", "2a" => "B", "2b" => "D", _ => "d" };

    public static string Repeats(Seed000Sweep sweep, int jobs, IEnumerable<Seed000Result> results)
    {
        var sb = new StringBuilder(RepeatsHeader).Append('\n');
        foreach (var r in results.OrderBy(r => r.Job))
            sb.Append(sweep.Config).Append(',').Append(r.Job).Append(',').Append(jobs).Append(',').Append(Quote(r.Series)).Append(',').Append(R(r.X)).Append(',')
              .Append(r.Repeat).Append(',').Append(r.Seed).Append(',').Append(R(r.Trained)).Append(',').Append(R(r.EmRandom)).Append(',').Append(R(r.EmGood)).Append(',')
              .Append(R(r.Ols)).Append(',').Append(R(r.FinalTrainingLoss)).Append(',').Append(r.Seconds.ToString("F3", CultureInfo.InvariantCulture)).Append('\n');
        return sb.ToString();
    }

    public static string Summary(Seed000Sweep sweep, IEnumerable<Seed000Point> points)
    {
        var sb = new StringBuilder($"series,{XName(sweep.Figure)},repeats");
        foreach (var m in Measures) sb.Append(',').Append(m).Append(',').Append(m).Append("_ci_low,").Append(m).Append("_ci_high");
        sb.Append(",seconds,setting,steps\n");
        foreach (var p in points)
        {
            sb.Append(Quote(p.Series)).Append(',').Append(R(p.X)).Append(',').Append(p.Repeats);
            foreach (var v in new[] { p.Trained, p.EmRandom, p.EmGood, p.Ols, p.FinalTrainingLoss })
                sb.Append(',').Append(R(v.Mean)).Append(',').Append(R(v.Low)).Append(',').Append(R(v.High));
            sb.Append(',').Append(p.Seconds.ToString("F1", CultureInfo.InvariantCulture)).Append(',').Append(Seed000Settings.Name(sweep.Setting)).Append(',').Append(sweep.Steps).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// Reads repeats files (shards of one sweep) and checks that together they hold every job of the
    /// sweep exactly once, each row agreeing with the job list the config regenerates.
    /// </summary>
    public static (Seed000Sweep Sweep, List<Seed000Result> Results) Merge(IReadOnlyList<string> paths)
    {
        if (paths.Count == 0) throw new SpecificationException("merge needs at least one repeats or shard CSV");
        Seed000Sweep? sweep = null;
        string? first = null;
        IReadOnlyList<Seed000Job>? jobs = null;
        var byJob = new Dictionary<int, (Seed000Result Result, string Where)>();
        foreach (var path in paths)
        {
            if (!File.Exists(path)) throw new InputException($"{path}: file not found");
            var lines = File.ReadAllLines(path);
            if (lines.Length == 0 || lines[0].Trim() != RepeatsHeader) throw new InputException($"{path}:1: not a seed000 repeats or shard CSV (expected the header {RepeatsHeader})");
            for (int i = 1; i < lines.Length; i++)
            {
                if (lines[i].Length == 0) continue;
                string where = $"{path}:{i + 1}";
                var f = Split(lines[i], where);
                if (f.Count != 13) throw new InputException($"{where}: expected 13 fields, got {f.Count}");
                if (sweep is null) { sweep = Seed000Sweep.Parse(f[0], where); first = where; jobs = sweep.Jobs(); }
                else if (f[0] != sweep.Config) throw new InputException($"{where}: this row is from another sweep ({f[0]}) than {first} ({sweep.Config})");
                int job = Int(f[1], "job", where), count = Int(f[2], "jobs", where);
                if (count != jobs!.Count) throw new InputException($"{where}: says the sweep has {count} jobs; its config has {jobs.Count}");
                if (job < 0 || job >= count) throw new InputException($"{where}: job {job} is outside 0 … {count - 1}");
                var expect = jobs[job];
                var result = new Seed000Result(job, f[3], Num(f[4], "x", where), Int(f[5], "repeat", where), Int(f[6], "seed", where),
                    Num(f[7], "trained_excess_mse", where), Num(f[8], "em_random_excess_mse", where), Num(f[9], "em_good_excess_mse", where),
                    Num(f[10], "ols_excess_mse", where), Num(f[11], "final_training_loss", where), Num(f[12], "seconds", where));
                if (result.Series != expect.Series || result.X != expect.X || result.Repeat != expect.Repeat || result.Seed != expect.Seed)
                    throw new InputException($"{where}: job {job} should be ({expect.Series}, x = {R(expect.X)}, repeat {expect.Repeat}, seed {expect.Seed}), the row says ({result.Series}, x = {R(result.X)}, repeat {result.Repeat}, seed {result.Seed})");
                if (byJob.TryGetValue(job, out var seen)) throw new InputException($"{where}: job {job} is also in {seen.Where} (a shard given twice?)");
                byJob[job] = (result, where);
            }
        }
        if (sweep is null) throw new InputException($"{string.Join(", ", paths)}: no rows");
        var missing = Enumerable.Range(0, jobs!.Count).Where(j => !byJob.ContainsKey(j)).ToArray();
        if (missing.Length > 0)
            throw new InputException($"the shards hold {byJob.Count} of the sweep's {jobs.Count} jobs; missing: {string.Join(", ", missing.Take(10))}{(missing.Length > 10 ? ", …" : "")} (is a shard absent?)");
        return (sweep, byJob.Values.Select(v => v.Result).OrderBy(r => r.Job).ToList());
    }

    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    private static string Quote(string s) => "\"" + s.Replace("\"", "\"\"") + "\"";

    private static int Int(string s, string field, string where) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : throw new InputException($"{where}: {field} '{s}' is not an integer");

    private static double Num(string s, string field, string where) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : throw new InputException($"{where}: {field} '{s}' is not a number");

    /// <summary>Fields of one CSV line (RFC 4180 quoting: "…" with "" for a quote).</summary>
    private static List<string> Split(string line, string where)
    {
        var fields = new List<string>();
        var sb = new StringBuilder();
        int i = 0;
        while (true)
        {
            sb.Clear();
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length) throw new InputException($"{where}: unterminated quoted field");
                    if (line[i] == '"') { if (i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i += 2; continue; } i++; break; }
                    sb.Append(line[i++]);
                }
                if (i < line.Length && line[i] != ',') throw new InputException($"{where}: text after a quoted field");
            }
            else while (i < line.Length && line[i] != ',') sb.Append(line[i++]);
            fields.Add(sb.ToString());
            if (i >= line.Length) return fields;
            i++;   // the comma
        }
    }
}
