using Google.Protobuf;
using MorIcl.Construction.Model;
using MorIcl.IO;
using MorIcl.Training.Gpt;

namespace MorIcl.Export;

/// <summary>
/// ONNX files of MorIcl models (docs/export.md): a transformer model (constructed, hand-built, or the
/// constructed architecture with trained weights) or a trained GPT, each taking the raw prompt
/// <c>x</c> (n × d), <c>y</c> (n), <c>query</c> (d) and computing in double or float.
/// </summary>
public static class OnnxExport
{
    /// <summary>The ONNX operator set the exports use.</summary>
    public const int Opset = OnnxGraph.Opset;

    /// <summary>The serialised ONNX model of a transformer model.</summary>
    public static byte[] Transformer(TransformerModel model, ExportPrecision precision, IReadOnlyDictionary<string, string>? metadata = null) =>
        ConstructedOnnx.Build(model, precision, metadata ?? new Dictionary<string, string>()).ToByteArray();

    /// <summary>The serialised ONNX model of a GPT (parameters as the model holds them).</summary>
    public static byte[] Gpt(GptModel model, ExportPrecision precision, IReadOnlyDictionary<string, string>? metadata = null) =>
        GptOnnx.Build(model, precision, metadata ?? new Dictionary<string, string>()).ToByteArray();

    public static void Write(string path, byte[] onnx) => AtomicFile.WriteAllBytes(path, onnx);
}
