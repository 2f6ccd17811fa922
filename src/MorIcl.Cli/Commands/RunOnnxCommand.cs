using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MorIcl.Mixture;

namespace MorIcl.Cli.Commands;

/// <summary>
/// <c>mor-icl run --model F.onnx --data prompt.csv</c>: ONNX Runtime (CPU) runs an exported graph on the
/// raw prompt and prints every output — to check an export against <c>mor-icl run</c> on the model it
/// came from. ONNX Runtime has no certificate; <c>positions_in_range</c> is printed as the graph gives it.
/// </summary>
internal static class RunOnnxCommand
{
    public static int Run(CliContext ctx, string path, string dataPath, string? queryText, bool json, IO.CsvColumns? columns = null)
    {
        if (!File.Exists(path)) throw new InputException($"{path}: file not found");
        InferenceSession session;
        try { session = new InferenceSession(path); }
        catch (OnnxRuntimeException e) { throw new InputException($"{path}: ONNX Runtime cannot load it ({e.Message.Split('\n')[0]})", e); }
        using (session)
        {
            if (!session.InputMetadata.TryGetValue("query", out var q) || !session.InputMetadata.ContainsKey("x") || !session.InputMetadata.ContainsKey("y") || q.Dimensions.Length != 1)
                throw new InputException($"{path}: not a MorIcl export (its inputs must be x, y and query)");
            bool single = q.ElementDataType == TensorElementType.Float;
            var (examples, query) = PromptInput.Read(dataPath, queryText, q.Dimensions[0], path, columns);
            var outputs = Evaluate(session, examples, query, single);
            if (json)
                ctx.Out.WriteLine(new JsonObject(outputs.Select(o => KeyValuePair.Create(o.Key, o.Value.Boolean ? JsonValue.Create(o.Value.Data[0] != 0) : Node(o.Value.Data, o.Value.Shape)))) { ["engine"] = "onnxruntime" }.ToJsonString());
            else
                foreach (var (name, (data, shape, boolean)) in outputs)
                    ctx.Out.WriteLine($"{name}: {(boolean ? (data[0] != 0 ? "true" : "false") : shape.Length == 0 ? Format(data[0]) : OptionParsing.Vector(data))}");
        }
        return ExitCodes.Ok;
    }

    private static Dictionary<string, (double[] Data, long[] Shape, bool Boolean)> Evaluate(InferenceSession session, RegressionData examples, double[] query, bool single)
    {
        int n = examples.N, d = examples.D;
        var x = new double[n * d];
        for (int i = 0; i < n; i++)
            for (int a = 0; a < d; a++) x[i * d + a] = examples.X(i, a);
        OrtValue Tensor(double[] v, params long[] shape) => single ? OrtValue.CreateTensorValueFromMemory(v.Select(t => (float)t).ToArray(), shape) : OrtValue.CreateTensorValueFromMemory(v, shape);
        using var xs = Tensor(x, n, d);
        using var ys = Tensor(examples.Y.ToArray(), n);
        using var qs = Tensor(query, d);
        using var options = new RunOptions();
        using var results = session.Run(options, new[] { "x", "y", "query" }, new[] { xs, ys, qs }, session.OutputNames);
        var outputs = new Dictionary<string, (double[], long[], bool)>();
        for (int o = 0; o < session.OutputNames.Count; o++)
        {
            var v = results[o];
            var info = v.GetTensorTypeAndShape();
            double[] data = info.ElementDataType switch
            {
                TensorElementType.Double => v.GetTensorDataAsSpan<double>().ToArray(),
                TensorElementType.Float => v.GetTensorDataAsSpan<float>().ToArray().Select(f => (double)f).ToArray(),
                TensorElementType.Bool => v.GetTensorDataAsSpan<bool>().ToArray().Select(b => b ? 1.0 : 0.0).ToArray(),
                var t => throw new InputException($"output {session.OutputNames[o]} has element type {t}, which MorIcl exports do not have"),
            };
            outputs[session.OutputNames[o]] = (data, info.Shape, info.ElementDataType == TensorElementType.Bool);
        }
        return outputs;
    }

    private static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A scalar, vector or matrix as JSON (booleans for positions_in_range).</summary>
    private static JsonNode? Node(double[] data, long[] shape) => shape.Length switch
    {
        0 => JsonValue.Create(data[0]),
        1 => new JsonArray(data.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()),
        _ => new JsonArray(Enumerable.Range(0, (int)shape[0]).Select(r => (JsonNode?)new JsonArray(data.Skip(r * (int)shape[1]).Take((int)shape[1]).Select(v => (JsonNode?)JsonValue.Create(v)).ToArray())).ToArray()),
    };
}
