using MorIcl.Tests.Support;

namespace MorIcl.Tests.Cli;

/// <summary>The experiment commands run as documented (short settings) and name bad input.</summary>
public class ExperimentCommandTests
{
    [Fact]
    public void Seed000SmokeRunWritesItsFiles()
    {
        using var cli = new CliRunner();
        var r = cli.Run("seed000", "figure2a", "--smoke", "--out", cli.Dir);
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.True(File.Exists(cli.PathOf("figure2a.csv")) && File.Exists(cli.PathOf("figure2a.png")));
        r = cli.Run("seed000", "figure1", "--smoke", "--mode", "per-prompt", "--out", cli.Dir);
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.True(File.Exists(cli.PathOf("figure1-per-prompt.csv")));
        r = cli.Run("seed000", "figure1", "--steps", "0", "--out", cli.Dir);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--steps", r.Err);
    }

    [Fact]
    public void Seed003Theorem1ReportsTheSlackAtEveryStep()
    {
        using var cli = new CliRunner();
        var r = cli.Run("seed003", "theorem1", "--steps", "40", "--out", cli.Dir);
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains("the bound holds at every step", r.Out);
        var rows = File.ReadAllLines(cli.PathOf("theorem1.csv"));
        Assert.Equal(1 + 3 * 41, rows.Length);   // gap, bound and slack at t = 0 … 40
        r = cli.Run("seed003", "figure3", "--out", cli.Dir);
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains("smallest at N = 100", r.Out);
    }
}
