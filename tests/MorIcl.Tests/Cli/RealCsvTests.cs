using System.Text.Json.Nodes;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Cli;

/// <summary>A CSV with its own header fits with --response (and --features); errors name the column.</summary>
public class RealCsvTests
{
    private static (CliRunner Cli, string Default, string Real) Data()
    {
        var cli = new CliRunner();
        var p = cli.PathOf("p.csv");
        Assert.Equal(0, cli.Run("sample", "--dim", "2", "--components", "2", "--prompt-length", "60", "--sigma", "0.3", "--seed", "4", "--out", p).ExitCode);
        var lines = File.ReadAllLines(p);
        var real = new List<string> { "id,\"height, cm\",name,score,weight" };
        for (int i = 1; i < lines.Length; i++)
        {
            var f = lines[i].Split(',');
            real.Add($"{i},{f[0]},\"Smith, {i}\",{f[2]},{f[1]}");
        }
        return (cli, p, cli.Write("real.csv", string.Join("\n", real) + "\n"));
    }

    private static JsonNode Fit(CliRunner cli, params string[] args)
    {
        var r = cli.Run(new[] { "em", "--components", "2", "--json" }.Concat(args).ToArray());
        Assert.True(r.ExitCode == 0, r.Err);
        return JsonNode.Parse(r.Out)!;
    }

    [Fact]
    public void ColumnsChosenByNameGiveTheSameFitAsTheDefaultHeader()
    {
        var (cli, plain, real) = Data();
        using var _ = cli;
        var expected = Fit(cli, "--data", plain);
        var got = Fit(cli, "--data", real, "--response", "score", "--features", "\"height, cm\",weight");
        Assert.Equal(expected["beta"]!.ToJsonString(), got["beta"]!.ToJsonString());
        Assert.Equal(expected["logLikelihood"]!.ToJsonString(), got["logLikelihood"]!.ToJsonString());
        Assert.Equal("[\"height, cm\",\"weight\"]", got["features"]!.ToJsonString());
        Assert.Equal("score", (string)got["response"]!);
        // β's coordinates follow --features.
        var swapped = Fit(cli, "--data", real, "--response", "score", "--features", "weight,\"height, cm\"");
        Assert.Equal("[\"weight\",\"height, cm\"]", swapped["features"]!.ToJsonString());
    }

    [Theory]
    [InlineData(new[] { "--response", "Score" }, "no column named 'Score' (did you mean 'score'?)")]
    [InlineData(new[] { "--response", "score" }, "field 3 (name) 'Smith, 1' is not a number (every column but the response is a feature: choose them with --features)")]
    [InlineData(new[] { "--response", "score", "--features", "weight,height" }, "--features: no column named 'height'")]
    [InlineData(new[] { "--response", "score", "--features", "weight,score" }, "'score' is the response column")]
    [InlineData(new[] { "--response", "score", "--features", "weight,weight" }, "names 'weight' twice")]
    [InlineData(new string[0], "header field 1 is 'id', expected 'x1'")]
    public void ColumnProblemsAreNamed(string[] args, string mention)
    {
        var (cli, _, real) = Data();
        using var __ = cli;
        var r = cli.Run(new[] { "em", "--components", "2", "--data", real }.Concat(args).ToArray());
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("real.csv", r.Err);
        Assert.Contains(mention, r.Err);
    }

    [Fact]
    public void AHugeValueNamesItsColumnAndLine()
    {
        using var cli = new CliRunner();
        var csv = cli.Write("h.csv", "x1,x2,y\n1,2,3\n0.5,-1,2\n2,1e308,0\n-1,0.3,1\n");
        var r = cli.Run("em", "--data", csv, "--components", "2");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("h.csv:4: column 'x2' has a value of magnitude 1E+308", r.Err);
        Assert.DoesNotContain("Gram", r.Err);
        // The same bound on a named response column.
        csv = cli.Write("r.csv", "a,b\n1,2\n3,-1e200\n2,1\n");
        r = cli.Run("em", "--data", csv, "--components", "1", "--response", "b");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("column 'b'", r.Err);
    }
}
