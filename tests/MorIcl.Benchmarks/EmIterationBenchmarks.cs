using BenchmarkDotNet.Attributes;
using MorIcl.Em;
using MorIcl.Mixture;
using MorIcl.Numerics;

namespace MorIcl.Benchmarks;

/// <summary>One EM iteration (E-step + M-step, σ and π estimated) on one core, exact and gradient (T = 1).</summary>
[MemoryDiagnoser]
public class EmIterationBenchmarks
{
    [Params(2, 3)] public int K;
    [Params(5, 20)] public int D;
    [Params(1_000, 100_000)] public int N;
    [Params(EmAlgorithm.Exact, EmAlgorithm.Gradient)] public EmAlgorithm Algorithm;

    private RegressionData _data = null!;
    private MixtureParameters _init = null!;
    private EmOptions _options = null!;

    [GlobalSetup]
    public void Setup()
    {
        var spec = new MixtureSpec(RegressionVectors.DrawNormalised(D, K, SeedSequence.Create(1)), Enumerable.Repeat(1.0 / K, K).ToArray(), 0.3);
        _data = PromptSampler.Sample(spec, N, 2, 0).Examples;
        _init = Initialisation.RandomGaussian(_data, K, 3);
        _options = new EmOptions { Algorithm = Algorithm, InnerSteps = 1, StepSize = 0.5, MaxIterations = 1, Variance = VarianceModel.PerComponent };
    }

    /// <summary>MaxIterations = 1: one E-step + M-step, plus the closing E-step that evaluates ℓ at the result.</summary>
    [Benchmark]
    public MixtureParameters OneIteration() => ExpectationMaximisation.Fit(_data, _init, _options).Parameters;
}
