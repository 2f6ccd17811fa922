using BenchmarkDotNet.Attributes;
using MorIcl.Construction;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Training.Constructed;

namespace MorIcl.Benchmarks;

/// <summary>
/// One forward + backward pass (<see cref="ConstructedArchitectureModel.LossAndGradient"/>, no optimiser) of
/// the constructed architecture as a trainable model, d = 2, K = 2, σ = 0.3, S = 2, T = 1, α = 0.5, on a batch
/// of 16 prompts with n = 10 examples, one thread: the configuration `train --architecture constructed` uses
/// in the tests. This replaces a timed assertion that used to sit in the test suite.
/// <code>dotnet run -c Release --project tests/MorIcl.Benchmarks -- --filter '*ConstructedArchitectureTraining*'</code>
/// </summary>
[MemoryDiagnoser]
public class ConstructedArchitectureTrainingBenchmarks
{
    private ConstructedArchitectureModel _model = null!;
    private Prompt[] _batch = null!;
    private double[] _gradient = null!;

    [GlobalSetup]
    public void Setup()
    {
        var template = Compiler.Compile(new ConstructionSpec(2, 2, 0.3, null, 2, 1, 0.5, maxPromptLength: 100));
        _model = ConstructedArchitectureModel.FromConstruction(template, 1e-9, seed: 1);
        _model.MaxDegreeOfParallelism = 1;
        var truth = new MixtureSpec(RegressionVectors.DrawNormalised(2, 2, SeedSequence.Create(5, 0, 7)), new[] { 0.5, 0.5 }, 0.3);
        _batch = PromptSampler.SampleBatch(truth, 10, 16, seed: 3);
        _gradient = new double[_model.Parameters.Length];
    }

    /// <summary>Per batch of 16 prompts; divide by 16 for the cost per prompt.</summary>
    [Benchmark]
    public double ForwardAndBackward() => _model.LossAndGradient(_batch, _gradient);
}
