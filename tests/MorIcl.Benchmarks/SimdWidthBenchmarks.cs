using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using MorIcl.Construction;
using MorIcl.Em;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Runtime;
using MorIcl.Training;
using MorIcl.Training.Gpt;

namespace MorIcl.Benchmarks;

/// <summary>
/// The same three workloads on every SIMD width, side by side in one run: a job with all instruction
/// sets (the baseline), one with AVX-512 off (Vector256) and one with AVX2 off (Vector128 only, as on
/// ARM64; x86 loses FMA with it). The Ratio column is each width's time over the baseline's.
/// Forward: the constructed gradient-EM transformer (d = 10, K = 2, S = 10, T = 5, double) on 16
/// prompts of n = 200, all cores. GPT: one training step (forward + backward) of the tiny encoder in
/// float, batch 64, n = 40, all cores. EM: one exact EM iteration at n = 100 000, d = 20, K = 3, one core.
/// <code>dotnet run -c Release --project tests/MorIcl.Benchmarks -- --filter '*SimdWidth*'</code>
/// </summary>
[Config(typeof(SimdWidthConfig))]
public class SimdWidthBenchmarks
{
    private (RegressionData Examples, double[] Query)[] _prompts = null!;
    private ModelExecutor<double> _executor = null!;
    private GptModel _gpt = null!;
    private Prompt[] _gptBatch = null!;
    private double[] _gradient = null!;
    private RegressionData _emData = null!;
    private MixtureParameters _emInit = null!;
    private EmOptions _emOptions = null!;

    [GlobalSetup]
    public void Setup()
    {
        var truth = new MixtureSpec(RegressionVectors.DrawNormalised(10, 2, SeedSequence.Create(2024)), new[] { 0.5, 0.5 }, 0.5);
        _prompts = PromptSampler.SampleBatch(truth, 200, 16, seed: 17).Select(p => (p.Examples, p.Query)).ToArray();
        _executor = new ModelExecutor<double>(Compiler.Compile(new ConstructionSpec(10, 2, 0.5, null, 10, 5, 0.5)));
        _gptBatch = PromptSampler.SampleBatch(truth, 40, 64, seed: 17);
        _gpt = new GptModel(GptConfig.Tiny(10), seed: 1, Precision.Float);
        _gradient = new double[_gpt.Parameters.Length];
        var em = new MixtureSpec(RegressionVectors.DrawNormalised(20, 3, SeedSequence.Create(1)), new[] { 1 / 3.0, 1 / 3.0, 1 / 3.0 }, 0.3);
        _emData = PromptSampler.Sample(em, 100_000, 2, 0).Examples;
        _emInit = Initialisation.RandomGaussian(_emData, 3, 3);
        _emOptions = new EmOptions { Algorithm = EmAlgorithm.Exact, MaxIterations = 1, Variance = VarianceModel.PerComponent };
    }

    [Benchmark] public ForwardResult[] ForwardPass() => _executor.Forward(_prompts);

    [Benchmark] public double GptTrainingStep() => _gpt.LossAndGradient(_gptBatch, _gradient);

    [Benchmark] public MixtureParameters EmIteration() => ExpectationMaximisation.Fit(_emData, _emInit, _emOptions).Parameters;
}

/// <summary>Three jobs that differ only in the runtime's instruction-set switches; the first is the baseline.</summary>
public sealed class SimdWidthConfig : ManualConfig
{
    public SimdWidthConfig()
    {
        var basis = Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(8);
        AddJob(basis.WithId("all ISAs").AsBaseline());
        // Both names of the AVX-512 switch: EnableAVX512F (.NET 8/9) and EnableAVX512 (.NET 10).
        AddJob(basis.WithEnvironmentVariables(new EnvironmentVariable("DOTNET_EnableAVX512F", "0"), new EnvironmentVariable("DOTNET_EnableAVX512", "0")).WithId("AVX2"));
        AddJob(basis.WithEnvironmentVariables(new EnvironmentVariable("DOTNET_EnableAVX2", "0")).WithId("Vector128"));
        WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared, BenchmarkDotNet.Order.MethodOrderPolicy.Declared));
    }
}
