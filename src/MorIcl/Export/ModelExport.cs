using System.Text.Json.Nodes;
using MorIcl.Construction.Model;
using MorIcl.IO;

namespace MorIcl.Export;

/// <summary>
/// The files <c>mor-icl export</c> writes, built in memory first (so that a failure writes nothing):
/// an ONNX model and a safetensors file whose <c>__metadata__</c> holds <c>"format": "moricl"</c>,
/// <c>"version": "1"</c> and <c>"moricl"</c>, a JSON document (docs/export.md) with the family,
/// precision, source and certificate data, the run's task, and for the constructed layout the model
/// file itself with a tensor name in place of each matrix.
/// </summary>
public static class ModelExport
{
    public const string FormatKey = "format", FormatValue = "moricl", VersionKey = "version", Version = "1", DocumentKey = "moricl";

    public static byte[] Onnx(ExportSource source, ExportPrecision precision)
    {
        var meta = source.Metadata(precision);
        var props = new Dictionary<string, string>
        {
            ["moricl.family"] = source.Family,
            ["moricl.precision"] = (string)meta["precision"]!,
            ["moricl.source_sha256"] = source.Sha256,
            ["moricl.metadata"] = meta.ToJsonString(),
        };
        if (source.Transformer is { } m) props["moricl.max_prompt_length"] = m.MaxPromptLength.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return source.Gpt is not null ? OnnxExport.Gpt(source.Gpt, precision, props) : OnnxExport.Transformer(source.Transformer!, precision, props);
    }

    public static byte[] Safetensors(ExportSource source, ExportPrecision precision)
    {
        var meta = source.Metadata(precision);
        List<SafeTensor> tensors;
        if (source.Gpt is not null) tensors = GptTensors.ToTensors(source.Gpt, precision);
        else
        {
            (tensors, var model) = TransformerTensors.ToTensors(source.Transformer!, precision);
            meta["model"] = model;
        }
        return SafeTensorsFile.Serialise(tensors, Header(meta));
    }

    /// <summary>The safetensors <c>__metadata__</c> for a MorIcl document.</summary>
    public static Dictionary<string, string> Header(JsonObject document) => new()
    {
        [FormatKey] = FormatValue, [VersionKey] = Version, [DocumentKey] = document.ToJsonString(),
    };

    /// <summary>A safetensors file's MorIcl document (null when the file has none, e.g. one written elsewhere without it) and its tensors.</summary>
    public static (JsonObject? Document, Dictionary<string, SafeTensor> Tensors) Read(string path)
    {
        var (tensors, metadata) = SafeTensorsFile.Read(path);
        if (!metadata.TryGetValue(DocumentKey, out var text)) return (null, tensors);
        try { return (JsonNode.Parse(text) as JsonObject ?? throw new InputException($"{path}: __metadata__.moricl is not a JSON object"), tensors); }
        catch (System.Text.Json.JsonException e) { throw new InputException($"{path}: __metadata__.moricl is not valid JSON ({e.Message.Split(". ")[0]})", e); }
    }

    /// <summary>A transformer model from a safetensors file in the constructed layout.</summary>
    public static TransformerModel ReadTransformer(string path)
    {
        var (doc, tensors) = Read(path);
        if (doc?["model"] is not JsonObject model) throw new InputException($"{path}: not a MorIcl transformer export (its __metadata__.moricl has no model)");
        return TransformerTensors.FromTensors(model, tensors, path);
    }
}
