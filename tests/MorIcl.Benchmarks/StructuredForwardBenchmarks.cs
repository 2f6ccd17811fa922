using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Export;
using MorIcl.IO;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Runtime;
using MorIcl.Runtime.Structured;

namespace MorIcl.Benchmarks;

/// <summary>
/// One prompt per call, one thread, side by side in one run (docs/math.md §9): the constructed gradient-EM
/// transformer (d = 10, K = 3, S = 10, T = 5, α = 0.5, σ = 0.3, prompts up to n = 100 000; benchmarked at n = 200, 1 023,
/// 10 000, 20 000 and 100 000, the lengths of issue 13) by the structured executor — layer by layer with and without the
/// fused rows (and with every committed row written), and by the block schedule (docs/math.md §9.6) — and by the dense one, against reference gradient EM on the same prompt (what
/// <c>mor-icl run</c> times; the baseline) and PyTorch 1.13 eager on the same weights
/// (tools/moricl_torch.py on the safetensors export, float64, one thread like the others — with two
/// threads on the shared 2-core machine it was ten times slower — in a Python process that
/// serves forward passes over stdin, so the time is the forward pass plus one line each way). The
/// dense paths form N² scores: the dense executor is not run above n = 1 023, PyTorch not above n = 200
/// (reported NA).
/// <code>dotnet run -c Release --project tests/MorIcl.Benchmarks -- --filter '*StructuredForward*'</code>
/// </summary>
[Config(typeof(StructuredForwardConfig))]
[MemoryDiagnoser]
public class StructuredForwardBenchmarks
{
    /// <summary>Largest n the dense executor runs at (its cost is N²).</summary>
    public const int DenseLimit = 1023;
    /// <summary>Largest n PyTorch eager runs at here: a call takes ~3 s at n = 200 on the loaded machine, ~26 times that at 1 023.</summary>
    public const int TorchLimit = 200;

    [Params(200, 1023, 10000, 20000, 100000)] public int N;

    private static TransformerModel? _model;
    public static ConstructionSpec Spec { get; } = new(10, 3, 0.3, null, 10, 5, 0.5, maxPromptLength: 100000);
    public static TransformerModel Model => _model ??= Compiler.Compile(Spec);

    private Prompt _prompt = null!;
    private ModelExecutor<double> _structured = null!, _allWritten = null!, _rowByRow = null!, _blocks = null!, _dense = null!;
    private Process? _torch;
    private string _dir = null!;

    [GlobalSetup]
    public void Setup()
    {
        var truth = new MixtureSpec(RegressionVectors.DrawNormalised(10, 3, SeedSequence.Create(2025)), new[] { 0.3, 0.3, 0.4 }, 0.3);
        _prompt = PromptSampler.Sample(truth, N, 23, 0);
        _structured = new ModelExecutor<double>(Model) { FuseBlocks = false };
        _allWritten = new ModelExecutor<double>(Model) { FuseBlocks = false, RowsSummedOnly = false };
        _rowByRow = new ModelExecutor<double>(Model) { FuseBlocks = false, FusedRows = false };
        _blocks = new ModelExecutor<double>(Model) { FuseBlocks = true };
        _dense = new ModelExecutor<double>(Model, ExecutorKind.Dense);
        if (N <= TorchLimit) _torch = StartTorch();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_torch is not null) { _torch.StandardInput.Close(); _torch.WaitForExit(10000); _torch.Dispose(); }
        if (_dir is not null) Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public double ReferenceGradientEm() => ReferenceRun.Of(Spec, _prompt.Examples, _prompt.Query).Prediction;

    [Benchmark]
    public double Structured() => _structured.Forward(_prompt.Examples, _prompt.Query).Prediction;

    /// <summary>The structured pass with every committed row written (no rows summed only, docs/math.md §9.6 item 7).</summary>
    [Benchmark]
    public double StructuredAllRowsWritten() => _allWritten.Forward(_prompt.Examples, _prompt.Query).Prediction;

    /// <summary>The structured pass without the fused-row shortcuts (docs/math.md §9.6): one pass per row, as before them.</summary>
    [Benchmark]
    public double StructuredRowByRow() => _rowByRow.Forward(_prompt.Examples, _prompt.Query).Prediction;

    [Benchmark]
    public double StructuredBlocks() => _blocks.Forward(_prompt.Examples, _prompt.Query).Prediction;

    [Benchmark]
    public double Dense() => N <= DenseLimit ? _dense.Forward(_prompt.Examples, _prompt.Query).Prediction
        : throw new NotSupportedException($"the dense executor forms N² scores; not run above n = {DenseLimit}");

    [Benchmark]
    public double PyTorchEager()
    {
        if (_torch is null) throw new NotSupportedException($"PyTorch eager forms N² scores and takes 1.5–3 s per call at n = 200 here; not run above n = {TorchLimit}");
        return double.Parse(Ask("run p").Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The Python server with the model's safetensors export and this prompt loaded.</summary>
    private Process StartTorch()
    {
        _dir = Directory.CreateTempSubdirectory("moricl-bench-").FullName;
        string modelPath = Path.Combine(_dir, "model.json"), tensors = Path.Combine(_dir, "model.safetensors"), csv = Path.Combine(_dir, "p.csv");
        ModelJson.Write(modelPath, Model);
        File.WriteAllBytes(tensors, ModelExport.Safetensors(ExportSource.Load(modelPath), ExportPrecision.Double));
        var rows = Enumerable.Range(0, N).Select(i => _prompt.Examples.Row(i).Append(_prompt.Examples.Y[i]))
            .Append(_prompt.Query.Append(0.0));
        File.WriteAllText(csv, string.Join(",", Enumerable.Range(1, 10).Select(a => $"x{a}").Append("y")) + "\n"
            + string.Join("\n", rows.Select(r => string.Join(",", r.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))))) + "\n");
        var script = Path.Combine(RepositoryRoot(), "tests", "MorIcl.Benchmarks", "torch_forward_server.py");
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { script, tensors, "1" }) info.ArgumentList.Add(a);
        _torch = Process.Start(info)!;
        Ask($"load p {csv}");
        return _torch;
    }

    private string Ask(string command)
    {
        _torch!.StandardInput.WriteLine(command);
        _torch.StandardInput.Flush();
        var answer = _torch.StandardOutput.ReadLine() ?? throw new InvalidOperationException("the PyTorch server stopped");
        if (!answer.StartsWith("ok", StringComparison.Ordinal)) throw new InvalidOperationException($"PyTorch server: {answer}");
        return answer;
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MorIcl.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("MorIcl.sln not found above the benchmark's directory");
    }
}

/// <summary>
/// In process (no generated project to build, which times out on a loaded machine), 2 warm-up and 10 measured
/// iterations: the slowest structured case (n = 100 000) takes about a second per call, the dense one at n = 1 023 a few.
/// Min and median beside the mean: on the shared 2-core machine a slow stretch of a few tenths of a second lifts the
/// mean of a short case (n = 200) far above its steady state (<c>mor-icl run</c> reports the least of its calls).
/// </summary>
public sealed class StructuredForwardConfig : ManualConfig
{
    public StructuredForwardConfig()
    {
        AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(10).WithToolchain(InProcessEmitToolchain.Instance));
        AddColumn(StatisticColumn.Min, StatisticColumn.Median);
    }
}
