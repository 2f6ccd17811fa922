using MorIcl.Tests.Support;

namespace MorIcl.Tests.Cli;

/// <summary><c>verify --check X --update-readme</c> replaces that check's row only; the rest of the README stays byte for byte.</summary>
public class VerifyReadmeTests
{
    private const string Before = "# Title\n\ntext before\n\n<!-- verify:begin (written by `mor-icl verify --full --update-readme README.md`; do not edit by hand) -->\n"
        + "_From `mor-icl verify --full --seed 1`, 2026-11-23._\n\n| check | statement | status | result | seconds |\n|---|---|---|---|---|\n"
        + "| Lemma3_1 | old statement | passed | OLD | 0 |\n| PropositionE1 | Prop. E.1 | passed | kept as it is | 1 |\n| TheoremB2 | Thm B.2 | passed | slope \\|x\\| kept | 45 |\n"
        + "<!-- verify:end -->\n\ntext after\n";

    [Fact]
    public void OneCheckReplacesOneRow()
    {
        using var cli = new CliRunner();
        var readme = cli.Write("README.md", Before);
        var r = cli.Run("verify", "--check", "Lemma3_1", "--update-readme", readme);
        Assert.True(r.ExitCode == 0, r.Err);
        var after = File.ReadAllText(readme).Split('\n');
        var before = Before.Split('\n');
        var rows = after.Where(l => l.StartsWith("| ")).ToArray();
        Assert.Equal(4, rows.Length);                                            // header and the three checks
        Assert.StartsWith("| Lemma3_1 | seed 000 Lemma 3.1", rows[1]);
        Assert.DoesNotContain("OLD", rows[1]);
        Assert.Equal(before.Where(l => l.StartsWith("| PropositionE1") || l.StartsWith("| TheoremB2")), rows[2..]);
        Assert.Contains("_From `mor-icl verify --full --seed 1`, 2026-11-23._", after);
        Assert.Contains(after, l => l.StartsWith("_Row Lemma3_1 from `mor-icl verify --check Lemma3_1 --seed 1`"));
        Assert.Equal(before[..4], after[..4]);
        Assert.Equal(before[^4..], after[^4..]);
    }

    [Fact]
    public void BrokenMarkersAreRefusedBeforeAnyCheckRuns()
    {
        using var cli = new CliRunner();
        var readme = cli.Write("README.md", "# x\n<!-- verify:begin -->\nno end\n");
        var r = cli.Run("verify", "--check", "Lemma3_1", "--update-readme", readme);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("markers are broken", r.Err);
        Assert.Equal("# x\n<!-- verify:begin -->\nno end\n", File.ReadAllText(readme));
    }
}
