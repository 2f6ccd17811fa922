using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Construction.Operators;
using MorIcl.Export;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Runtime;
using MorIcl.Tests.Support;
using MorIcl.Training;
using MorIcl.Training.Constructed;
using MorIcl.Training.Gpt;
using Xunit.Abstractions;

namespace MorIcl.Tests.Export;

/// <summary>
/// ONNX Runtime (CPU) runs the exported graphs on raw prompts and must give what MorIcl's own
/// runtime gives: constructed models drawn at random from a seed (K-component, symmetric, estimated
/// mixing, K = 1) in double to 1e-12 relative — prediction, β̂, responsibilities or weights, π̂ —
/// and the flag for prompts past the positional scheme; trained models (the constructed
/// architecture and gpt2) likewise; float graphs within float rounding of the float runtime.
/// </summary>
public class OnnxRuntimeParityTests(ITestOutputHelper output)
{
    private const double DoubleTolerance = 1e-12;

    /// <summary>Constructions drawn from a seed (never tuned on), plus one of each special form.</summary>
    public static IEnumerable<object[]> Specs()
    {
        var rng = SeedSequence.Create(2026, 0, 15);
        for (int i = 0; i < 2; i++)
        {
            int d = rng.Next(2, 6), k = rng.Next(i == 0 ? 1 : 2, 4);   // the second has K ≥ 2
            var w = Enumerable.Range(0, k).Select(_ => 0.5 + rng.NextDouble()).ToArray();
            var mixing = w.Select(x => x / w.Sum()).ToArray();
            yield return new object[] { $"random{i}", new ConstructionSpec(d, k, 0.3 + rng.NextDouble(), mixing, rng.Next(1, 3), rng.Next(1, 3), 0.3 + 0.6 * rng.NextDouble(),
                margin: 1024 * rng.Next(1, 8), maxPromptLength: 31) };
        }
        yield return new object[] { "symmetric", new ConstructionSpec(3, 2, 0.5, null, 2, 1, 0.5, symmetric: true, maxPromptLength: 63) };
        yield return new object[] { "estimated-mixing", new ConstructionSpec(2, 2, 0.4, new[] { 0.3, 0.7 }, 1, 1, 0.5, estimateMixing: true, maxPromptLength: 63) };
    }

    [Theory]
    [MemberData(nameof(Specs))]
    public void ConstructedModelsAgreeWithTheRuntimeInDouble(string name, ConstructionSpec spec)
    {
        var model = Compiler.Compile(spec);
        using var ort = new OnnxRunner(OnnxExport.Transformer(model, ExportPrecision.Double));
        var exec = new ModelExecutor<double>(model);
        var truth = Fixtures.Spec(spec.Dimension, spec.Components, spec.Sigma, 7);
        var worst = 0.0;
        int max = (int)model.MaxPromptLength;
        // Short prompts, the longest certified one, and one past it (31: past the positional scheme too, where digits wrap in both).
        foreach (int n in new[] { spec.Dimension + 2, max, max + 3 })
        {
            var p = PromptSampler.Sample(truth, n, 31, n);
            var want = exec.Forward(p.Examples, p.Query, trace: true);
            var got = ort.Run(p.Examples, p.Query);
            worst = Math.Max(worst, Relative(got["prediction"], new[] { want.Prediction }));
            worst = Math.Max(worst, Relative(got["beta"], want.Beta.SelectMany(b => b).ToArray()));
            var (estep, _) = TraceDecoder.Decode(model, want.Trace!, n);
            var last = estep[^1].Values;
            if (model.ReadOut.Responsibilities is not null)
                worst = Math.Max(worst, Relative(got["responsibilities"], Enumerable.Range(0, n).SelectMany(i => last.Select(k => k[i])).ToArray()));
            if (spec.Symmetric) worst = Math.Max(worst, Relative(got["weights"], last[0]));
            if (want.Mixing is { } pi) worst = Math.Max(worst, Relative(got["mixing"], pi));
            Assert.Equal(n <= max ? 1.0 : 0.0, got["positions_in_range"][0]);
            Assert.Equal(want.Certificate.PositionsInRange, n <= max);
        }
        double tolerance = Tolerance(spec);
        output.WriteLine($"{name}: {model.Layers.Count} layers, worst relative difference {worst:G3} (tolerance {tolerance:G3})");
        Assert.True(worst <= tolerance, $"{name}: ONNX Runtime differs from the runtime by {worst:G3} (relative)");
    }

    /// <summary>
    /// 1e-12 for exact operators. The log layer of estimated mixing is a sum of thousands of ReLU terms
    /// that cancel; its value carries a declared rounding error γ_m Σ|a_i| for any summation order
    /// (LogApproximation.RoundingBound), so two engines may differ by twice that per log π̂_k and
    /// EM iteration; the bound adds it (taking the output's sensitivity to log π̂ as at most 1).
    /// </summary>
    private static double Tolerance(ConstructionSpec spec) =>
        DoubleTolerance + (spec.EstimateMixing ? 2 * spec.EmIterations * spec.Components * new LogApproximation(spec.MixingFloor, ConstructionSpec.LogTargetError).RoundingBound : 0);

    /// <summary>The parity criterion rejects a model one weight of which is scaled by 1 + 1e-9.</summary>
    [Fact]
    public void AMutantWeightIsCaught()
    {
        var model = Compiler.Compile(new ConstructionSpec(3, 2, 0.5, new[] { 0.6, 0.4 }, 2, 1, 0.5, maxPromptLength: 63));
        var p = PromptSampler.Sample(Fixtures.Spec(3, 2, 0.5, 4), 40, 13, 0);
        var want = new ModelExecutor<double>(model).Forward(p.Examples, p.Query);
        using var ort = new OnnxRunner(OnnxExport.Transformer(ModelSurgery.ScaleFirstGdStepValue(model, 1 + 1e-9), ExportPrecision.Double));
        var got = ort.Run(p.Examples, p.Query);
        double difference = Math.Max(Relative(got["prediction"], new[] { want.Prediction }), Relative(got["beta"], want.Beta.SelectMany(b => b).ToArray()));
        output.WriteLine($"one weight scaled by 1 + 1e-9: {difference:G3}");
        Assert.True(difference > DoubleTolerance, $"a mutant weight went unnoticed ({difference:G3})");
    }

    /// <summary>Normwise relative difference max|a − b| / max|b|.</summary>
    internal static double Relative(double[] got, double[] want)
    {
        Assert.Equal(want.Length, got.Length);
        return TraceDecoder.RelativeError(new[] { got }, new[] { want });
    }

    /// <summary>
    /// Float: the runtime's certified rounding bound B (docs/math.md §8: |computed − exact| for ŷ and β̂,
    /// derived for any summation order) holds for either float evaluation of the same graph, so the two
    /// may differ by at most 2B.
    /// </summary>
    [Fact]
    public void FloatGraphsAgreeWithinTheCertifiedFloatBound()
    {
        var spec = new ConstructionSpec(3, 2, 0.5, new[] { 0.6, 0.4 }, 2, 2, 0.5, maxPromptLength: 100);
        var model = Compiler.Compile(spec);
        using var ort = new OnnxRunner(OnnxExport.Transformer(model, ExportPrecision.Float));
        var f = new ModelExecutor<float>(model, boundRounding: true);
        var truth = Fixtures.Spec(3, 2, 0.5, 4);
        foreach (int n in new[] { 10, 40 })
        {
            var p = PromptSampler.Sample(truth, n, 12, n);
            var runtime = f.Forward(p.Examples, p.Query);
            var got = ort.Run(p.Examples, p.Query);
            double dPrediction = Math.Abs(got["prediction"][0] - runtime.Prediction);
            double dBeta = got["beta"].Zip(runtime.Beta.SelectMany(b => b)).Max(t => Math.Abs(t.First - t.Second));
            var c = runtime.Certificate;
            output.WriteLine($"n = {n}: |ONNX Runtime − runtime| = {dPrediction:G3} (ŷ), {dBeta:G3} (β̂); certified bounds {c.PredictionErrorBound:G3}, {c.BetaErrorBound:G3}");
            Assert.True(dPrediction <= 2 * c.PredictionErrorBound, $"n = {n}: ŷ differs by {dPrediction:G3}, bound 2·{c.PredictionErrorBound:G3}");
            Assert.True(dBeta <= 2 * c.BetaErrorBound, $"n = {n}: β̂ differs by {dBeta:G3}, bound 2·{c.BetaErrorBound:G3}");
        }
    }

    [Fact]
    public void TrainedConstructedArchitectureAgreesWithItsOwnForwardPass()
    {
        var template = Compiler.Compile(new ConstructionSpec(2, 2, 0.5, null, 1, 1, 0.5, maxPromptLength: 31));
        var trained = ConstructedArchitectureModel.Random(template, 0.01, 3);
        var task = new TrainingTask(2, 2, 0.5, new[] { 0.5, 0.5 }, MixtureMode.PerSample, 12, 1);
        new Trainer(trained, task, new TrainingOptions(1, 4, 1e-4, 0, 0, 1, 100)).Run(null);   // a rate the random architecture survives (1e-2 diverges, which the trainer now stops)
        using var ort = new OnnxRunner(OnnxExport.Transformer(TrainedTransformer.Of(trained), ExportPrecision.Double));
        var truth = task.Spec();
        var worst = 0.0;
        foreach (int n in new[] { 5, 15 })
        {
            var p = PromptSampler.Sample(truth, n, 5, n);
            worst = Math.Max(worst, Relative(ort.Run(p.Examples, p.Query)["prediction"], new[] { trained.Predict(p.Examples, p.Query) }));
        }
        output.WriteLine($"trained constructed architecture: worst relative difference {worst:G3}");
        Assert.True(worst <= DoubleTolerance, $"{worst:G3}");
    }

    [Theory]
    [InlineData(Precision.Double, DoubleTolerance)]
    [InlineData(Precision.Float, 1e-5)]
    public void TrainedGptAgreesWithItsOwnForwardPass(Precision precision, double tolerance)
    {
        var gpt = new GptModel(new GptConfig(3, 2, 16, 2), 5, precision);
        var task = new TrainingTask(3, 2, 0.4, new[] { 0.5, 0.5 }, MixtureMode.PerSample, 10, 1);
        new Trainer(gpt, task, new TrainingOptions(4, 8, 1e-2, 0, 0, 1, 100)).Run(null);
        using var ort = new OnnxRunner(OnnxExport.Gpt(gpt, precision == Precision.Double ? ExportPrecision.Double : ExportPrecision.Float));
        var truth = task.Spec();
        var worst = 0.0;
        foreach (int n in new[] { 1, 10, 40 })
        {
            var p = PromptSampler.Sample(truth, n, 8, n);
            worst = Math.Max(worst, Relative(ort.Run(p.Examples, p.Query)["prediction"], gpt.Predict(new[] { (p.Examples, p.Query) })));
        }
        output.WriteLine($"gpt2 ({precision}): worst relative difference {worst:G3}");
        Assert.True(worst <= tolerance, $"{worst:G3}");
    }
}
