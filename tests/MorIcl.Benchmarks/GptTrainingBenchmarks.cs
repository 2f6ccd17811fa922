using System.Globalization;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Training;
using MorIcl.Training.Gpt;

namespace MorIcl.Benchmarks;

/// <summary>
/// One training step of the GPT encoder (forward + backward through <see cref="GptModel.LossAndGradient"/>,
/// no optimiser) on a batch of 64 MoR prompts with n = 40 examples, d = 10, for the "tiny" and "small"
/// sizes in float and double, on all cores. The same run measures the machine's FMA peak with tight
/// Vector512 FMA loops on every core, so the summary states steps/s, GFLOP/s and the fraction of peak.
/// FLOPs are counted analytically (<see cref="StepFlops"/>).
/// <code>dotnet run -c Release --project tests/MorIcl.Benchmarks -- --filter '*Gpt*'</code>
/// </summary>
[Config(typeof(GptTrainingConfig))]
public class GptTrainingBenchmarks
{
    public const int Batch = 64, N = 40, D = 10;

    [ParamsSource(nameof(Cases))]
    public string Case { get; set; } = "tiny/float";

    public static IEnumerable<string> Cases => new[] { "tiny/float", "tiny/double", "small/float", "small/double" };

    private GptModel _model = null!;
    private Prompt[] _batch = null!;
    private double[] _gradient = null!;

    public static GptConfig ConfigOf(string c) => GptConfig.Named(c.Split('/')[0], D);
    public static bool IsFloat(string c) => c.EndsWith("float", StringComparison.Ordinal);

    [GlobalSetup]
    public void Setup()
    {
        var truth = new MixtureSpec(RegressionVectors.DrawNormalised(D, 2, SeedSequence.Create(2024)), new[] { 0.5, 0.5 }, 0.5);
        _batch = PromptSampler.SampleBatch(truth, N, Batch, seed: 17);
        _model = new GptModel(ConfigOf(Case), seed: 1, IsFloat(Case) ? Precision.Float : Precision.Double);
        _gradient = new double[_model.Parameters.Length];
    }

    [Benchmark]
    public double TrainingStep() => _model.LossAndGradient(_batch, _gradient);

    /// <summary>
    /// FLOPs of one step (a multiply-add counts 2; only the matrix products are counted — LayerNorm,
    /// softmax, GELU, bias and residual adds are not). Per prompt with N = n + 1 tokens, forward:
    /// read-in 2N(d+1)D; per block Q/K/V 2N·D·3D, scores 2N²D and value sums 2N²D (all heads together:
    /// H·N²·D/H), output projection 2N·D², MLP 2·2N·D·4D; read-out 2D. The backward pass does two
    /// products of the same size for each forward product (input and weight gradient), except at the
    /// read-in where only the weight gradient is needed: step = 3·forward − 2N(d+1)D, times the batch.
    /// </summary>
    public static double StepFlops(GptConfig c, int n, int batch)
    {
        double tokens = n + 1, w = c.Width;
        double readIn = 2 * tokens * c.TokenWidth * w;
        double block = 2 * tokens * w * 3 * w + 4 * tokens * tokens * w + 2 * tokens * w * w + 16 * tokens * w * w;
        double forward = readIn + c.Layers * block + 2 * w;
        return batch * (3 * forward - readIn);
    }

    // ------------------------------------------------------------------ peak (as ConstructedForwardBenchmarks)

    [Benchmark] public double PeakFmaFloatAllCores() => FmaPeak.OnAllCores(() => FmaPeak.Float());
    [Benchmark] public double PeakFmaDoubleAllCores() => FmaPeak.OnAllCores(FmaPeak.Double);

    public static double PeakFlops(bool single) => Environment.ProcessorCount * FmaPeak.Flops(single);

}

/// <summary>A short job (1 launch, 2 warm-ups, 6 iterations) and the steps/s, GFLOP/s, % of peak columns.</summary>
public sealed class GptTrainingConfig : ManualConfig
{
    public GptTrainingConfig()
    {
        AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(6).WithId("Short"));
        AddColumn(new GptColumn(GptColumn.Kind.StepsPerSecond), new GptColumn(GptColumn.Kind.GFlops), new GptColumn(GptColumn.Kind.PercentOfPeak));
    }
}

public sealed class GptColumn(GptColumn.Kind kind) : IColumn
{
    public enum Kind { StepsPerSecond, GFlops, PercentOfPeak }

    public string Id => $"{nameof(GptColumn)}.{kind}";
    public string ColumnName => kind switch { Kind.StepsPerSecond => "Steps/s", Kind.GFlops => "GFLOP/s", _ => "% of peak" };
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => (int)kind;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => kind switch
    {
        Kind.StepsPerSecond => "Training steps (forward + backward, batch 64) per second",
        Kind.GFlops => "Analytic GFLOP/s (GptTrainingBenchmarks.StepFlops: matrix products only; peak loops: FMAs × 2)",
        _ => "GFLOP/s over the all-core Vector512 FMA peak of the same precision measured in this run",
    };
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var inv = CultureInfo.InvariantCulture;
        string method = benchmarkCase.Descriptor.WorkloadMethod.Name;
        double? ns = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (ns is null) return "-";
        string c = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "Case")?.Value as string ?? "";
        bool single = GptTrainingBenchmarks.IsFloat(c);
        double flops;
        string peak;
        if (method == nameof(GptTrainingBenchmarks.TrainingStep))
        {
            flops = GptTrainingBenchmarks.StepFlops(GptTrainingBenchmarks.ConfigOf(c), GptTrainingBenchmarks.N, GptTrainingBenchmarks.Batch);
            peak = single ? nameof(GptTrainingBenchmarks.PeakFmaFloatAllCores) : nameof(GptTrainingBenchmarks.PeakFmaDoubleAllCores);
        }
        else
        {
            single = method == nameof(GptTrainingBenchmarks.PeakFmaFloatAllCores);
            flops = GptTrainingBenchmarks.PeakFlops(single);
            peak = method;
        }
        double gflops = flops / ns.Value;
        switch (kind)
        {
            case Kind.StepsPerSecond:
                return method == nameof(GptTrainingBenchmarks.TrainingStep) ? (1e9 / ns.Value).ToString("F2", inv) : "-";
            case Kind.GFlops:
                return gflops.ToString("F1", inv);
            default:
            {
                // the peak loops do not depend on Case: take the fastest measurement of the peak method
                var peakNs = summary.BenchmarksCases.Where(x => x.Descriptor.WorkloadMethod.Name == peak)
                    .Select(x => summary[x]?.ResultStatistics?.Mean).Where(x => x is not null).Select(x => x!.Value).DefaultIfEmpty(double.NaN).Min();
                if (double.IsNaN(peakNs)) return "-";
                double peakGflops = GptTrainingBenchmarks.PeakFlops(peak == nameof(GptTrainingBenchmarks.PeakFmaFloatAllCores)) / peakNs;
                return (100 * gflops / peakGflops).ToString("F1", inv) + " %";
            }
        }
    }

    public override string ToString() => ColumnName;
}
