using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Construction.Operators;
using MorIcl.Em;
using MorIcl.Mixture;
using MorIcl.Runtime;
using MorIcl.Tests.Support;
using MorIcl.Verification;

namespace MorIcl.Tests.Construction;

/// <summary>
/// Estimated mixing weights (docs/math.md §3's approximate operator: "estimated mixing weights need log π").
/// The transformer computes π̂_k exactly (softmax mean) and log π̂_k by a piecewise-linear interpolant L
/// with a declared bound ε. Checked here: (1) L alone against log on [p_min, 1 + δ], edges included;
/// (2) the log layer's own weights against L; (3) the transformer equals reference gradient EM that
/// uses the same L, to rounding (so every other operator is exact); (4) against reference gradient
/// EM with the exact log, the difference stays inside ε propagated to first order through the run
/// (sensitivities by central differences of the reference); (5) π̂ below p_min is out of domain.
/// </summary>
public class EstimatedMixingTests
{
    private static readonly LogApproximation Log = new(1e-3, ConstructionSpec.LogTargetError);

    private static IEnumerable<double> Grid(LogApproximation log)
    {
        foreach (var k in log.Knots) yield return k;
        for (int j = 0; j < log.Slopes.Length; j++)
        {
            yield return 1 / log.Slopes[j];                      // where the segment's gap peaks
            yield return 0.5 * (log.Knots[j] + log.Knots[j + 1]);
        }
        for (int i = 0; i <= 20000; i++) yield return log.Floor * Math.Pow(1 / log.Floor, i / 20000.0);
        yield return Math.BitDecrement(1.0);
        yield return 1.0;
        yield return Math.BitIncrement(1.0);
        yield return log.Ceiling;
    }

    [Fact]
    public void InterpolantStaysInsideItsDeclaredBoundAndTheBoundIsTight()
    {
        double worst = 0, mostNegative = 0;
        foreach (var p in Grid(Log))
        {
            double gap = Math.Log(p) - Log.Evaluate(p);
            Assert.True(Math.Abs(gap) <= Log.ErrorBound, $"|log p − L(p)| = {Math.Abs(gap):G6} > declared {Log.ErrorBound:G6} at p = {p:R}");
            // log is concave, so in exact arithmetic log p ≥ L(p) on [p_min, 1]: only rounding may undercut it.
            if (p <= 1) mostNegative = Math.Min(mostNegative, gap);
            worst = Math.Max(worst, Math.Abs(gap));
        }
        Assert.True(mostNegative >= -Log.RoundingBound, $"log p − L(p) = {mostNegative:G6} below −(rounding bound) {-Log.RoundingBound:G6}");
        // The interpolation bound is computed at each segment's maximiser, so the grid (which contains
        // them) attains it up to rounding: the declaration is not loose.
        Assert.True(worst >= Log.InterpolationBound - Log.RoundingBound, $"grid maximum {worst:G6} well below the declared interpolation bound {Log.InterpolationBound:G6}");
        // And it meets its target: per segment (r − 1)²/8 with r = 1 + √(8·target).
        Assert.True(Log.InterpolationBound <= ConstructionSpec.LogTargetError * 1.01, $"{Log.InterpolationBound}");
        Assert.True(Log.RoundingBound < 1e-3 * Log.InterpolationBound, "rounding dominates the declared error");
    }

    [Fact]
    public void LogLayerAloneComputesTheInterpolant()
    {
        var model = Compiler.Compile(new ConstructionSpec(2, 2, 0.5, new[] { 0.3, 0.7 }, 2, 1, 0.5, estimateMixing: true));
        var layer = model.Layers.OfType<MlpLayer>().First(l => l.Provenance.Operator == "log");
        Assert.Equal(2, layer.InputRanges.Length);
        var piRows = model.ReadOut.Mixing!;
        var logRows = model.Layout.Blocks.First(b => b.Name == "log_pi");
        var r0 = layer.InputRanges[0];
        Assert.Equal(piRows[0], r0.Row);
        Assert.Equal(1e-3, r0.Lo);
        Assert.Equal(1 + LogApproximation.AboveOne, r0.Hi);
        // One token: h[π_0] = p, h[π_1] = 1 − p, log rows hold garbage the layer must clear.
        int D = model.Dimension;
        foreach (var p in new[] { 1e-3, 0.0123, 0.5, 0.987, 1.0 })
        {
            var h = new double[D];
            h[piRows[0]] = p; h[piRows[1]] = 1 - p;
            h[logRows[0]] = 17; h[logRows[1]] = -3;
            var z = new double[layer.Hidden];
            for (int e = 0; e < layer.W1.NonZeros; e++) z[layer.W1.RowIndex[e]] += layer.W1.Values[e] * h[layer.W1.ColIndex[e]];
            var o = (double[])h.Clone();
            for (int u = 0; u < z.Length; u++) z[u] = Math.Max(z[u] + layer.B1[u], 0);
            for (int e = 0; e < layer.W2.NonZeros; e++) o[layer.W2.RowIndex[e]] += layer.W2.Values[e] * z[layer.W2.ColIndex[e]];
            for (int c = 0; c < D; c++) o[c] += layer.B2[c];
            Assert.True(Math.Abs(o[logRows[0]] - Math.Log(p)) <= layer.DeclaredError, $"p = {p}: {o[logRows[0]]} vs log p {Math.Log(p)}");
            if (1 - p >= 1e-3) Assert.True(Math.Abs(o[logRows[1]] - Math.Log(1 - p)) <= layer.DeclaredError, $"1 − p = {1 - p}");
            Assert.True(Math.Abs(o[logRows[0]] - Log.Evaluate(p)) <= 2 * Log.RoundingBound, "the layer is L, up to rounding of two evaluation orders");
            Assert.Equal(p, o[piRows[0]]);
        }
    }

    public static TheoryData<int, int, int, int, int> Configurations => new()
    {
        // d, K, S, T, n
        { 3, 2, 4, 2, 80 },
        { 3, 3, 3, 2, 120 },
        { 5, 3, 4, 1, 200 },
    };

    private static (TransformerModel Model, ConstructionSpec Spec, Prompt Prompt) Setup(int d, int K, int S, int T, int n, int seed)
    {
        var mixing = K == 2 ? new[] { 0.35, 0.65 } : new[] { 0.2, 0.3, 0.5 };
        var truth = Fixtures.Spec(d, K, 0.4, seed, mixing);
        var start = Fixtures.NearTruth(truth, 0.3, seed);
        var spec = new ConstructionSpec(d, K, 0.4, Enumerable.Repeat(1.0 / K, K).ToArray(), S, T, 0.6, initialBeta: start.Beta, estimateMixing: true);
        return (Compiler.Compile(spec), spec, PromptSampler.Sample(truth, n, seed, 0));
    }

    private static double[] Outputs(double prediction, double[][] beta, double[] mixing) =>
        beta.SelectMany(b => b).Concat(mixing).Append(prediction).ToArray();

    [Theory]
    [MemberData(nameof(Configurations))]
    public void EveryLayerEqualsItsDefinitionAndTheTransformerEqualsEmWithTheSameInterpolant(int d, int K, int S, int T, int n)
    {
        var (model, spec, prompt) = Setup(d, K, S, T, n, 11 + d + K);
        var r = new ModelExecutor<double>(model).Forward(prompt.Examples, prompt.Query, trace: true);
        Assert.True(r.Certificate.InDomain, r.Certificate.Summary());
        foreach (var e in LayerSemantics.Check(model, r.Trace!, prompt.N))
            Assert.True(e.Error <= 1e-10, $"layer {e.Layer} ({e.Operator}: {e.Checked}): {e.Error}");
        var log = new LogApproximation(spec.MixingFloor, ConstructionSpec.LogTargetError);
        var reference = ReferenceRun.Of(spec, prompt.Examples, prompt.Query, (_, _, p) => log.Evaluate(p));
        var got = Outputs(r.Prediction, r.Beta, r.Mixing!);
        var want = Outputs(reference.Prediction, reference.Beta, reference.Mixing);
        double scale = Math.Max(1, want.Max(Math.Abs));
        double err = got.Zip(want, (a, b) => Math.Abs(a - b)).Max() / scale;
        Assert.True(err <= 1e-10, $"transformer vs gradient EM with the same L: relative error {err:G3}");
        Assert.Equal(1.0, r.Mixing!.Sum(), 12);
    }

    /// <summary>
    /// Propagation of the declared error. Let ℓ_{s,k} be the log π̂_k the E-step of outer iteration s
    /// (s = 2..S) uses, and F the map from these to the outputs (β̂, π̂, ŷ). The transformer evaluates F at
    /// ℓ + e with |e_{s,k}| ≤ ε (the log layer's declared error), so to first order
    /// |F(ℓ + e) − F(ℓ)| ≤ Σ |∂F/∂ℓ_{s,k}|·ε. The partial derivatives are central differences of the
    /// reference (h = 1e−4: truncation O(h²) relative, rounding ~1e−16/h). The second-order remainder is
    /// ½ eᵀ∇²F e = O(ε²·|∇²F|) ≈ 1e−12 relative; the bound adds 10 % and 1e−12 for it and the difference
    /// quotient's error. Sharper: with the actual e = L(π̂) − log π̂, Σ ∂F/∂ℓ·e must predict the observed
    /// difference to within those same second-order terms.
    /// </summary>
    [Theory]
    [MemberData(nameof(Configurations))]
    public void DifferenceFromExactLogEmStaysInsideThePropagatedDeclaredError(int d, int K, int S, int T, int n)
    {
        var (model, spec, prompt) = Setup(d, K, S, T, n, 11 + d + K);
        var r = new ModelExecutor<double>(model).Forward(prompt.Examples, prompt.Query);
        Assert.True(r.Certificate.InDomain, r.Certificate.Summary());
        double eps = r.Certificate.Layers.Max(l => l.DeclaredError);
        Assert.True(eps > 0 && eps == model.Layers.OfType<MlpLayer>().Max(l => l.DeclaredError), "the certificate reports the log layers' declared error");
        Assert.Equal(eps, r.Certificate.DeclaredError);
        Assert.Equal(S, r.Certificate.ApproximateLayers);

        var exact = ReferenceRun.Of(spec, prompt.Examples, prompt.Query);
        var f0 = Outputs(exact.Prediction, exact.Beta, exact.Mixing);
        var log = new LogApproximation(spec.MixingFloor, ConstructionSpec.LogTargetError);
        // The estimated π̂ that each E-step s ≥ 2 sees, recorded from the exact reference.
        var seen = new Dictionary<(int, int), double>();
        ReferenceRun.Of(spec, prompt.Examples, prompt.Query, (s, k, p) => { seen[(s, k)] = p; return Math.Log(p); });
        Assert.Equal((S - 1) * K, seen.Count);

        const double h = 1e-4;
        var bound = new double[f0.Length];
        var predicted = new double[f0.Length];
        foreach (var ((s0, k0), p0) in seen)
        {
            double[] Shifted(double delta)
            {
                var run = ReferenceRun.Of(spec, prompt.Examples, prompt.Query, (s, k, p) => Math.Log(p) + (s == s0 && k == k0 ? delta : 0));
                return Outputs(run.Prediction, run.Beta, run.Mixing);
            }
            var up = Shifted(h);
            var down = Shifted(-h);
            double e = log.Evaluate(p0) - Math.Log(p0);
            Assert.True(Math.Abs(e) <= eps);
            for (int o = 0; o < f0.Length; o++)
            {
                double g = (up[o] - down[o]) / (2 * h);
                bound[o] += Math.Abs(g) * eps;
                predicted[o] += g * e;
            }
        }
        var got = Outputs(r.Prediction, r.Beta, r.Mixing!);
        double scale = Math.Max(1, f0.Max(Math.Abs));
        for (int o = 0; o < f0.Length; o++)
        {
            double diff = got[o] - f0[o];
            Assert.True(Math.Abs(diff) <= 1.1 * bound[o] + 1e-12 * scale,
                $"output {o}: |transformer − exact-log EM| = {Math.Abs(diff):G4} exceeds the propagated declared error {bound[o]:G4}");
            Assert.True(Math.Abs(diff - predicted[o]) <= 0.1 * Math.Abs(predicted[o]) + 1e-12 * scale,
                $"output {o}: observed difference {diff:G6}, first-order prediction {predicted[o]:G6}");
        }
        Assert.True(bound.Max() > 0, "the approximation reaches the outputs");
    }

    [Fact]
    public void MixingWeightBelowTheFloorIsOutOfDomain()
    {
        // Component 2 starts far from every example (β⁽⁰⁾_2 = 40·e_1, σ = 0.1): its responsibilities
        // underflow, so π̂_2 ≈ 0 < p_min and the log layer is outside its declared range.
        var truth = Fixtures.Spec(2, 2, 0.1, 3);
        var prompt = PromptSampler.Sample(truth, 50, 3, 0);
        var spec = new ConstructionSpec(2, 2, 0.1, null, 2, 1, 0.5, initialBeta: new[] { truth.Beta[0], new[] { 40.0, 0 } }, estimateMixing: true);
        var model = Compiler.Compile(spec);
        foreach (var c in new[] { new ModelExecutor<double>(model).Forward(prompt.Examples, prompt.Query).Certificate,
                                  ScalarExecutor.Forward(model, prompt.Examples, prompt.Query).Certificate })
        {
            Assert.False(c.InDomain);
            Assert.True(c.MinRangeSlack < 0);
            var bad = c.Layers[c.FirstViolation];
            Assert.Equal("log", model.Layers[bad.Layer].Provenance.Operator);
            Assert.Contains("left its declared range", c.Summary());
        }
        // The float executor declares no bound (the bound is derived for double evaluation).
        var ok = Setup(3, 2, 2, 1, 60, 5);
        var f = new ModelExecutor<float>(ok.Model).Forward(ok.Prompt.Examples, ok.Prompt.Query).Certificate;
        Assert.True(double.IsPositiveInfinity(f.DeclaredError));
    }
}
