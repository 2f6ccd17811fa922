using System.IO.Compression;
using System.Text.Json.Nodes;
using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.IO;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Cli;

public class ConstructAndRunCommandTests
{
    private static void Construct(CliRunner c, params string[] extra)
    {
        var r = c.Run(new[] { "construct", "--dim", "4", "--components", "3", "--em-iterations", "4", "--gd-steps", "2", "--step-size", "0.5",
            "--sigma", "0.4", "--out", c.PathOf("model.json") }.Concat(extra).ToArray());
        Assert.True(r.ExitCode == 0, r.Err);
    }

    [Fact]
    public void ModelJsonRoundTripsBitForBit()
    {
        var spec = new ConstructionSpec(3, 2, 0.5, new[] { 0.3, 0.7 }, 2, 2, 0.4);
        var model = Compiler.Compile(spec);
        using var c = new CliRunner();
        ModelJson.Write(c.PathOf("m.json"), model);
        var back = ModelJson.Read(c.PathOf("m.json"));
        Assert.Equal(model.Spec, back.Spec);
        Assert.Equal(model.Layout.RowNames(), back.Layout.RowNames());
        Assert.Equal(model.Layers.Count, back.Layers.Count);
        for (int l = 0; l < model.Layers.Count; l++)
        {
            if (model.Layers[l] is AttentionLayer a)
            {
                var b = Assert.IsType<AttentionLayer>(back.Layers[l]);
                for (int h = 0; h < a.Heads.Length; h++)
                {
                    Assert.Equal(a.Heads[h].Query, b.Heads[h].Query);
                    Assert.Equal(a.Heads[h].Key, b.Heads[h].Key);
                    Assert.Equal(a.Heads[h].Value, b.Heads[h].Value);
                    Assert.Equal(a.Heads[h].Admission, b.Heads[h].Admission);
                }
            }
            else
            {
                var m = (MlpLayer)model.Layers[l]; var b = Assert.IsType<MlpLayer>(back.Layers[l]);
                Assert.Equal(m.W1, b.W1); Assert.Equal(m.W2, b.W2); Assert.Equal(m.B2, b.B2);
            }
        }
    }

    [Fact]
    public void ConstructThenRunMatchesReferenceAndWritesTraceAndNpz()
    {
        using var c = new CliRunner();
        c.Run("sample", "--dim", "4", "--components", "3", "--prompt-length", "60", "--sigma", "0.4", "--seed", "5", "--out", c.PathOf("p.csv"), "--truth", c.PathOf("t.json"));
        Construct(c, "--init", c.PathOf("t.json"), "--mixing", "0.2,0.3,0.5", "--npz", c.PathOf("m.npz"));
        var r = c.Run("run", "--model", c.PathOf("model.json"), "--data", c.PathOf("p.csv"), "--json", "--trace", c.PathOf("trace.csv"));
        Assert.True(r.ExitCode == 0, r.Err);
        var o = JsonNode.Parse(r.Out)!;
        Assert.True(o["certificate"]!["inDomain"]!.GetValue<bool>());
        Assert.True(o["maxAbsDifference"]!.GetValue<double>() < 1e-10);
        Assert.Equal(3, o["beta"]!.AsArray().Count);
        foreach (var f in new[] { "prediction", "beta", "referenceBeta", "maxAbsDifference", "certificate" }) Assert.NotNull(o[f]);
        foreach (var f in new[] { "inDomain", "minMargin", "maxLeakage" }) Assert.NotNull(o["certificate"]![f]);

        var trace = File.ReadAllLines(c.PathOf("trace.csv"));
        var model = ModelJson.Read(c.PathOf("model.json"));
        int tokens = model.Embedding.TokenCount(59);
        Assert.Equal(1 + (model.Layers.Count + 1) * tokens, trace.Length);
        Assert.StartsWith("layer,operator,token,role,x[0]", trace[0]);

        using var zip = ZipFile.OpenRead(c.PathOf("m.npz"));
        Assert.Contains(zip.Entries, e => e.FullName == "layer04.head0.Q.npy");
        Assert.Contains(zip.Entries, e => e.FullName == "layout.names.npy");
        using var s = zip.GetEntry("layer04.head0.Q.npy")!.Open();
        var head = new byte[10]; s.ReadExactly(head);
        Assert.Equal(0x93, head[0]); Assert.Equal((byte)'N', head[1]);
        Assert.Equal(0, (10 + BitConverter.ToUInt16(head, 8)) % 64);

        // With an explicit query the table form also runs.
        var table = c.Run("run", "--model", c.PathOf("model.json"), "--data", c.PathOf("p.csv"), "--query", "0.1,0.2,0.3,0.4");
        Assert.True(table.ExitCode == 0, table.Err);
        Assert.Contains("in domain", table.Out);
    }

    [Fact]
    public void WithoutRoundingBoundsTheAnswerIsTheSameAndTheCertificateSaysItIsNotBounded()
    {
        using var c = new CliRunner();
        c.Run("sample", "--dim", "4", "--components", "2", "--prompt-length", "40", "--sigma", "0.4", "--seed", "6", "--out", c.PathOf("p.csv"));
        Construct(c);
        var bounded = c.Run("run", "--model", c.PathOf("model.json"), "--data", c.PathOf("p.csv"), "--json");
        var unbounded = c.Run("run", "--model", c.PathOf("model.json"), "--data", c.PathOf("p.csv"), "--json", "--no-rounding-bounds");
        Assert.True(bounded.ExitCode == 0 && unbounded.ExitCode == 0, bounded.Err + unbounded.Err);
        JsonNode b = JsonNode.Parse(bounded.Out)!, u = JsonNode.Parse(unbounded.Out)!;
        Assert.Equal(b["prediction"]!.GetValue<double>(), u["prediction"]!.GetValue<double>());
        Assert.True(b["certificate"]!["roundingBounded"]!.GetValue<bool>());
        Assert.NotNull(b["certificate"]!["predictionErrorBound"]);
        Assert.False(u["certificate"]!["roundingBounded"]!.GetValue<bool>());
        Assert.Null(u["certificate"]!["predictionErrorBound"]);
        Assert.Null(u["certificate"]!["withinCertifiedBoundOfReference"]);
        Assert.DoesNotContain("certified in", (string)u["certificate"]!["summary"]!);
        var text = c.Run("run", "--model", c.PathOf("model.json"), "--data", c.PathOf("p.csv"), "--no-rounding-bounds");
        Assert.Contains("rounding: not bounded", text.Out);

        // The margins are still checked: a prompt outside the domain is still exit 3.
        var rows = Enumerable.Range(0, 20).Select(i => string.Join(",", Enumerable.Range(0, 4).Select(a => ((i * 7 + a * 3) % 5 - 2) * 1e6)) + ",1");
        c.Write("big.csv", "x1,x2,x3,x4,y\n" + string.Join("\n", rows) + "\n");
        Assert.Equal(3, c.Run("run", "--model", c.PathOf("model.json"), "--data", c.PathOf("big.csv"), "--no-rounding-bounds").ExitCode);
    }

    [Fact]
    public void ALongPromptIsToldThatTheBoundsPassCanTakeMinutesAndHowToSkipIt()
    {
        using var c = new CliRunner();
        c.Run("construct", "--dim", "1", "--components", "2", "--em-iterations", "1", "--gd-steps", "1", "--step-size", "0.5", "--sigma", "0.5",
            "--max-prompt-length", "6000", "--out", c.PathOf("long.json"));
        c.Run("sample", "--dim", "1", "--components", "2", "--prompt-length", "5001", "--sigma", "0.5", "--seed", "2", "--out", c.PathOf("long.csv"));
        c.Run("sample", "--dim", "1", "--components", "2", "--prompt-length", "4999", "--sigma", "0.5", "--seed", "2", "--out", c.PathOf("short.csv"));
        var bounded = c.Run("run", "--model", c.PathOf("long.json"), "--data", c.PathOf("long.csv"), "--json");
        Assert.True(bounded.ExitCode == 0, bounded.Err);
        Assert.Contains("n = 5000 examples can take minutes", bounded.Err);
        Assert.Contains("--no-rounding-bounds skips it", bounded.Err);
        Assert.NotNull(JsonNode.Parse(bounded.Out)!["certificate"]!["predictionErrorBound"]);   // stdout is still the JSON alone
        Assert.DoesNotContain("can take minutes", c.Run("run", "--model", c.PathOf("long.json"), "--data", c.PathOf("long.csv"), "--no-rounding-bounds").Err);
        Assert.DoesNotContain("can take minutes", c.Run("run", "--model", c.PathOf("long.json"), "--data", c.PathOf("short.csv")).Err);
    }

    [Fact]
    public void OutOfDomainPromptPrintsTheAnswerMarkedAndExitsThree()
    {
        using var c = new CliRunner();
        Construct(c);
        var rows = Enumerable.Range(0, 20).Select(i => string.Join(",", Enumerable.Range(0, 4).Select(a => ((i * 7 + a * 3) % 5 - 2) * 1e6)) + ",1");
        c.Write("big.csv", "x1,x2,x3,x4,y\n" + string.Join("\n", rows) + "\n");
        var r = c.Run("run", "--model", c.PathOf("model.json"), "--data", c.PathOf("big.csv"));
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("OUT OF DOMAIN", r.Out);
        var j = c.Run("run", "--model", c.PathOf("model.json"), "--data", c.PathOf("big.csv"), "--json");
        Assert.Equal(3, j.ExitCode);
        Assert.False(JsonNode.Parse(j.Out)!["certificate"]!["inDomain"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("missing", "not found")]
    [InlineData("notjson", "not valid JSON")]
    [InlineData("format", "$.format")]
    [InlineData("version", "$.version")]
    [InlineData("rows", ".rows is")]
    [InlineData("entry", "outside the")]
    [InlineData("value", "must be a number")]
    [InlineData("activation", "relu or softmax")]
    [InlineData("layout", "$.dimension")]
    [InlineData("spec", "$.spec")]
    public void BadModelFilesAreNamed(string damage, string mention)
    {
        using var c = new CliRunner();
        Construct(c);
        c.Write("p.csv", "x1,x2,x3,x4,y\n1,2,3,4,5\n0,1,0,1,0\n1,1,1,1,1\n");
        var o = JsonNode.Parse(File.ReadAllText(c.PathOf("model.json")))!.AsObject();
        var head = o["layers"]![4]!["heads"]![0]!.AsObject();
        switch (damage)
        {
            case "missing": File.Delete(c.PathOf("model.json")); break;
            case "notjson": c.Write("model.json", "{\"format\": "); break;
            case "format": o["format"] = "something-else"; break;
            case "version": o["version"] = 99; break;
            case "rows": head["Q"]!["rows"] = 999; break;
            case "entry": head["V"]!["entries"]![0]![0] = 100000; break;
            case "value": head["K"]!["entries"]![0]![2] = "x"; break;
            case "activation": head["activation"] = "gelu"; break;
            case "layout": o["dimension"] = 3; break;
            case "spec": o["spec"]!["sigma"] = -1; break;
        }
        if (damage is not ("missing" or "notjson")) c.Write("model.json", o.ToJsonString());
        var r = c.Run("run", "--model", c.PathOf("model.json"), "--data", c.PathOf("p.csv"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("model.json", r.Err);
        Assert.Contains(mention, r.Err);
        Assert.DoesNotContain("   at ", r.Err);
    }

    [Fact]
    public void ShapeMismatchesAndBadSpecsAreClearErrors()
    {
        using var c = new CliRunner();
        Construct(c);
        c.Write("p3.csv", "x1,x2,x3,y\n1,2,3,4\n0,1,0,1\n");
        var r = c.Run("run", "--model", c.PathOf("model.json"), "--data", c.PathOf("p3.csv"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("d = 3", r.Err); Assert.Contains("d = 4", r.Err);
        c.Write("p4.csv", "x1,x2,x3,x4,y\n1,2,3,4,5\n0,1,0,1,0\n");
        Assert.Equal(2, c.Run("run", "--model", c.PathOf("model.json"), "--data", c.PathOf("p4.csv"), "--query", "1,2").ExitCode);

        c.Write("init.json", "{\"beta\": [[1, 2, 3]]}");
        var bad = c.Run("construct", "--dim", "4", "--components", "3", "--em-iterations", "2", "--gd-steps", "1", "--step-size", "0.5", "--sigma", "0.4", "--init", c.PathOf("init.json"), "--out", c.PathOf("x.json"));
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("init.json", bad.Err);
        foreach (var (flag, value, mention) in new[] { ("--sigma", "0", "sigma"), ("--step-size", "-1", "step size"), ("--em-iterations", "0", "EM iterations"), ("--margin", "1e6", "margin") })
        {
            var args = new List<string> { "construct", "--dim", "4", "--components", "3", "--em-iterations", "2", "--gd-steps", "1", "--step-size", "0.5", "--sigma", "0.4", "--out", c.PathOf("x.json") };
            int at = args.IndexOf(flag);
            if (at >= 0) args[at + 1] = value; else args.AddRange(new[] { flag, value });
            var e = c.Run(args.ToArray());
            Assert.Equal(2, e.ExitCode);
            Assert.Contains(mention, e.Err);
        }
        Assert.False(File.Exists(c.PathOf("x.json")));
    }
}
