using System.Text;
using System.Text.Json.Nodes;
using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Export;
using MorIcl.IO;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Export;

/// <summary>
/// The safetensors layouts: a constructed model (with an approximate layer's ranges and declared
/// error) written and read back is the same model bit for bit (float: every weight rounded to float);
/// damaged files and files that do not match the layout are rejected with a message naming the problem.
/// </summary>
public class SafetensorsTests
{
    private static readonly TransformerModel Model = Compiler.Compile(new ConstructionSpec(2, 2, 0.4, new[] { 0.3, 0.7 }, 1, 1, 0.5, estimateMixing: true, maxPromptLength: 63));

    private static ExportSource Source(TransformerModel m) => new() { Path = "model.json", Transformer = m, NativePrecision = ExportPrecision.Double, Sha256 = new string('0', 64) };

    [Fact]
    public void AConstructedModelRoundTripsExactly()
    {
        using var cli = new CliRunner();
        var path = cli.PathOf("m.safetensors");
        File.WriteAllBytes(path, ModelExport.Safetensors(Source(Model), ExportPrecision.Double));
        var back = ModelExport.ReadTransformer(path);
        Assert.Equal(ModelJson.ToJson(Model).ToJsonString(), ModelJson.ToJson(back).ToJsonString());

        File.WriteAllBytes(path, ModelExport.Safetensors(Source(Model), ExportPrecision.Float));
        var rounded = ModelExport.ReadTransformer(path);
        var a = (AttentionLayer)Model.Layers.First(l => l is AttentionLayer);
        var b = (AttentionLayer)rounded.Layers[Model.Layers.ToList().IndexOf(a)];
        Assert.Equal(a.Heads[0].Value.Values.Select(v => (double)(float)v), b.Heads[0].Value.Values);
        var (tensors, metadata) = SafeTensorsFile.Read(path);
        Assert.All(tensors.Values.Where(t => !t.Name.EndsWith("_rows")), t => Assert.Equal("F32", t.DType));
        Assert.Equal("moricl", metadata["format"]);
        var doc = JsonNode.Parse(metadata["moricl"])!;
        Assert.Equal("constructed", (string)doc["family"]!);
        Assert.True((bool)doc["certificate"]!["certified"]!);
        Assert.Equal(Model.MaxPromptLength, (long)doc["maxPromptLength"]!);
    }

    private static string Rejected(byte[] bytes)
    {
        var e = Assert.Throws<InputException>(() => SafeTensorsFile.Parse(bytes, "f.safetensors"));
        return e.Message;
    }

    private static byte[] WithHeader(string json, int dataBytes)
    {
        var h = Encoding.UTF8.GetBytes(json);
        return BitConverter.GetBytes((ulong)h.Length).Concat(h).Concat(new byte[dataBytes]).ToArray();
    }

    [Fact]
    public void DamagedFilesAreRejected()
    {
        var good = SafeTensorsFile.Serialise(new[] { new SafeTensor("a", "F64", new long[] { 2 }, new[] { 1.0, 2.0 }), new SafeTensor("b", "F32", new long[] { 1 }, new[] { 3.0 }) },
            new Dictionary<string, string> { ["k"] = "v" });
        var (t, m) = SafeTensorsFile.Parse(good, "good");
        Assert.Equal(new[] { 1.0, 2.0 }, t["a"].Data);
        Assert.Equal("v", m["k"]);
        Assert.Contains("lie outside the", Rejected(good[..^2]));
        Assert.Contains("bytes but the tensors cover 20", Rejected(good.Concat(new byte[2]).ToArray()));
        Assert.Contains("shorter than its 8-byte header length", Rejected(good[..5]));
        Assert.Contains("header length", Rejected(BitConverter.GetBytes(1UL << 40).Concat(good[8..]).ToArray()));
        Assert.Contains("not valid JSON", Rejected(WithHeader("{\"a\": [", 0)));
        Assert.Contains("overlaps", Rejected(WithHeader("""{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}""", 8)));
        Assert.Contains("a gap before tensor 'b'", Rejected(WithHeader("""{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"F64","shape":[1],"data_offsets":[16,24]}}""", 24)));
        Assert.Contains("16 bytes for shape [1] of F64", Rejected(WithHeader("""{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,16]}}""", 16)));
        Assert.Contains("dtype 'BF16' is not supported", Rejected(WithHeader("""{"a":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}""", 2)));
        Assert.Contains("__metadata__.k is not a string", Rejected(WithHeader("""{"__metadata__":{"k":1}}""", 0)));
    }

    [Fact]
    public void TensorsThatDoNotMatchTheModelAreNamed()
    {
        var (tensors, model) = TransformerTensors.ToTensors(Model, ExportPrecision.Double);
        Dictionary<string, SafeTensor> With(Func<List<SafeTensor>, IEnumerable<SafeTensor>> change) => change(tensors.ToList()).ToDictionary(x => x.Name);
        string Fails(Dictionary<string, SafeTensor> t) => Assert.Throws<InputException>(() => TransformerTensors.FromTensors(model, t, "m.safetensors")).Message;
        var q = tensors.First(x => x.Name.EndsWith(".Q"));
        Assert.Contains($"tensor '{q.Name}' ($.layers", Fails(With(l => l.Where(x => x != q))));
        Assert.Contains("tensor 'stray' is not part of the model", Fails(With(l => l.Append(new SafeTensor("stray", "F64", new long[] { 1 }, new[] { 0.0 })))));
        Assert.Contains($"tensor '{q.Name}' is {q.Shape[0]}×{q.Shape[1] - 1}", Fails(With(l => l.Select(x => x == q ? x with { Shape = new[] { q.Shape[0], q.Shape[1] - 1 }, Data = new double[q.Shape[0] * (q.Shape[1] - 1)] } : x))));
        var nan = q with { Data = q.Data.Select((v, i) => i == 0 ? double.NaN : v).ToArray() };
        Assert.Contains("not finite", Fails(With(l => l.Select(x => x == q ? nan : x))));
        var rows = tensors.First(x => x.Name.EndsWith(".V_rows") && x.Data.Length > 1);
        Assert.Contains("increasing order", Fails(With(l => l.Select(x => x == rows ? x with { Data = x.Data.Reverse().ToArray() } : x))));
        // The whole model still goes through ModelJson's checks.
        var broken = model.DeepClone().AsObject();
        broken["embedding"]!["positionBase"] = 1;
        Assert.Contains("$.embedding.positionBase must be at least 2", Assert.Throws<InputException>(() => TransformerTensors.FromTensors(broken, tensors.ToDictionary(x => x.Name), "m.safetensors")).Message);
    }
}
