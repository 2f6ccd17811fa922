using System.Text.Json.Nodes;
using MorIcl.Cli;
using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.IO;
using MorIcl.Runtime;
using MorIcl.Tests.Bounds;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Cli;

/// <summary>
/// Models that prove they are their spec: the weights' SHA-256 in the file (weights changed since it was
/// written are reported, not refused, so the checks still hold them to their spec), the specification match (recompile and compare every weight) with each kind of edit
/// it must reject, <c>run</c>'s exit 3 when the result leaves the certified bound of the spec's
/// reference, and trained / hand-built models that are never labelled as a construction.
/// </summary>
public class ModelIntegrityTests
{
    private static readonly ConstructionSpec Spec = new(3, 2, 0.5, new[] { 0.4, 0.6 }, 2, 2, 0.5);

    private static (CliRunner Cli, string Data) Setup()
    {
        var c = new CliRunner();
        Assert.Equal(0, c.Run("sample", "--dim", "3", "--components", "2", "--prompt-length", "30", "--sigma", "0.5", "--seed", "4", "--out", c.PathOf("p.csv")).ExitCode);
        return (c, c.PathOf("p.csv"));
    }

    private static JsonNode Run(CliRunner c, string model, string data, int exitCode, params string[] extra)
    {
        var r = c.Run(new[] { "run", "--model", model, "--data", data, "--json" }.Concat(extra).ToArray());
        Assert.True(r.ExitCode == exitCode, $"exit {r.ExitCode}: {r.Err}{r.Out}");
        return JsonNode.Parse(r.Out)!;
    }

    [Fact]
    public void TheDigestCoversEveryWeightAndNothingElse()
    {
        var m = Compiler.Compile(Spec);
        string d = WeightsDigest.Of(m);
        Assert.Matches("^[0-9a-f]{64}$", d);
        Assert.Equal(d, WeightsDigest.Of(Compiler.Compile(Spec)));
        var edited = ModelSurgery.ScaleFirstGdStepValue(m, 1 + 1e-15);
        Assert.NotEqual(d, WeightsDigest.Of(edited));
        // Descriptions and provenance are not weights.
        var relabelled = new TransformerModel(m.Spec, m.Layout, m.Embedding,
            m.Layers.Select(l => l is AttentionLayer a ? (Layer)new AttentionLayer(a.Heads, new Provenance("renamed", 0, 0, "", ""), "") : l).ToList(), m.ReadOut, m.Margin);
        Assert.Equal(d, WeightsDigest.Of(relabelled));
    }

    [Fact]
    public void AnEditedFileIsReportedNotRefusedAndAnOldFileIsReadWithAWarning()
    {
        var (c, data) = Setup();
        using var _ = c;
        ModelJson.Write(c.PathOf("m.json"), Compiler.Compile(Spec));
        var json = JsonNode.Parse(File.ReadAllText(c.PathOf("m.json")))!;
        Assert.Equal(WeightsDigest.Of(Compiler.Compile(Spec)), json["weightsSha256"]!.GetValue<string>());
        Assert.Equal("construction", json["origin"]!.GetValue<string>());
        // One weight edited, the hash left as it was: damaged.
        var gd = json["layers"]!.AsArray().First(l => l!["operator"]!.GetValue<string>() == "gd_step" && l["kind"]!.GetValue<string>() == "attention")!;
        var entry = gd["heads"]![0]!["V"]!["entries"]![0]!.AsArray();
        entry[2] = entry[2]!.GetValue<double>() * 1.5;
        File.WriteAllText(c.PathOf("damaged.json"), json.ToJsonString());
        // Not an input error: the edit is reported (integrity and specification match) and the result,
        // far from the specification's reference, gives exit 3.
        var r = c.Run("run", "--model", c.PathOf("damaged.json"), "--data", data, "--json");
        Assert.Equal(ExitCodes.OutOfDomain, r.ExitCode);
        Assert.Contains("weightsSha256", r.Err);
        Assert.Contains("changed after the file was written", r.Err);
        var cert = JsonNode.Parse(r.Out)!["certificate"]!;
        Assert.False(cert["weightsDigestMatches"]!.GetValue<bool>());
        Assert.False(cert["matchesSpecification"]!.GetValue<bool>());
        var inspect = c.Run("inspect", "--model", c.PathOf("damaged.json"));
        Assert.Equal(ExitCodes.Ok, inspect.ExitCode);
        Assert.Contains("weightsSha256", inspect.Err);
        var intact = c.Run("run", "--model", c.PathOf("m.json"), "--data", data, "--json");
        Assert.True(JsonNode.Parse(intact.Out)!["certificate"]!["weightsDigestMatches"]!.GetValue<bool>());
        // The same file without a hash (as files written before it existed): read with a warning, and the
        // edit is still found by the specification match.
        json.AsObject().Remove("weightsSha256");
        File.WriteAllText(c.PathOf("old.json"), json.ToJsonString());
        var old = c.Run("run", "--model", c.PathOf("old.json"), "--data", data, "--json");
        Assert.Contains("no weightsSha256", old.Err);
        Assert.False(JsonNode.Parse(old.Out)!["certificate"]!["matchesSpecification"]!.GetValue<bool>());
    }

    [Fact]
    public void TheConstructionMatchesItsSpecAndRunsInsideTheCertifiedBound()
    {
        var (c, data) = Setup();
        using var _ = c;
        ModelJson.Write(c.PathOf("m.json"), Compiler.Compile(Spec));
        foreach (var precision in new[] { "double", "float" })
        {
            var cert = Run(c, c.PathOf("m.json"), data, ExitCodes.Ok, "--precision", precision)["certificate"]!;
            Assert.True(cert["matchesSpecification"]!.GetValue<bool>());
            Assert.True(cert["withinCertifiedBoundOfReference"]!.GetValue<bool>());
            Assert.Equal(precision, cert["precision"]!.GetValue<string>());
            Assert.True(cert["predictionErrorBound"]!.GetValue<double>() > 0);
            Assert.True(cert["betaErrorBound"]!.GetValue<double>() > 0);
            Assert.True(cert["responsibilityErrorBound"]!.GetValue<double>() > 0);
            Assert.Equal(Compiler.Compile(Spec).Layers.Count, cert["layers"]!.AsArray().Count);
        }
        var text = c.Run("run", "--model", c.PathOf("m.json"), "--data", data);
        Assert.Contains("the weights are the construction of the stated specification", text.Out);
        Assert.Contains("rounding (double): |ŷ − exact| ≤", text.Out);
        Assert.Contains("the construction of the stated specification", c.Run("inspect", "--model", c.PathOf("m.json")).Out);
    }

    /// <summary>Edits with the hash recomputed (written through <see cref="ModelJson"/>): each is reported as not the spec's construction.</summary>
    [Fact]
    public void EditedModelsAreNotTheirSpecsConstruction()
    {
        var m = Compiler.Compile(Spec);
        var sigma = new ConstructionSpec(Spec.Dimension, Spec.Components, 0.7, Spec.Mixing, Spec.EmIterations, Spec.GradientSteps, Spec.StepSize, Spec.InitialBeta);
        var mlp = m.Layers.Select((l, i) => (l, i)).First(x => x.l is MlpLayer).i;
        var m0 = (MlpLayer)m.Layers[mlp];
        var b2 = (double[])m0.B2.Clone(); b2[Array.FindIndex(b2, v => v != 0)] += 1e-12;
        var edits = new (string Name, TransformerModel Model, string Expected)[]
        {
            ("value ×1.5", ModelSurgery.ScaleFirstGdStepValue(m, 1.5), "V entry"),
            ("spec σ", new TransformerModel(sigma, m.Layout, m.Embedding, m.Layers, m.ReadOut, m.Margin), "entry"),
            ("deleted layer", new TransformerModel(m.Spec, m.Layout, m.Embedding, m.Layers.Where((_, i) => i != 3).ToList(), m.ReadOut, m.Margin), "layers"),
            ("bias", new TransformerModel(m.Spec, m.Layout, m.Embedding, m.Layers.Select((l, i) => i == mlp ? new MlpLayer(m0.W1, m0.B1, m0.W2, b2, m0.Provenance, m0.Domain) : l).ToList(), m.ReadOut, m.Margin), "b2"),
            ("admission", WithFirstHead(m, h => new AttentionHead(h.Name, h.Activation, h.Query, h.Key, h.Value, h.PositionalDims, Admission.All(h.Admission.Roles), h.Description)), "admission"),
            ("positional dims", WithFirstHead(m, h => new AttentionHead(h.Name, h.Activation, h.Query, h.Key, h.Value, h.PositionalDims + 1, h.Admission, h.Description)), "positional"),
        };
        Assert.True(SpecificationMatch.Check(m).Matches);
        foreach (var (name, model, expected) in edits)
        {
            var match = SpecificationMatch.Check(model);
            Assert.True(match.Matches == false, $"{name}: {match.Detail}");
            Assert.Contains(expected, match.Detail);
        }
    }

    private static TransformerModel WithFirstHead(TransformerModel m, Func<AttentionHead, AttentionHead> edit)
    {
        int l = m.Layers.Select((x, i) => (x, i)).First(x => x.x is AttentionLayer a && !a.Heads[0].Admission.AdmitsAll && a.Heads[0].PositionalDims < a.Heads[0].HeadDimension).i;
        var a = (AttentionLayer)m.Layers[l];
        var layers = m.Layers.ToList();
        layers[l] = new AttentionLayer(new[] { edit(a.Heads[0]) }.Concat(a.Heads.Skip(1)).ToArray(), a.Provenance, a.Domain);
        return new TransformerModel(m.Spec, m.Layout, m.Embedding, layers, m.ReadOut, m.Margin);
    }

    [Fact]
    public void AnEditedModelIsReportedAndExitsThree()
    {
        var (c, data) = Setup();
        using var _ = c;
        ModelJson.Write(c.PathOf("edited.json"), ModelSurgery.ScaleFirstGdStepValue(Compiler.Compile(Spec), 1.5));
        var o = Run(c, c.PathOf("edited.json"), data, ExitCodes.OutOfDomain);
        Assert.False(o["certificate"]!["matchesSpecification"]!.GetValue<bool>());
        Assert.False(o["certificate"]!["withinCertifiedBoundOfReference"]!.GetValue<bool>());
        Assert.True(o["certificate"]!["inDomain"]!.GetValue<bool>(), "the margins still hold: the domain certificate covers margins only");
        var text = c.Run("run", "--model", c.PathOf("edited.json"), "--data", data);
        Assert.Equal(ExitCodes.OutOfDomain, text.ExitCode);
        Assert.Contains("WEIGHTS ARE NOT THE CONSTRUCTION OF THE STATED SPECIFICATION", text.Out);
        Assert.Contains("RESULT DIFFERS FROM THE SPECIFICATION'S REFERENCE", text.Out);
    }

    [Fact]
    public void HandBuiltAndTrainedModelsAreNeverLabelledAsAConstruction()
    {
        var (c, data) = Setup();
        using var _ = c;
        var m = Compiler.Compile(Spec);
        foreach (var (origin, word) in new[] { (ModelOrigin.HandBuilt, "hand-built"), (ModelOrigin.Trained, "trained") })
        {
            var model = new TransformerModel(m.Spec, m.Layout, m.Embedding, m.Layers, m.ReadOut, m.Margin, origin);
            Assert.Null(SpecificationMatch.Check(model).Matches);
            ModelJson.Write(c.PathOf($"{word}.json"), model);
            Assert.Equal(origin, ModelJson.Read(c.PathOf($"{word}.json")).Origin);
            var o = Run(c, c.PathOf($"{word}.json"), data, ExitCodes.Ok);
            Assert.Null(o["certificate"]!["matchesSpecification"]);
            Assert.Null(o["certificate"]!["withinCertifiedBoundOfReference"]);
            Assert.Equal(word, o["certificate"]!["origin"]!.GetValue<string>());
            var text = c.Run("run", "--model", c.PathOf($"{word}.json"), "--data", data).Out;
            Assert.Contains($"{word} model", text);
            Assert.DoesNotContain("the weights are the construction", text);
        }
        var handBuilt = CertifiedDecisionTests.SmallMarginModel();
        ModelJson.Write(c.PathOf("guard.json"), handBuilt);
        Assert.Equal(ModelOrigin.HandBuilt, ModelJson.Read(c.PathOf("guard.json")).Origin);
    }
}
