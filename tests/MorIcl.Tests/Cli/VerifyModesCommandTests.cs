using System.Text.Json.Nodes;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Cli;

/// <summary><c>mor-icl verify --model</c>, <c>--mutants</c> and <c>--calibrate</c> on small inputs (the full runs are in docs/verify/).</summary>
public class VerifyModesCommandTests
{
    private static string Construct(CliRunner c, string name, params string[] extra)
    {
        var r = c.Run(new[] { "construct", "--dim", "2", "--components", "2", "--em-iterations", "3", "--gd-steps", "2", "--step-size", "0.5", "--sigma", "0.1",
            "--max-prompt-length", "200", "--out", c.PathOf(name) }.Concat(extra).ToArray());
        Assert.True(r.ExitCode == 0, r.Err);
        return c.PathOf(name);
    }

    [Fact]
    public void ModelAcceptedByTheExactChecksAndAnEditedCopyRejectedByANamedProofCheck()
    {
        using var c = new CliRunner();
        var model = Construct(c, "sym.json", "--symmetric", "--mixing", "0.7,0.3");
        foreach (var check in new[] { "PropositionE1", "Lemma3_1" })
        {
            var ok = c.Run("verify", "--model", model, "--check", check);
            Assert.True(ok.ExitCode == 0, ok.Out + ok.Err);
            Assert.Contains("every applicable check passed", ok.Out);
        }
        // One value weight of the first gd_step mean head, 1 % off: the file stays well-formed, the model is wrong.
        var json = JsonNode.Parse(File.ReadAllText(model))!;
        var layer = json["layers"]!.AsArray().First(l => (string)l!["operator"]! == "gd_step" && (string)l["decode"]! == "Beta")!;
        var entry = layer["heads"]![0]!["V"]!["entries"]![0]!.AsArray();
        entry[2] = (double)entry[2]! * 1.01;
        File.WriteAllText(c.PathOf("edited.json"), json.ToJsonString());
        var bad = c.Run("verify", "--model", c.PathOf("edited.json"), "--check", "PropositionE1", "--out", c.PathOf("report"));
        Assert.Equal(4, bad.ExitCode);
        Assert.Contains("REJECTED by PropositionE1", bad.Out);
        var report = JsonNode.Parse(File.ReadAllText(c.PathOf("report/report.json")))!;
        // Theorem 2.3 has no check; the report says so, with the reason (docs/math.md §10.12).
        Assert.Contains(report["notChecked"]!.AsArray(), u => (string)u!["name"]! == "Theorem2_3" && ((string)u["reason"]!).Length > 0);
        Assert.Equal("FAILED", (string)report["checks"]![0]!["status"]!);
        Assert.Equal("PropositionE1", (string)report["failed"]![0]!);
    }

    /// <summary>
    /// Held-out edits, none of them in the mutant catalogue: the sign of the E-step's log-odds bias (an MLP bias), the read-out's
    /// −ReLU(−s) half 1 % off (active only for queries on one side, hence the mirrored query), and one gd_step gradient head zeroed.
    /// </summary>
    [Fact]
    public void HeldOutEditsOutsideTheCatalogueAreRejectedByANamedProofCheck()
    {
        using var c = new CliRunner();
        // n up to 400: PropositionE2's queries at n ∈ {10, 63, 400} all fall on the side where the −ReLU(−s) half is inactive (seed 1).
        var built = c.Run("construct", "--dim", "2", "--components", "2", "--em-iterations", "3", "--gd-steps", "2", "--step-size", "0.5", "--sigma", "0.1",
            "--max-prompt-length", "400", "--symmetric", "--mixing", "0.7,0.3", "--out", c.PathOf("sym.json"));
        Assert.True(built.ExitCode == 0, built.Err);
        var model = c.PathOf("sym.json");
        var edits = new Dictionary<string, Action<JsonArray>>
        {
            ["bias"] = layers =>
            {
                var b2 = layers.First(l => (string)l!["kind"]! == "mlp" && l["b2"]!.AsArray().Any(v => (double)v! != 0))!["b2"]!.AsArray();
                int i = b2.Select((v, j) => (Math.Abs((double)v!), j)).Max().j;
                b2[i] = -(double)b2[i]!;
            },
            ["read-out"] = layers =>
            {
                var entry = layers.First(l => (string)l!["operator"]! == "read-out")!["heads"]!.AsArray()[^1]!["V"]!["entries"]![0]!.AsArray();
                entry[2] = (double)entry[2]! * 1.01;
            },
            ["head"] = layers =>
            {
                var v = layers.First(l => (string)l!["operator"]! == "gd_step" && (string)l["decode"]! == "None")!["heads"]!.AsArray()[1]!["V"]!["entries"]!.AsArray();
                foreach (var e in v) e!.AsArray()[2] = 0.0;
            },
        };
        foreach (var (name, edit) in edits)
        {
            var json = JsonNode.Parse(File.ReadAllText(model))!;
            edit(json["layers"]!.AsArray());
            File.WriteAllText(c.PathOf($"{name}.json"), json.ToJsonString());
            var r = c.Run("verify", "--model", c.PathOf($"{name}.json"), "--check", "PropositionE2");
            Assert.True(r.ExitCode == 4, $"{name}: {r.Out}{r.Err}");
            Assert.Contains("REJECTED by PropositionE2", r.Out);
        }
    }

    [Fact]
    public void ChecksThatDoNotApplyToTheModelSayWhy()
    {
        using var c = new CliRunner();
        var model = Construct(c, "k2.json");
        var r = c.Run("verify", "--model", model, "--check", "TheoremB2", "--out", c.PathOf("report"));
        Assert.True(r.ExitCode == 0, r.Out + r.Err);
        var check = JsonNode.Parse(File.ReadAllText(c.PathOf("report/report.json")))!["checks"]![0]!;
        Assert.Equal("not applicable", (string)check["status"]!);
        Assert.Contains("symmetric", (string)check["notApplicable"]!);
    }

    [Fact]
    public void MutantsWritesTheKillMatrixAndExitsFourWhenAMutantSurvives()
    {
        using var c = new CliRunner();
        var r = c.Run("verify", "--mutants", "--check", "Lemma3_1", "--out", c.PathOf("m"));
        Assert.Equal(4, r.ExitCode);   // Lemma 3.1 alone kills only the mutants of the gd_step heads
        Assert.Contains("NOT killed", r.Out);
        var mutants = JsonNode.Parse(File.ReadAllText(c.PathOf("m/mutants.json")))!["mutants"]!.AsArray();
        Assert.Equal(MorIcl.Verification.MutantCatalogue.All.Count, mutants.Count);
        var nudged = mutants.First(m => (string)m!["name"]! == MorIcl.Verification.Mutants.GdValueNudged)!;
        Assert.False(string.IsNullOrEmpty((string)nudged["description"]!));
        Assert.Equal("Lemma3_1", (string)nudged["killedBy"]![0]!);
        Assert.Empty(mutants.First(m => (string)m!["name"]! == MorIcl.Verification.Mutants.StepSizeSmall)!["killedBy"]!.AsArray());
    }

    [Fact]
    public void CalibrateReportsFalseAlarmsPerSeeds()
    {
        using var c = new CliRunner();
        var r = c.Run("verify", "--calibrate", "--seeds", "2", "--check", "PropositionE2", "--out", c.PathOf("cal"));
        Assert.True(r.ExitCode == 0, r.Out + r.Err);
        var check = JsonNode.Parse(File.ReadAllText(c.PathOf("cal/calibration.json")))!["checks"]![0]!;
        Assert.Equal("PropositionE2", (string)check["name"]!);
        Assert.Equal(2, (int)check["seeds"]!);
        Assert.Equal(0, (int)check["falseAlarms"]!);
        Assert.True(File.Exists(c.PathOf("cal/calibration.md")));
    }

    [Fact]
    public void CheckTakesACommaSeparatedListAndNamesAnUnknownEntry()
    {
        using var c = new CliRunner();
        var r = c.Run("verify", "--check", "PropositionE2, Lemma3_1", "--out", c.PathOf("two"));
        Assert.True(r.ExitCode == 0, r.Out + r.Err);
        var names = JsonNode.Parse(File.ReadAllText(c.PathOf("two/report.json")))!["checks"]!.AsArray().Select(x => (string)x!["name"]!).ToArray();
        Assert.Equal(new[] { "PropositionE2", "Lemma3_1" }, names);
        var bad = c.Run("verify", "--check", "Lemma3_1,TheoremB9");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("no check named 'TheoremB9'", bad.Err);
    }

    [Fact]
    public void ModesCannotBeCombined()
    {
        using var c = new CliRunner();
        var r = c.Run("verify", "--mutants", "--calibrate");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("separate runs", r.Err);
    }
}
