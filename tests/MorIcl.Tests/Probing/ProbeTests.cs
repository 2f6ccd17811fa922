using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Mixture;
using MorIcl.Probing;
using MorIcl.Training;
using MorIcl.Training.Constructed;

namespace MorIcl.Tests.Probing;

/// <summary>
/// The probes' known answer (docs/math.md §11): in the constructed transformer the β rows of the query
/// token hold gradient EM's b exactly after every gd_step layer, so a linear probe decodes β̂ after
/// iteration s with R² = 1 up to rounding right after the layer that completes iteration s.
/// </summary>
public class ProbeTests
{
    private static readonly ConstructionSpec Spec = new(2, 2, 0.5, null, emIterations: 2, gradientSteps: 2, stepSize: 0.5, maxPromptLength: 31);
    private static readonly TransformerModel Model = Compiler.Compile(Spec);

    private static ProbeReport Probe(ConstructionSpec targets, bool untrained = false) =>
        ProbeExperiment.Run(new ExecutorStreams(Model), untrained ? new ConstructedArchitectureStreams(ConstructedArchitectureModel.Random(Model, 0.15, 3)) : null,
            new ProbeTargets(targets, new TrainingTask(2, 2, 0.5, new[] { 0.5, 0.5 }, MixtureMode.PerSample, 12, 1).Spec(), 12), new ProbeOptions(80, 60, 12, 5));

    /// <summary>Read point (1-based layer index) after which the gd_step layers of iteration s are done, found independently of <see cref="IterateRecoveries"/>.</summary>
    private static int EndOfIteration(int s) =>
        1 + Enumerable.Range(0, Model.Layers.Count).Last(l => Model.Layers[l].Provenance.Decode == DecodeKind.Beta && Model.Layers[l].Provenance.EmIteration == s);

    [Fact]
    public void EveryIterateIsDecodedRightAfterItsIterationAndNotBefore()
    {
        var report = Probe(Spec, untrained: true);
        for (int s = 1; s <= Spec.EmIterations; s++)
        {
            string t = ProbeTargets.Iterate(s);
            int l = EndOfIteration(s);
            Assert.True(report.Layers[l].R2(ProbePosition.Query, t) >= 0.999999, $"{t} at read point {l}: R² = {report.Layers[l].R2(ProbePosition.Query, t)}");
            // Before the M-step of iteration 1 nothing in the query token depends on the examples.
            Assert.True(report.Layers[0].R2(ProbePosition.Query, t) < 0.05);
            // Controls: shuffled targets and the untrained architecture cannot decode it.
            Assert.True(report.Shuffled.Max(x => x.R2(ProbePosition.Query, t)) < 0.2);
            Assert.True(report.Untrained!.Max(x => x.R2(ProbePosition.Query, t)) < 0.99);
        }
        // Iteration 1's β̂ is overwritten by iteration 2: it is no longer exact at the end.
        Assert.True(report.Layers[EndOfIteration(2)].R2(ProbePosition.Query, ProbeTargets.Iterate(1)) < 0.9999);
        // The summary the probe command prints reads the same points and meets the criterion for every iterate.
        var recovered = IterateRecoveries.Of(Model, report);
        Assert.Equal(new[] { (1, EndOfIteration(1)), (2, EndOfIteration(2)) }, recovered.Select(x => (x.Iteration, x.ReadPoint)));
        Assert.All(recovered, x => Assert.True(x.Met, $"{x.Target}: R² = {x.R2}"));
    }

    [Fact]
    public void TargetsOfAnotherAlgorithmAreNotDecodedExactly()
    {
        // The criterion rejects: gradient EM with α = 0.45 instead of the model's 0.5 is close but not what the layers hold.
        var wrong = new ConstructionSpec(2, 2, 0.5, null, emIterations: 2, gradientSteps: 2, stepSize: 0.45, maxPromptLength: 31);
        var report = Probe(wrong);
        for (int s = 1; s <= 2; s++)
            Assert.True(report.Layers[EndOfIteration(s)].R2(ProbePosition.Query, ProbeTargets.Iterate(s)) < 0.999999);
        Assert.All(IterateRecoveries.Of(Model, report), x => Assert.False(x.Met, $"{x.Target}: R² = {x.R2}"));
    }

    [Fact]
    public void RidgeProbeRecoversANoisyLinearMapWithItsExpectedR2()
    {
        // y = ⟨a, x⟩ + ε with x ~ N(0, I_5), ‖a‖² = 1, ε ~ N(0, 0.5²): the population R² is 1/(1 + 0.25) = 0.8.
        var rng = MorIcl.Numerics.SeedSequence.Create(11);
        var a = new[] { 0.6, -0.8, 0, 0, 0 };
        var x = new double[3000][]; var y = new double[3000][];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = Enumerable.Range(0, 5).Select(_ => MathNet.Numerics.Distributions.Normal.Sample(rng, 0, 1)).ToArray();
            y[i] = new[] { x[i].Zip(a, (u, v) => u * v).Sum() + MathNet.Numerics.Distributions.Normal.Sample(rng, 0, 0.5) };
        }
        var probe = RidgeProbe.Fit(x, y, Enumerable.Range(0, 2000).ToArray(), 1);
        double r2 = probe.R2(x, y, Enumerable.Range(2000, 1000).ToArray());
        // Sampling sd of R² over 1000 test rows ≈ 2(1 − R²)√(R²/1000) ≈ 0.011: four of them.
        Assert.InRange(r2, 0.8 - 0.045, 0.8 + 0.045);
        Assert.True(probe.Lambda <= 0.1, $"λ = {probe.Lambda}");
    }
}

/// <summary>Matched algorithms and training from the construction, on the smallest construction (known answers).</summary>
public class MatchAndFineTuningTests
{
    private static readonly ConstructionSpec Spec = new(2, 2, 0.5, null, emIterations: 2, gradientSteps: 1, stepSize: 0.5, maxPromptLength: 31);
    private static readonly TrainingTask Task = new(2, 2, 0.5, new[] { 0.5, 0.5 }, MixtureMode.PerSample, 10, 1);

    [Fact]
    public void TheConstructionMatchesItsOwnGradientEmAndNoOtherIterationCount()
    {
        var model = Compiler.Compile(Spec);
        var results = MorIcl.Comparison.AlgorithmMatch.Run(new MorIcl.Comparison.ConstructedPredictor(model), null, Task, Spec,
            new MorIcl.Comparison.MatchOptions(new[] { 10 }, 12, 2, 4, 20, 3));
        var r = Assert.Single(results);
        Assert.Equal(MorIcl.Comparison.AlgorithmMatch.Iterate(2), r.Best);
        Assert.Equal(2, r.BestS);
        Assert.True(r.GradientEmSpd[1] < 1e-24, $"SPD against its own gradient EM {r.GradientEmSpd[1]}");
        Assert.True(r.GradientEmSpd[0] > 1e-6 && r.GradientEmSpd[2] > 1e-8, "S = 1 and S = 3 differ from S = 2");
    }

    [Fact]
    public void TrainingFromTheConstructionStartsAtGradientEmAndBacksOffWhenALargeStepBlowsUp()
    {
        var points = MorIcl.Comparison.ConstructionFineTuning.Run(Spec, Task, new MorIcl.Comparison.FineTuningSchedule(1e-2, 3, 0), batch: 2, every: 1, evaluationPrompts: 6, seed: 1);
        Assert.Equal(0, points[0].Distance);
        Assert.True(points[0].SpdGradientEm < 1e-24, $"SPD at the construction {points[0].SpdGradientEm}");
        Assert.True(points[0].GradientNorm > 1e5, $"gradient norm at the construction {points[0].GradientNorm}");
        // A step of 1e-2 per weight moves positional scores by ~1e4 and the loss explodes: undone, rates ÷ 10.
        Assert.True(points[^1].Backoffs >= 1);
        Assert.All(points, p => Assert.True(double.IsFinite(p.Loss)));
    }
}
