using System.Security.Cryptography;
using System.Text.Json.Nodes;
using MorIcl.Construction.Model;
using MorIcl.IO;
using MorIcl.Runtime;
using MorIcl.Training;
using MorIcl.Training.Constructed;
using MorIcl.Training.Gpt;

namespace MorIcl.Export;

/// <summary>
/// What <c>mor-icl export --model M</c> exports: a model file (constructed or hand-built,
/// <see cref="ModelJson"/>) or a training run folder (gpt2, or the constructed architecture, whose
/// trained weights become a <see cref="TransformerModel"/>). Exactly one of <see cref="Transformer"/>
/// and <see cref="Gpt"/> is set. <see cref="Sha256"/> is the SHA-256 of the file the weights came from
/// (model.json or checkpoint.bin).
/// </summary>
public sealed class ExportSource
{
    public required string Path { get; init; }
    public TransformerModel? Transformer { get; init; }
    public GptModel? Gpt { get; init; }
    public TrainedRun? Run { get; init; }
    /// <summary>The precision the model computes in natively (model files: double; runs: their own).</summary>
    public required ExportPrecision NativePrecision { get; init; }
    public required string Sha256 { get; init; }

    public string Family => Gpt is not null ? "gpt2" : "constructed";

    public static ExportSource Load(string path)
    {
        if (Directory.Exists(path))
        {
            var run = TrainedRun.Load(path);
            var precision = run.Model.Descriptor.Precision == Precision.Float ? ExportPrecision.Float : ExportPrecision.Double;
            string sha = Hash(run.CheckpointPath);
            return run.Model switch
            {
                GptModel g => new ExportSource { Path = path, Gpt = g, Run = run, NativePrecision = precision, Sha256 = sha },
                ConstructedArchitectureModel c => new ExportSource { Path = path, Transformer = TrainedTransformer.Of(c), Run = run, NativePrecision = precision, Sha256 = sha },
                var m => throw new SpecificationException($"{path}: runs of family '{m.Descriptor.Family}' cannot be exported"),
            };
        }
        var model = ModelJson.Read(path);
        return new ExportSource { Path = path, Transformer = model, NativePrecision = ExportPrecision.Double, Sha256 = Hash(path) };
    }

    private static string Hash(string file) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));

    /// <summary>The JSON every export carries (safetensors <c>__metadata__["moricl"]</c>; ONNX metadata): family, precision, source, certificate data, and the run's task.</summary>
    public JsonObject Metadata(ExportPrecision precision)
    {
        var o = new JsonObject
        {
            ["family"] = Family,
            ["precision"] = precision == ExportPrecision.Double ? "double" : "float",
            ["source"] = new JsonObject { ["kind"] = Run is null ? "model" : "run", ["name"] = System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(Path)), ["sha256"] = Sha256, ["steps"] = Run?.Steps },
        };
        if (Gpt is not null) o["config"] = GptTensors.ConfigJson(Gpt.Config);
        if (Transformer is { } m)
        {
            o["maxPromptLength"] = m.MaxPromptLength;
            o["certificate"] = Run is not null
                ? new JsonObject { ["certified"] = false, ["reason"] = "trained weights: the construction's certificate does not apply" }
                : new JsonObject
                {
                    ["certified"] = true, ["margin"] = m.Margin, ["maxPromptLength"] = m.MaxPromptLength, ["leakageTolerance"] = Certificate.LeakageTolerance,
                    ["declaredApproximationError"] = m.DeclaredApproximationError,
                    ["rule"] = "per layer: ReLU heads exact while every non-admitted score is ≤ 0; softmax heads leak ≤ N·exp(−margin), in domain while leakage ≤ leakageTolerance; approximate MLPs inside their input ranges; n ≤ maxPromptLength (docs/math.md §3)",
                };
        }
        if (Run is not null) o["task"] = Run.Run.Task.ToJson();
        return o;
    }
}
