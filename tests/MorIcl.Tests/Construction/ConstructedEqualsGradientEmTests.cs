using MorIcl.Construction;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Runtime;
using MorIcl.Runtime.Structured;
using MorIcl.Tests.Support;
using Xunit.Abstractions;

namespace MorIcl.Tests.Construction;

/// <summary>
/// Seed 000 Lemmas 3.2–3.3 / Props. E.1–E.2, executed: the constructed transformer equals reference
/// gradient EM (docs/math.md §2, known σ and π) layer by layer — after every E-step block the decoded γ_ik (or
/// w_i) equal the reference E-step on the reference state; after every gd_step layer the decoded b
/// equals the reference inner step; the final β̂ and prediction equal the reference's. Every operator
/// used is exact inside its domain, so the bound is rounding: 1e-10 relative in double, 1e-4 in float.
/// </summary>
public class ConstructedEqualsGradientEmTests(ITestOutputHelper output)
{
    private static readonly int[] Dims = { 2, 5, 10, 20 };
    private static readonly int[] Ks = { 2, 3, 5 };

    public sealed record Case(int Seed, int D, int K, bool Symmetric, int N, double Sigma, MixtureMode Mode, int S, int T, double Alpha)
    {
        public override string ToString() => $"seed {Seed}: d={D} K={K}{(Symmetric ? " symmetric" : "")} n={N} σ={Sigma} {Mode} S={S} T={T} α={Alpha}";
    }

    /// <summary>Random cases: n log-uniform in [10, 500], low (σ = 1) and high (σ = 0.1) SNR, both modes.</summary>
    public static Case Draw(int seed)
    {
        var rng = SeedSequence.Create(seed, 0, 77);
        bool symmetric = rng.NextDouble() < 0.2;
        int d = Dims[rng.Next(Dims.Length)];
        int k = symmetric ? 2 : Ks[rng.Next(Ks.Length)];
        int n = (int)Math.Round(Math.Exp(Math.Log(10) + rng.NextDouble() * (Math.Log(500) - Math.Log(10))));
        double sigma = rng.NextDouble() < 0.5 ? 0.1 : 1.0;
        var mode = rng.NextDouble() < 0.5 ? MixtureMode.PerSample : MixtureMode.PerPrompt;
        int s = 1 + rng.Next(3), t = 1 + rng.Next(3);
        double alpha = new[] { 0.3, 0.5, 0.9 }[rng.Next(3)];
        return new Case(seed, d, k, symmetric, n, sigma, mode, s, t, alpha);
    }

    public static (ConstructionSpec Spec, Prompt Prompt) Build(Case c)
    {
        var rng = SeedSequence.Create(c.Seed, 1, 78);
        double[] mixing = c.Symmetric ? new[] { 0.3 + 0.4 * rng.NextDouble(), 0 } : Enumerable.Range(0, c.K).Select(_ => 0.5 + rng.NextDouble()).ToArray();
        if (c.Symmetric) mixing[1] = 1 - mixing[0];
        else { double sum = mixing.Sum(); mixing = mixing.Select(v => v / sum).ToArray(); }
        var betas = RegressionVectors.DrawNormalised(c.D, c.Symmetric ? 1 : c.K, rng);
        var truth = c.Symmetric ? MixtureSpec.SymmetricTwoComponent(betas[0], mixing[0], c.Sigma, c.Mode) : new MixtureSpec(betas, mixing, c.Sigma, c.Mode);
        var prompt = PromptSampler.Sample(truth, c.N, c.Seed, 0);
        // β⁽⁰⁾: the truth perturbed (a warm start) or a draw of its own, half and half.
        var init = rng.NextDouble() < 0.5
            ? truth.Beta.Select(b => b.Select(v => v + 0.3 * MathNet.Numerics.Distributions.Normal.Sample(rng, 0, 1) / Math.Sqrt(c.D)).ToArray()).ToArray()
            : RegressionVectors.DrawNormalised(c.D, c.K, rng).Select(b => b.Select(v => 0.5 * v).ToArray()).ToArray();
        if (c.Symmetric) init = new[] { init[0], init[0].Select(v => -v).ToArray() };
        return (new ConstructionSpec(c.D, c.K, c.Sigma, mixing, c.S, c.T, c.Alpha, init, symmetric: c.Symmetric), prompt);
    }

    [Fact]
    public void TwoHundredRandomPromptsLayerByLayerInDoubleAndFloat()
    {
        const int cases = 200;
        double worstDouble = 0, worstFloat = 0;
        var seen = new HashSet<(int, int, bool)>();
        var failures = new List<string>();
        Parallel.For(0, cases, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, seed =>
        {
            var c = Draw(seed);
            var (spec, prompt) = Build(c);
            var model = Compiler.Compile(spec);
            var reference = ConstructionReference.Run(spec, prompt);
            // Equality with gradient EM, margins only: the rounding bounds have their own 200-case test (Bounds/).
            var r = new ModelExecutor<double>(model, boundRounding: false).Forward(prompt.Examples, prompt.Query, trace: true);
            var (estep, inner) = ConstructionReference.Decode(model, r.Trace!, prompt.N);
            double eErr = ConstructionReference.RelativeError(estep.SelectMany(x => x), reference.EStep.SelectMany(x => x));
            double iErr = ConstructionReference.RelativeError(inner.SelectMany(x => x), reference.InnerSteps.SelectMany(x => x));
            double bErr = ConstructionReference.RelativeError(r.Beta, reference.Beta);
            double pErr = Math.Abs(r.Prediction - reference.Prediction) / Math.Max(Math.Abs(reference.Prediction), 1e-3);
            var f = new ModelExecutor<float>(model, boundRounding: false).Forward(prompt.Examples, prompt.Query);
            double fErr = Math.Max(ConstructionReference.RelativeError(f.Beta, reference.Beta), Math.Abs(f.Prediction - reference.Prediction) / Math.Max(Math.Abs(reference.Prediction), 1e-3));
            lock (failures)
            {
                seen.Add((c.D, c.K, c.Symmetric));
                Assert.Equal(spec.EmIterations, estep.Count);
                Assert.Equal(spec.EmIterations * spec.GradientSteps, inner.Count);
                double err = Math.Max(Math.Max(eErr, iErr), Math.Max(bErr, pErr));
                worstDouble = Math.Max(worstDouble, err); worstFloat = Math.Max(worstFloat, fErr);
                if (!r.Certificate.InDomain || !f.Certificate.InDomain) failures.Add($"{c}: certificate {r.Certificate.Summary()} / float {f.Certificate.Summary()}");
                if (err > 1e-10) failures.Add($"{c}: double E-step {eErr:G3}, inner {iErr:G3}, β̂ {bErr:G3}, prediction {pErr:G3}");
                if (fErr > 1e-4) failures.Add($"{c}: float error {fErr:G3}");
            }
        });
        output.WriteLine($"worst relative error: double {worstDouble:G3}, float {worstFloat:G3}; {seen.Count} (d, K) combinations");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(10)));
        foreach (var d in Dims) foreach (var k in Ks) Assert.Contains((d, k, false), seen);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(23)]
    [InlineData(42)]
    [InlineData(57)]
    public void FastExecutorEqualsScalarExecutor(int seed)
    {
        var c = Draw(seed) with { N = 12 + seed % 20 };
        var (spec, prompt) = Build(c);
        var model = Compiler.Compile(spec);
        var fast = new ModelExecutor<double>(model, ExecutorKind.Dense).Forward(prompt.Examples, prompt.Query, trace: true);
        var slow = ScalarExecutor.Forward(model, prompt.Examples, prompt.Query, trace: true);
        for (int l = 0; l < fast.Trace!.Length; l++)
            Assert.True(ConstructionReference.RelativeError(new[] { fast.Trace[l] }, new[] { slow.Trace![l] }) < 1e-12, $"{c}: layer {l} differs");
        for (int l = 0; l < model.Layers.Count; l++)
        {
            var a = fast.Certificate.Layers[l]; var b = slow.Certificate.Layers[l];
            Assert.Equal(b.InDomain, a.InDomain);
            Assert.True(a.MinMargin == b.MinMargin || Math.Abs(a.MinMargin - b.MinMargin) <= 1e-9 * Math.Abs(b.MinMargin), $"layer {l}: margin {a.MinMargin} vs {b.MinMargin}");
            Assert.True(Math.Abs(a.MaxLeakage - b.MaxLeakage) <= 1e-15, $"layer {l}: leakage {a.MaxLeakage} vs {b.MaxLeakage}");
        }
    }

    [Fact]
    public void ResultsDoNotDependOnThreadCount()
    {
        var cases = Enumerable.Range(300, 6).Select(s => Build(Draw(s) with { N = 40 })).ToArray();
        foreach (var group in cases.GroupBy(c => c.Spec.Dimension * 100 + c.Spec.Components * 10 + (c.Spec.Symmetric ? 1 : 0)))
        {
            var model = Compiler.Compile(group.First().Spec);
            var prompts = group.Select(c => (c.Prompt.Examples, c.Prompt.Query)).ToArray();
            var one = new ModelExecutor<double>(model, boundRounding: true).Forward(prompts, maxDegreeOfParallelism: 1);
            var many = new ModelExecutor<double>(model, boundRounding: true).Forward(prompts, maxDegreeOfParallelism: 4);
            for (int b = 0; b < prompts.Length; b++)
                Assert.Equal(one[b].Certificate.PredictionErrorBound, many[b].Certificate.PredictionErrorBound);
            for (int i = 0; i < prompts.Length; i++) Assert.Equal(one[i].Prediction, many[i].Prediction);
        }
    }
}
