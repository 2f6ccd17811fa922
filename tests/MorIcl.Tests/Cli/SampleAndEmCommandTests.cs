using System.Text.Json.Nodes;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Cli;

public class SampleAndEmCommandTests
{
    [Fact]
    public void SampleWritesHeaderAndRowsAndTruthThatEmAcceptsAsInit()
    {
        using var cli = new CliRunner();
        var r = cli.Run("sample", "--dim", "5", "--components", "2", "--prompt-length", "500", "--sigma", "0.5", "--seed", "1",
            "--out", cli.PathOf("data.csv"), "--truth", cli.PathOf("truth.json"));
        Assert.True(r.ExitCode == 0, r.Err);
        var lines = File.ReadAllLines(cli.PathOf("data.csv"));
        Assert.Equal("x1,x2,x3,x4,x5,y", lines[0]);
        Assert.Equal(501, lines.Length);
        Assert.All(lines.Skip(1), l => Assert.Equal(6, l.Split(',').Length));
        var truth = JsonNode.Parse(File.ReadAllText(cli.PathOf("truth.json")))!;
        Assert.Equal(2, truth["beta"]!.AsArray().Count);
        // Same seed, same file.
        var again = cli.Run("sample", "--dim", "5", "--components", "2", "--prompt-length", "500", "--sigma", "0.5", "--seed", "1", "--out", cli.PathOf("again.csv"));
        Assert.Equal(File.ReadAllText(cli.PathOf("data.csv")), File.ReadAllText(cli.PathOf("again.csv")));

        var em = cli.Run("em", "--data", cli.PathOf("data.csv"), "--components", "2", "--init", cli.PathOf("truth.json"), "--json");
        Assert.True(em.ExitCode == 0, em.Err);
        var o = JsonNode.Parse(em.Out)!.AsObject();
        foreach (var f in new[] { "beta", "mixing", "sigma", "logLikelihood", "iterations", "converged" }) Assert.True(o.ContainsKey(f), f);
        Assert.Equal(2, o["beta"]!.AsArray().Count);
        Assert.Equal(5, o["beta"]![0]!.AsArray().Count);
        Assert.Equal(2, o["sigma"]!.AsArray().Count);
        Assert.Single(em.Out.Trim().Split('\n'));
    }

    [Fact]
    public void EmTableAndGradientAndKnownSigmaModesRun()
    {
        using var cli = new CliRunner();
        cli.Run("sample", "--dim", "3", "--components", "3", "--prompt-length", "400", "--sigma", "0.2", "--seed", "4", "--out", cli.PathOf("d.csv"));
        var table = cli.Run("em", "--data", cli.PathOf("d.csv"), "--components", "3", "--init-seed", "7");
        Assert.True(table.ExitCode == 0, table.Err);
        Assert.Contains("converged", table.Out);
        var grad = cli.Run("em", "--data", cli.PathOf("d.csv"), "--components", "3", "--sigma", "0.2", "--fixed-mixing", "0.3,0.3,0.4",
            "--algorithm", "gradient", "--inner-steps", "3", "--step-size", "0.8", "--json");
        Assert.True(grad.ExitCode == 0, grad.Err);
        var o = JsonNode.Parse(grad.Out)!;
        Assert.Equal(0.2, o["sigma"]![2]!.GetValue<double>());
        Assert.Equal(0.4, o["mixing"]![2]!.GetValue<double>());
        var shared = cli.Run("em", "--data", cli.PathOf("d.csv"), "--components", "3", "--variance", "shared", "--json");
        var s = JsonNode.Parse(shared.Out)!["sigma"]!.AsArray().Select(v => v!.GetValue<double>()).Distinct();
        Assert.Single(s);
    }

    [Fact]
    public void SymmetricAndPerPromptSampling()
    {
        using var cli = new CliRunner();
        var r = cli.Run("sample", "--dim", "4", "--components", "2", "--prompt-length", "50", "--sigma", "0.5", "--symmetric",
            "--mixing", "0.3,0.7", "--mode", "per-prompt", "--out", cli.PathOf("s.csv"), "--truth", cli.PathOf("t.json"));
        Assert.True(r.ExitCode == 0, r.Err);
        var t = JsonNode.Parse(File.ReadAllText(cli.PathOf("t.json")))!;
        for (int a = 0; a < 4; a++) Assert.Equal(-t["beta"]![0]![a]!.GetValue<double>(), t["beta"]![1]![a]!.GetValue<double>());
        Assert.Equal("per-prompt", t["mode"]!.GetValue<string>());
    }

    [Fact]
    public void DemoRuns()
    {
        using var cli = new CliRunner();
        var r = cli.Run("demo", "--prompt-length", "500");
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains("oracle", r.Out);
        Assert.Contains("exact EM", r.Out);
        // Like with like: gradient EM with the transformer's S, not run to convergence, equals the transformer's row.
        string[] Cells(string label) => r.Out.Split('\n').Single(l => l.StartsWith("│ " + label)).Split('│').Select(c => c.Trim()).Where(c => c.Length > 0).ToArray();
        var em = Cells("gradient EM (S = 20, T = 1, α = 1)");
        var transformer = Cells("constructed transformer (S = 20");
        Assert.Equal("20", em[1]);
        Assert.Equal(em[1..], transformer[1..]);
    }
}
