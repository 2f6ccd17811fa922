using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MorIcl.Mixture;

namespace MorIcl.Tests.Support;

/// <summary>Runs an exported ONNX model in ONNX Runtime (CPU) on a raw prompt and returns every real output as doubles.</summary>
internal sealed class OnnxRunner : IDisposable
{
    private readonly InferenceSession _session;
    private readonly bool _float;

    public OnnxRunner(byte[] model)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = Level };
        _session = new InferenceSession(model, options);
        _float = _session.InputMetadata["x"].ElementDataType == TensorElementType.Float;
    }

    public static GraphOptimizationLevel Level = GraphOptimizationLevel.ORT_ENABLE_ALL;

    public IReadOnlyCollection<string> OutputNames => _session.OutputNames;

    public Dictionary<string, double[]> Run(RegressionData examples, double[] query)
    {
        int n = examples.N, d = examples.D;
        var x = new double[n * d];
        for (int i = 0; i < n; i++)
            for (int a = 0; a < d; a++) x[i * d + a] = examples.X(i, a);
        using var xs = Tensor(x, n, d);
        using var ys = Tensor(examples.Y.ToArray(), n);
        using var qs = Tensor(query, d);
        using var run = new RunOptions();
        using var outputs = _session.Run(run, new[] { "x", "y", "query" }, new[] { xs, ys, qs }, _session.OutputNames);
        var result = new Dictionary<string, double[]>();
        int o = 0;
        foreach (var name in _session.OutputNames)
        {
            var v = outputs[o++];
            result[name] = v.GetTensorTypeAndShape().ElementDataType switch
            {
                TensorElementType.Double => v.GetTensorDataAsSpan<double>().ToArray(),
                TensorElementType.Float => v.GetTensorDataAsSpan<float>().ToArray().Select(f => (double)f).ToArray(),
                TensorElementType.Bool => v.GetTensorDataAsSpan<bool>().ToArray().Select(b => b ? 1.0 : 0.0).ToArray(),
                var t => throw new InvalidOperationException($"output {name} has element type {t}"),
            };
        }
        return result;
    }

    private OrtValue Tensor(double[] data, params long[] shape) =>
        _float ? OrtValue.CreateTensorValueFromMemory(data.Select(v => (float)v).ToArray(), shape) : OrtValue.CreateTensorValueFromMemory(data, shape);

    public void Dispose() => _session.Dispose();
}
