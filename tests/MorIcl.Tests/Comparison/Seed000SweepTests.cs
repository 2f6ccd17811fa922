using System.Globalization;
using MorIcl.Comparison;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Comparison;

/// <summary>Seed 000 sweeps: shards merge to the unsharded sweep, the CSVs carry repeats and intervals, and bad input is named.</summary>
public class Seed000SweepTests
{
    /// <summary>Every column but the wall-clock seconds.</summary>
    private static string[] WithoutSeconds(string path, string secondsColumn = "seconds")
    {
        var lines = File.ReadAllLines(path);
        int drop = Array.IndexOf(lines[0].Split(','), secondsColumn);
        Assert.True(drop >= 0, $"{path} has no {secondsColumn} column");
        // The series field is quoted and holds one comma, so count fields from the end.
        return lines.Select(l => { var f = l.Split(','); int fromEnd = lines[0].Split(',').Length - drop; return string.Join(",", f.Where((_, i) => i != f.Length - fromEnd)); }).ToArray();
    }

    [Fact]
    public void ShardsMergeToTheUnshardedSweepAndMergeRejectsAnIncompleteOrDoubledSet()
    {
        using var cli = new CliRunner();
        string whole = Directory.CreateDirectory(cli.PathOf("whole")).FullName, parts = Directory.CreateDirectory(cli.PathOf("parts")).FullName;
        Assert.Equal(0, cli.Run("seed000", "figure2b", "--smoke", "--repeats", "3", "--sigmas", "0.3", "--out", whole).ExitCode);
        for (int i = 1; i <= 2; i++) Assert.Equal(0, cli.Run("seed000", "figure2b", "--smoke", "--repeats", "3", "--sigmas", "0.3", "--shard", $"{i}/2", "--out", parts).ExitCode);
        string s1 = Path.Combine(parts, "figure2b.shard-1-of-2.csv"), s2 = Path.Combine(parts, "figure2b.shard-2-of-2.csv");
        var merged = cli.Run("seed000", "merge", "--out", parts, s1, s2);
        Assert.True(merged.ExitCode == 0, merged.Err);
        Assert.Equal(WithoutSeconds(Path.Combine(whole, "figure2b.csv")), WithoutSeconds(Path.Combine(parts, "figure2b.csv")));
        Assert.Equal(WithoutSeconds(Path.Combine(whole, "figure2b-repeats.csv")), WithoutSeconds(Path.Combine(parts, "figure2b-repeats.csv")));
        Assert.True(File.Exists(Path.Combine(parts, "figure2b.png")));
        Assert.All(File.ReadAllLines(Path.Combine(parts, "figure2b.csv")).Skip(1), l => Assert.StartsWith("\"K = 2, σ = 0.3\"", l));

        var missing = cli.Run("seed000", "merge", "--out", parts, s1);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("missing", missing.Err);
        var twice = cli.Run("seed000", "merge", "--out", parts, s1, s1, s2);
        Assert.Equal(2, twice.ExitCode);
        Assert.Contains("also in", twice.Err);
        // A row from another sweep (another seed) is refused.
        var other = cli.Write("other.csv", File.ReadAllText(s2).Replace(";seed=1;", ";seed=2;"));
        var mixed = cli.Run("seed000", "merge", "--out", parts, s1, other);
        Assert.Equal(2, mixed.ExitCode);
        Assert.Contains("another sweep", mixed.Err);
        // So is one run with other noise levels.
        var sigmas = cli.Write("sigmas.csv", File.ReadAllText(s2).Replace(";sigmas=0.3,", ";sigmas=0.2/1,"));
        var otherSigmas = cli.Run("seed000", "merge", "--out", parts, s1, sigmas);
        Assert.Equal(2, otherSigmas.ExitCode);
        Assert.Contains("another sweep", otherSigmas.Err);
    }

    [Fact]
    public void TheSummaryHasRepeatsAndAnIntervalAroundEveryMean()
    {
        using var cli = new CliRunner();
        Assert.Equal(0, cli.Run("seed000", "figure1", "--smoke", "--setting", "beta-per-prompt", "--repeats", "4", "--out", cli.Dir).ExitCode);
        var lines = File.ReadAllLines(cli.PathOf("figure1-beta-per-prompt.csv"));
        var header = lines[0].Split(',');
        Assert.Contains("repeats", header);
        var row = lines[1][(lines[1].IndexOf("\",", StringComparison.Ordinal) + 2)..].Split(',');   // after the quoted series
        var cols = header.Skip(1).ToArray();
        Assert.Equal("4", row[Array.IndexOf(cols, "repeats")]);
        foreach (var m in Seed000Csv.Measures)
        {
            double V(string c) => double.Parse(row[Array.IndexOf(cols, c)], CultureInfo.InvariantCulture);
            Assert.True(V($"{m}_ci_low") <= V(m) && V(m) <= V($"{m}_ci_high"), $"{m}: {V($"{m}_ci_low")} ≤ {V(m)} ≤ {V($"{m}_ci_high")}");
        }
    }

    [Fact]
    public void TheGridOptionSetsTheFiguresXValuesAndIsRecordedInTheConfig()
    {
        using var cli = new CliRunner();
        var r = cli.Run("seed000", "figure2a", "--smoke", "--repeats", "2", "--grid", "8,32", "--out", cli.Dir);
        Assert.True(r.ExitCode == 0, r.Err);
        var rows = File.ReadAllLines(cli.PathOf("figure2a.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.Equal(new[] { "8", "32" }, rows.Select(f => f[2]));   // the series field holds one comma
        Assert.All(File.ReadAllLines(cli.PathOf("figure2a-repeats.csv")).Skip(1), l => Assert.Contains(";grid=8/32,", l));
        var odd = cli.Run("seed000", "figure2b", "--smoke", "--grid", "15", "--out", cli.Dir);
        Assert.Equal(2, odd.ExitCode);
        Assert.Contains("even width", odd.Err);
    }

    [Theory]
    [InlineData("--grid", "0")]
    [InlineData("--shard", "3/2")]
    [InlineData("--shard", "two")]
    [InlineData("--setting", "paperish")]
    [InlineData("--repeats", "0")]
    [InlineData("--sigmas", "0")]
    [InlineData("--sigmas", "low")]
    public void BadOptionsExitWithTwo(string option, string value)
    {
        using var cli = new CliRunner();
        var r = cli.Run("seed000", "figure1", "--smoke", option, value, "--out", cli.Dir);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(option, r.Err);
    }

    [Fact]
    public void ThePercentileIntervalCoversTheMeanAtItsMeasuredRate()
    {
        // 400 samples of 20 standard normals: the percentile bootstrap's coverage of the true mean 0 is about
        // 0.93 for R = 20 (docs/math.md §11). Binomial sd over 400 trials ≈ 0.013; the window is ±3 sd around 0.925.
        var rng = MorIcl.Numerics.SeedSequence.Create(3);
        int covered = 0;
        for (int t = 0; t < 400; t++)
        {
            var v = Enumerable.Range(0, 20).Select(_ => MathNet.Numerics.Distributions.Normal.Sample(rng, 0, 1)).ToArray();
            var ci = BootstrapInterval.Of(v, seed: t);
            if (ci.Low <= 0 && 0 <= ci.High) covered++;
        }
        Assert.InRange(covered / 400.0, 0.885, 0.965);
    }
}
