using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;
using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Export;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Runtime;
using MorIcl.Runtime.Structured;
using MorIcl.Training;
using MorIcl.Training.Gpt;

namespace MorIcl.Benchmarks;

/// <summary>
/// ONNX Runtime 1.31 (CPU provider, all graph optimisations, one intra-op thread) on the graphs
/// <c>mor-icl export</c> writes, against MorIcl's executors in the same run, one prompt per call on
/// one thread: the constructed gradient-EM transformer of <see cref="ConstructedForwardBenchmarks"/>
/// (d = 10, K = 2, S = 10, T = 5) at n = 200 and 512 — MorIcl's structured and dense executors in
/// double, the structured one in float — and a tiny GPT (L = 3, D = 64, H = 2, d = 5) at n = 40.
/// ONNX Runtime's inputs are the raw prompt (x, y, query), so its time includes the embedding.
/// <code>dotnet run -c Release --project tests/MorIcl.Benchmarks -- --filter '*OnnxRuntime*' --job short</code>
/// </summary>
[MemoryDiagnoser]
public class OnnxRuntimeBenchmarks
{
    [Params(200, 512)] public int N;

    private (RegressionData Examples, double[] Query) _prompt;
    private ModelExecutor<double> _structured = null!, _dense = null!;
    private ModelExecutor<float> _structuredFloat = null!;
    private Session _ortDouble = null!, _ortFloat = null!;

    [GlobalSetup]
    public void Setup()
    {
        var model = ConstructedForwardBenchmarks.Model;
        var truth = new MixtureSpec(RegressionVectors.DrawNormalised(10, 2, SeedSequence.Create(2024)), new[] { 0.5, 0.5 }, 0.5);
        var p = PromptSampler.Sample(truth, N, 17, 0);
        _prompt = (p.Examples, p.Query);
        _structured = new ModelExecutor<double>(model);
        _dense = new ModelExecutor<double>(model, ExecutorKind.Dense);
        _structuredFloat = new ModelExecutor<float>(model);
        _ortDouble = new Session(OnnxExport.Transformer(model, ExportPrecision.Double), _prompt, false);
        _ortFloat = new Session(OnnxExport.Transformer(model, ExportPrecision.Float), _prompt, true);
    }

    [GlobalCleanup]
    public void Cleanup() { _ortDouble.Dispose(); _ortFloat.Dispose(); }

    [Benchmark(Baseline = true)] public double MorIclStructuredDouble() => _structured.Forward(_prompt.Examples, _prompt.Query).Prediction;
    [Benchmark] public double MorIclDenseDouble() => _dense.Forward(_prompt.Examples, _prompt.Query).Prediction;
    [Benchmark] public double MorIclStructuredFloat() => _structuredFloat.Forward(_prompt.Examples, _prompt.Query).Prediction;
    [Benchmark] public double OnnxRuntimeDouble() => _ortDouble.Run();
    [Benchmark] public double OnnxRuntimeFloat() => _ortFloat.Run();

    /// <summary>An ONNX Runtime session with its inputs bound once (the prompt does not change between calls).</summary>
    internal sealed class Session : IDisposable
    {
        private readonly InferenceSession _session;
        private readonly OrtValue[] _inputs;
        private readonly RunOptions _run = new();
        private static readonly string[] Names = { "x", "y", "query" };
        private static readonly string[] Output = { "prediction" };

        public Session(byte[] model, (RegressionData Examples, double[] Query) prompt, bool single)
        {
            using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            _session = new InferenceSession(model, options);
            var (ex, q) = prompt;
            int n = ex.N, d = ex.D;
            var x = new double[n * d];
            for (int i = 0; i < n; i++) for (int a = 0; a < d; a++) x[i * d + a] = ex.X(i, a);
            OrtValue Make(double[] v, params long[] shape) => single ? OrtValue.CreateTensorValueFromMemory(v.Select(t => (float)t).ToArray(), shape) : OrtValue.CreateTensorValueFromMemory(v, shape);
            _inputs = new[] { Make(x, n, d), Make(ex.Y.ToArray(), n), Make(q, d) };
        }

        public double Run()
        {
            using var outputs = _session.Run(_run, Names, _inputs, Output);
            var v = outputs[0];
            return v.GetTensorTypeAndShape().ElementDataType == Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float ? v.GetTensorDataAsSpan<float>()[0] : v.GetTensorDataAsSpan<double>()[0];
        }

        public void Dispose() { foreach (var v in _inputs) v.Dispose(); _run.Dispose(); _session.Dispose(); }
    }
}

/// <summary>The tiny GPT (L = 3, D = 64, H = 2, d = 5) at n = 40: MorIcl's forward pass against ONNX Runtime, float and double, one prompt, one thread.</summary>
[MemoryDiagnoser]
public class OnnxRuntimeGptBenchmarks
{
    private (RegressionData Examples, double[] Query)[] _prompt = null!;
    private GptModel _float = null!, _double = null!;
    private OnnxRuntimeBenchmarks.Session _ortFloat = null!, _ortDouble = null!;

    [GlobalSetup]
    public void Setup()
    {
        var task = new TrainingTask(5, 2, 0.5, new[] { 0.5, 0.5 }, MixtureMode.PerSample, 40, 1);
        var p = PromptSampler.Sample(task.Spec(), 40, 3, 0);
        _prompt = new[] { (p.Examples, p.Query) };
        _float = new GptModel(GptConfig.Tiny(5), 1, Precision.Float) { MaxDegreeOfParallelism = 1 };
        _double = new GptModel(GptConfig.Tiny(5), 1, Precision.Double) { MaxDegreeOfParallelism = 1 };
        _ortFloat = new OnnxRuntimeBenchmarks.Session(OnnxExport.Gpt(_float, ExportPrecision.Float), _prompt[0], true);
        _ortDouble = new OnnxRuntimeBenchmarks.Session(OnnxExport.Gpt(_double, ExportPrecision.Double), _prompt[0], false);
    }

    [GlobalCleanup]
    public void Cleanup() { _ortFloat.Dispose(); _ortDouble.Dispose(); }

    [Benchmark(Baseline = true)] public double MorIclGptFloat() => _float.Predict(_prompt)[0];
    [Benchmark] public double MorIclGptDouble() => _double.Predict(_prompt)[0];
    [Benchmark] public double OnnxRuntimeGptFloat() => _ortFloat.Run();
    [Benchmark] public double OnnxRuntimeGptDouble() => _ortDouble.Run();
}
