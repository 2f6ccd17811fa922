using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.IO;
using MorIcl.Mixture;
using MorIcl.Runtime;
using MorIcl.Tests.Generators;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.LinearAttention;

/// <summary>
/// Linear heads in the model and its files: the admission rule (a linear head admits every pair),
/// the model JSON ("linear") round trip and its errors, the NPZ export, and `mor-icl inspect`.
/// </summary>
public class LinearAttentionModelTests
{
    private static TransformerModel Model() => LinearAttentionExecutorTests.Model(7);

    [Fact]
    public void ALinearHeadMustAdmitEveryPair()
    {
        var template = Compiler.Compile(LinearAttentionExecutorTests.Spec);
        int roles = TokenRoles.Count(template.Embedding.AuxiliaryCount);
        // A restricted head of the construction (the first ReLU head with a restriction) cannot become linear.
        var restricted = template.Layers.OfType<AttentionLayer>().SelectMany(a => a.Heads).First(h => !h.Admission.AdmitsAll);
        var e = Assert.Throws<ArgumentException>(() => new AttentionHead("lin", Activation.Linear, restricted.Query, restricted.Key, restricted.Value,
            restricted.PositionalDims, restricted.Admission, ""));
        Assert.Contains("linear head must admit every", e.Message);
        Assert.Contains("lin", e.Message);
        var head = new AttentionHead("lin", Activation.Linear, restricted.Query, restricted.Key, restricted.Value, restricted.PositionalDims, Admission.All(roles), "");
        Assert.Equal(Activation.Linear, head.Activation);
        // ReLU and softmax heads keep their restrictions.
        Assert.Equal(restricted.Admission, new AttentionHead("r", restricted.Activation, restricted.Query, restricted.Key, restricted.Value, restricted.PositionalDims, restricted.Admission, "").Admission);
    }

    [Fact]
    public void ActivationNamesRoundTrip()
    {
        foreach (var a in Enum.GetValues<Activation>()) Assert.Equal(a, ActivationNames.Parse(ActivationNames.Key(a)));
        Assert.Equal("linear", ActivationNames.Key(Activation.Linear));
        Assert.Equal("linear", ActivationNames.Display(Activation.Linear));
        Assert.Equal("ReLU", ActivationNames.Display(Activation.Relu));
        Assert.Equal("softmax", ActivationNames.Display(Activation.Softmax));
        Assert.Null(ActivationNames.Parse("Linear"));
    }

    [Fact]
    public void ModelJsonRoundTripsLinearHeads()
    {
        var model = Model();
        var json = ModelJson.ToJson(model);
        var activations = json["layers"]!.AsArray().SelectMany(l => l!["heads"]!.AsArray()).Select(h => h!["activation"]!.GetValue<string>()).ToArray();
        Assert.Equal(new[] { "linear", "linear", "linear", "relu", "linear" }, activations);
        var back = ModelJson.FromJson(JsonNode.Parse(json.ToJsonString()), "m.json");
        GeneratedModelTests.AssertBitIdentical(model, back);
        var p = PromptSampler.Sample(Fixtures.Spec(2, 2, 0.3, 5), 11, 3, 0);
        Assert.Equal(BitConverter.DoubleToInt64Bits(new ModelExecutor<double>(model).Forward(p.Examples, p.Query).Prediction),
            BitConverter.DoubleToInt64Bits(new ModelExecutor<double>(back).Forward(p.Examples, p.Query).Prediction));
        // Through a file too.
        using var c = new CliRunner();
        ModelJson.Write(c.PathOf("lin.json"), model);
        GeneratedModelTests.AssertBitIdentical(model, ModelJson.Read(c.PathOf("lin.json")));
    }

    [Fact]
    public void ModelJsonRejectsALinearHeadWithRestrictions()
    {
        var json = ModelJson.ToJson(Model());
        var head = json["layers"]![0]!["heads"]![0]!.AsObject();
        head["admission"]!["table"]![0] = 0;
        var e = Assert.Throws<InputException>(() => ModelJson.FromJson(JsonNode.Parse(json.ToJsonString()), "m.json"));
        Assert.Contains("$.layers[0].heads[0].admission.table", e.Message);
        Assert.Contains("linear head must admit every pair", e.Message);

        var bad = ModelJson.ToJson(Model());
        bad["layers"]![0]!["heads"]![0]!["activation"] = "tanh";
        var e2 = Assert.Throws<InputException>(() => ModelJson.FromJson(JsonNode.Parse(bad.ToJsonString()), "m.json"));
        Assert.Contains("expected relu or softmax (or linear)", e2.Message);
    }

    [Fact]
    public void NpzRecordsTheLinearActivation()
    {
        using var c = new CliRunner();
        NpzWriter.Write(c.PathOf("m.npz"), Model());
        using var zip = ZipFile.OpenRead(c.PathOf("m.npz"));
        string Activation(string name)
        {
            using var s = zip.GetEntry(name)!.Open();
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            var bytes = ms.ToArray();
            int header = 10 + BitConverter.ToUInt16(bytes, 8);
            Assert.Contains("'<U", Encoding.ASCII.GetString(bytes, 10, header - 10));
            return Encoding.UTF32.GetString(bytes, header, bytes.Length - header).TrimEnd('\0');
        }
        Assert.Equal("linear", Activation("layer00.head0.activation.npy"));
        Assert.Equal("relu", Activation("layer01.head1.activation.npy"));
    }

    [Fact]
    public void InspectNamesLinearHeads()
    {
        using var c = new CliRunner();
        ModelJson.Write(c.PathOf("lin.json"), Model());
        var summary = c.Run("inspect", "--model", c.PathOf("lin.json"));
        Assert.True(summary.ExitCode == 0, summary.Err);
        Assert.Contains("linear/relu", summary.Out);
        var layer = c.Run("inspect", "--model", c.PathOf("lin.json"), "--layer", "0");
        Assert.True(layer.ExitCode == 0, layer.Err);
        Assert.Contains("head 0 (l0h0, linear)", layer.Out);
        Assert.Contains("head 1 (l0h1, linear)", layer.Out);
    }
}
