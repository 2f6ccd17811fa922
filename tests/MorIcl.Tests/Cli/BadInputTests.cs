using MorIcl.Tests.Support;

namespace MorIcl.Tests.Cli;

/// <summary>Bad input: one line naming the file, line and field; exit code 2; nothing written.</summary>
public class BadInputTests
{
    private const string Good = "x1,x2,y\n1,2,3\n0.5,-1,2\n2,1,0\n-1,0.3,1\n";

    private static void AssertBad(CliResult r, params string[] mentions)
    {
        Assert.Equal(2, r.ExitCode);
        var lines = r.Err.Trim().Split('\n');
        Assert.True(lines.Length <= 2, $"expected one error line, got: {r.Err}");
        foreach (var m in mentions) Assert.Contains(m, r.Err);
        Assert.DoesNotContain("   at ", r.Err); // no stack trace
        Assert.Equal("", r.Out);
    }

    private static CliResult Em(CliRunner cli, string csv, params string[] extra) =>
        cli.Run(new[] { "em", "--data", cli.Write("d.csv", csv), "--components", "2" }.Concat(extra).ToArray());

    [Fact] public void MissingFile() { using var c = new CliRunner(); AssertBad(c.Run("em", "--data", c.PathOf("nope.csv"), "--components", "2"), "nope.csv", "not found"); }
    [Fact] public void RaggedRow() { using var c = new CliRunner(); AssertBad(Em(c, "x1,x2,y\n1,2,3\n1,2\n"), "d.csv:3", "2 fields, expected 3"); }
    [Fact] public void NonNumericField() { using var c = new CliRunner(); AssertBad(Em(c, "x1,x2,y\n1,2,3\n1,abc,2\n"), "d.csv:3", "field 2 (x2)", "'abc'"); }
    [Fact] public void NaNField() { using var c = new CliRunner(); AssertBad(Em(c, "x1,x2,y\n1,2,3\n1,2,NaN\n"), "d.csv:3", "field 3 (y)", "NaN"); }
    [Fact] public void InfinityField() { using var c = new CliRunner(); AssertBad(Em(c, "x1,x2,y\n1,2,3\nInfinity,2,1\n"), "d.csv:3", "field 1 (x1)"); }
    [Fact] public void BadHeader() { using var c = new CliRunner(); AssertBad(Em(c, "a,b,y\n1,2,3\n"), "d.csv:1", "'a'", "x1"); }
    [Fact] public void HeaderDoesNotMatchDim() { using var c = new CliRunner(); AssertBad(Em(c, Good, "--dim", "5"), "d.csv:1", "d = 2", "5"); }
    [Fact] public void EmptyFile() { using var c = new CliRunner(); AssertBad(Em(c, ""), "d.csv:1", "empty"); }
    [Fact] public void TooFewExamples() { using var c = new CliRunner(); AssertBad(Em(c, "x1,x2,y\n1,2,3\n0,1,2\n"), "d.csv", "n = 2", "d = 2"); }
    [Fact] public void SigmaNotPositive() { using var c = new CliRunner(); AssertBad(Em(c, Good, "--sigma", "0"), "--sigma", "> 0"); }
    [Fact] public void NegativeSigma() { using var c = new CliRunner(); AssertBad(Em(c, Good, "--sigma", "-1"), "--sigma"); }
    [Fact] public void ComponentsBelowOne() { using var c = new CliRunner(); AssertBad(c.Run("em", "--data", c.Write("d.csv", Good), "--components", "0"), "--components", "at least 1"); }
    [Fact] public void MixingNotPositive() { using var c = new CliRunner(); AssertBad(Em(c, Good, "--fixed-mixing", "1.2,-0.2"), "--fixed-mixing[1]", "positive"); }
    [Fact] public void MixingNotSummingToOne() { using var c = new CliRunner(); AssertBad(Em(c, Good, "--fixed-mixing", "0.5,0.6"), "--fixed-mixing", "sum to 1"); }
    [Fact] public void MixingWrongCount() { using var c = new CliRunner(); AssertBad(Em(c, Good, "--fixed-mixing", "1"), "--fixed-mixing", "expected K = 2"); }
    [Fact] public void SigmaAndVarianceTogether() { using var c = new CliRunner(); AssertBad(Em(c, Good, "--sigma", "1", "--variance", "shared"), "exclude"); }
    [Fact] public void UnknownAlgorithm() { using var c = new CliRunner(); AssertBad(Em(c, Good, "--algorithm", "magic"), "'magic'"); }
    [Fact] public void NonNumericOption() { using var c = new CliRunner(); AssertBad(c.Run("em", "--data", c.Write("d.csv", Good), "--components", "two"), "two"); }

    [Theory]
    [InlineData("{\"beta\": [[1, 2], [3, 4], [5, 6]]}", "3 components, expected K = 2")]
    [InlineData("{\"beta\": [[1, 2, 3], [3, 4, 5]]}", "3 numbers, expected d = 2")]
    [InlineData("{\"beta\": [[1, 2], [3]]}", "beta[1] has 1 numbers")]
    [InlineData("{\"beta\": [[1, 2], [3, 4]], \"mixing\": [0.2, 0.2]}", "sum to 1")]
    [InlineData("{\"beta\": [[1, 2], [3, 4]], \"sigma\": [1, -1]}", "sigma[1]")]
    [InlineData("{\"beta\": [[1, \"a\"], [3, 4]]}", "beta[0][1] must be a number")]
    [InlineData("{\"mixing\": [0.5, 0.5]}", "'beta'")]
    [InlineData("{\"beta\": [[1, 2], [3, 4]", "not valid JSON")]
    public void InitOfTheWrongShape(string json, string mention)
    {
        using var c = new CliRunner();
        AssertBad(Em(c, Good, "--init", c.Write("init.json", json)), "init.json", mention);
    }

    [Fact]
    public void SampleBadInputWritesNothing()
    {
        using var c = new CliRunner();
        var outPath = c.PathOf("out.csv");
        AssertBad(c.Run("sample", "--dim", "3", "--components", "2", "--prompt-length", "10", "--sigma", "0", "--out", outPath), "--sigma");
        AssertBad(c.Run("sample", "--dim", "3", "--components", "0", "--prompt-length", "10", "--sigma", "1", "--out", outPath), "--components");
        AssertBad(c.Run("sample", "--dim", "3", "--components", "2", "--prompt-length", "10", "--sigma", "1", "--mixing", "0.5,0.6", "--out", outPath), "sum to 1");
        AssertBad(c.Run("sample", "--dim", "3", "--components", "2", "--prompt-length", "10", "--sigma", "1", "--mixing", "0,1", "--out", outPath), "positive");
        AssertBad(c.Run("sample", "--dim", "3", "--components", "3", "--prompt-length", "10", "--sigma", "1", "--symmetric", "--out", outPath), "--symmetric");
        AssertBad(c.Run("sample", "--dim", "3", "--components", "2", "--prompt-length", "10", "--sigma", "1", "--mode", "sideways", "--out", outPath), "sideways");
        AssertBad(c.Run("sample", "--dim", "3", "--components", "2", "--prompt-length", "10", "--sigma", "1", "--out", c.PathOf("no/such/dir/x.csv")), "does not exist");
        Assert.Empty(Directory.GetFiles(c.Dir));
    }

    [Fact]
    public void ExistingOutputIsKeptWhenTruthCannotBeWritten()
    {
        using var c = new CliRunner();
        var outPath = c.Write("out.csv", "old");
        var r = c.Run("sample", "--dim", "2", "--components", "2", "--prompt-length", "10", "--sigma", "1", "--out", outPath, "--truth", c.PathOf("no/dir/t.json"));
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("old", File.ReadAllText(outPath));
        Assert.Single(Directory.GetFiles(c.Dir));
    }
}
