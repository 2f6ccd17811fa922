using System.Globalization;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Runtime;
using MorIcl.Runtime.Kernels;

namespace MorIcl.Benchmarks;

/// <summary>
/// Forward pass of the constructed gradient-EM transformer (d = 10, K = 2, S = 10 EM iterations,
/// T = 5 gradient steps, α = 0.5, σ = 0.5) on prompts of n = 200, 256, 512 examples: the fast
/// executor in double and float on a batch of 64 prompts (all cores), against the scalar oracle on one
/// prompt (one core). Every time is per prompt (OperationsPerInvoke = batch). The same run measures the
/// machine's FMA peak with tight Vector512 loops (one core and all cores), so the summary can state
/// prompts/s, GFLOP/s by <see cref="FlopCount"/> (nominal, attention counted dense) and the fraction of
/// peak. AttentionProducts* run the attention kernels alone (scores + value sums for every head's
/// shape, dense, one core) to give the fraction of peak of the N² products themselves.
/// <code>dotnet run -c Release --project tests/MorIcl.Benchmarks -- --filter '*ConstructedForward*' --job short</code>
/// </summary>
[Config(typeof(ConstructedForwardConfig))]
[MemoryDiagnoser]
public partial class ConstructedForwardBenchmarks
{
    public const int Batch = 64;
    public static readonly int[] Sizes = { 200, 256, 512 };

    private static TransformerModel? _model;
    /// <summary>The benchmarked model (built once per process).</summary>
    public static TransformerModel Model => _model ??= Compiler.Compile(new ConstructionSpec(10, 2, 0.5, null, 10, 5, 0.5));

    private readonly Dictionary<int, (RegressionData Examples, double[] Query)[]> _prompts = new();
    private ModelExecutor<double> _fastDouble = null!;
    private ModelExecutor<float> _fastFloat = null!;

    [GlobalSetup]
    public void Setup()
    {
        var truth = new MixtureSpec(RegressionVectors.DrawNormalised(10, 2, SeedSequence.Create(2024)), new[] { 0.5, 0.5 }, 0.5);
        foreach (int n in Sizes)
            _prompts[n] = PromptSampler.SampleBatch(truth, n, Batch, seed: 17).Select(p => (p.Examples, p.Query)).ToArray();
        _fastDouble = new ModelExecutor<double>(Model);
        _fastFloat = new ModelExecutor<float>(Model);
        SetupKernels();
    }

    [Benchmark(OperationsPerInvoke = Batch), Arguments(200), Arguments(256), Arguments(512)]
    public ForwardResult[] FastDouble(int n) => _fastDouble.Forward(_prompts[n]);

    [Benchmark(OperationsPerInvoke = Batch), Arguments(200), Arguments(256), Arguments(512)]
    public ForwardResult[] FastFloat(int n) => _fastFloat.Forward(_prompts[n]);

    /// <summary>The oracle is slow: one prompt per invocation.</summary>
    [Benchmark, Arguments(200), Arguments(256), Arguments(512)]
    public ForwardResult ScalarDouble(int n) => ScalarExecutor.Forward(Model, _prompts[n][0].Examples, _prompts[n][0].Query);

    // ------------------------------------------------------------------ peak

    [Benchmark] public double PeakFmaDouble1Core() => FmaPeak.Double();
    [Benchmark] public float PeakFmaFloat1Core() => FmaPeak.Float();

    [Benchmark] public double PeakFmaDoubleAllCores() => FmaPeak.OnAllCores(FmaPeak.Double);
    [Benchmark] public double PeakFmaFloatAllCores() => FmaPeak.OnAllCores(() => FmaPeak.Float());


    // ------------------------------------------------------------------ FLOPs per operation, for the columns

    /// <summary>
    /// (FLOPs per operation, the peak benchmark it compares with, whether it is a forward pass) for a
    /// case, or null. Forward passes: <see cref="FlopCount.Forward"/> total; attention kernels: its
    /// attention products; peak loops: <see cref="FmaPeak.Flops"/> per core used.
    /// </summary>
    public static (double Flops, string Peak, bool Forward)? Work(string method, int? n)
    {
        int cores = Environment.ProcessorCount;
        return method switch
        {
            nameof(FastDouble) => (FlopCount.Forward(Model, n!.Value).Total, nameof(PeakFmaDoubleAllCores), true),
            nameof(FastFloat) => (FlopCount.Forward(Model, n!.Value).Total, nameof(PeakFmaFloatAllCores), true),
            nameof(ScalarDouble) => (FlopCount.Forward(Model, n!.Value).Total, nameof(PeakFmaDouble1Core), true),
            "AttentionProductsDouble1Core" => (FlopCount.Forward(Model, n!.Value).AttentionProducts, nameof(PeakFmaDouble1Core), false),
            "AttentionProductsFloat1Core" => (FlopCount.Forward(Model, n!.Value).AttentionProducts, nameof(PeakFmaFloat1Core), false),
            nameof(PeakFmaDouble1Core) => (FmaPeak.Flops(false), nameof(PeakFmaDouble1Core), false),
            nameof(PeakFmaFloat1Core) => (FmaPeak.Flops(true), nameof(PeakFmaFloat1Core), false),
            nameof(PeakFmaDoubleAllCores) => (cores * FmaPeak.Flops(false), nameof(PeakFmaDoubleAllCores), false),
            nameof(PeakFmaFloatAllCores) => (cores * FmaPeak.Flops(true), nameof(PeakFmaFloatAllCores), false),
            _ => null,
        };
    }
}

/// <summary>Adds prompts/s, GFLOP/s, % of peak and the speed-up over the scalar oracle to the summary.</summary>
public sealed class ConstructedForwardConfig : ManualConfig
{
    public ConstructedForwardConfig()
    {
        AddColumn(new WorkColumn(WorkColumn.Kind.PromptsPerSecond), new WorkColumn(WorkColumn.Kind.GFlops),
            new WorkColumn(WorkColumn.Kind.PercentOfPeak), new WorkColumn(WorkColumn.Kind.SpeedUpOverScalar));
    }
}

public sealed class WorkColumn(WorkColumn.Kind kind) : IColumn
{
    public enum Kind { PromptsPerSecond, GFlops, PercentOfPeak, SpeedUpOverScalar }

    public string Id => $"{nameof(WorkColumn)}.{kind}";
    public string ColumnName => kind switch
    {
        Kind.PromptsPerSecond => "Prompts/s",
        Kind.GFlops => "GFLOP/s",
        Kind.PercentOfPeak => "% of peak",
        _ => "× scalar",
    };
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => (int)kind;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => kind switch
    {
        Kind.PromptsPerSecond => "Forward passes per second (1 / mean time per prompt)",
        Kind.GFlops => "Nominal GFLOP/s (FlopCount: attention dense 2N²(dk+dv) per head, projections, MLPs; peak loops: FMAs × 2)",
        Kind.PercentOfPeak => "GFLOP/s over the FMA peak measured in this run (same precision; all cores for the batched fast executor, one core otherwise)",
        _ => "Mean time per prompt of ScalarDouble over this case's (same n)",
    };

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        string method = benchmarkCase.Descriptor.WorkloadMethod.Name;
        int? n = N(benchmarkCase);
        var work = ConstructedForwardBenchmarks.Work(method, n);
        double? ns = MeanNs(summary, benchmarkCase);
        if (work is null || ns is null) return "-";
        var (flops, peak, forward) = work.Value;
        double gflops = flops / ns.Value;
        var inv = CultureInfo.InvariantCulture;
        switch (kind)
        {
            case Kind.PromptsPerSecond:
                return forward ? (1e9 / ns.Value).ToString(ns.Value < 1e7 ? "F1" : "F3", inv) : "-";
            case Kind.GFlops:
                return gflops.ToString("F2", inv);
            case Kind.PercentOfPeak:
            {
                var peakCase = summary.BenchmarksCases.FirstOrDefault(c => c.Descriptor.WorkloadMethod.Name == peak);
                double? peakNs = peakCase is null ? null : MeanNs(summary, peakCase);
                if (peakNs is null) return "-";
                double peakGflops = ConstructedForwardBenchmarks.Work(peak, null)!.Value.Flops / peakNs.Value;
                return (100 * gflops / peakGflops).ToString("F1", inv) + " %";
            }
            default:
            {
                if (!forward || method == nameof(ConstructedForwardBenchmarks.ScalarDouble)) return "-";
                var scalar = summary.BenchmarksCases.FirstOrDefault(c =>
                    c.Descriptor.WorkloadMethod.Name == nameof(ConstructedForwardBenchmarks.ScalarDouble) && N(c) == n);
                double? scalarNs = scalar is null ? null : MeanNs(summary, scalar);
                return scalarNs is null ? "-" : (scalarNs.Value / ns.Value).ToString("F1", inv) + "×";
            }
        }
    }

    private static int? N(BenchmarkCase c) =>
        c.Parameters.Items.FirstOrDefault(p => p.Name == "n")?.Value is int n ? n : null;

    private static double? MeanNs(Summary summary, BenchmarkCase c) => summary[c]?.ResultStatistics?.Mean;

    public override string ToString() => ColumnName;
}
