using MorIcl.Construction;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Runtime.Structured;

namespace MorIcl.Runtime.Bounds;

/// <summary>
/// Random specifications and prompts (d ≤ 20, K ≤ 5 or the symmetric form, n log-uniform up to a
/// maximum, σ ∈ {0.1, 0.3, 1}, S, T ≤ 3, both mixture modes, some with estimated π), each run in float and
/// double with the rounding analysis (docs/math.md §8.7): the observed differences against a reference
/// (the double-double executor, or for large prompts the double pass), the bounds, and the
/// non-vacuity criteria of issue 12 (float bound ≤ 10^-2·max(1, |ŷ|), double ≤ 10^-9·max(1, |ŷ|)).
/// Every draw comes from the seed, so a sweep is reproducible and a new seed gives held-out cases.
/// </summary>
public static class BoundSweep
{
    public sealed record Case(int Index, ConstructionSpec Spec, Prompt Prompt)
    {
        public override string ToString() => $"case {Index}: d={Spec.Dimension} K={Spec.Components}{(Spec.Symmetric ? " symmetric" : "")}{(Spec.EstimateMixing ? " est-π" : "")} n={Prompt.N} σ={Spec.Sigma} S={Spec.EmIterations} T={Spec.GradientSteps} α={Spec.StepSize}";
    }

    /// <summary>One case's numbers. "Exact" is double-double when <see cref="ExactReference"/>, else the double pass.</summary>
    public sealed record Row(Case Case, bool ExactReference, double Prediction,
        double FloatObserved, double FloatBound, double DoubleObserved, double DoubleBound, double FloatBetaObserved, double FloatBetaBound,
        bool FloatInDomain, bool DoubleInDomain, double Seconds)
    {
        double Scale => Math.Max(1, Math.Abs(Prediction));
        /// <summary>Every observed difference within its bound (against the double pass: |f − d| ≤ B_f + B_d).</summary>
        public bool Inside => FloatObserved <= FloatBound + (ExactReference ? 0 : DoubleBound) && FloatBetaObserved <= FloatBetaBound + (ExactReference ? 0 : DoubleBound)
            && (!ExactReference || DoubleObserved <= DoubleBound);
        public bool FloatNonVacuous => FloatBound <= 1e-2 * Scale;
        public bool DoubleNonVacuous => DoubleBound <= 1e-9 * Scale;
    }

    public static Case Draw(int seed, int index, int maxPromptLength)
    {
        var rng = SeedSequence.Create(seed, index, 0xB0B5);
        bool symmetric = rng.NextDouble() < 0.15;
        int d = 1 + rng.Next(20), k = symmetric ? 2 : 1 + rng.Next(5);
        int n = (int)Math.Round(Math.Exp(Math.Log(5) + rng.NextDouble() * (Math.Log(maxPromptLength) - Math.Log(5))));
        double sigma = new[] { 0.1, 0.3, 1.0 }[rng.Next(3)];
        var mode = rng.NextDouble() < 0.5 ? MixtureMode.PerSample : MixtureMode.PerPrompt;
        int s = 1 + rng.Next(3), t = 1 + rng.Next(3);
        double alpha = new[] { 0.3, 0.5, 0.9 }[rng.Next(3)];
        double[] mixing = symmetric ? new[] { 0.3 + 0.4 * rng.NextDouble(), 0 } : Enumerable.Range(0, k).Select(_ => 0.5 + rng.NextDouble()).ToArray();
        if (symmetric) mixing[1] = 1 - mixing[0];
        else { double sum = mixing.Sum(); mixing = mixing.Select(v => v / sum).ToArray(); }
        var betas = RegressionVectors.DrawNormalised(d, symmetric ? 1 : k, rng);
        var truth = symmetric ? MixtureSpec.SymmetricTwoComponent(betas[0], mixing[0], sigma, mode) : new MixtureSpec(betas, mixing, sigma, mode);
        var prompt = PromptSampler.Sample(truth, n, SeedSequence.Derive(seed, index, 0xB0B6), 0);
        var init = RegressionVectors.DrawNormalised(d, k, rng).Select(b => b.Select(v => 0.5 * v).ToArray()).ToArray();
        if (symmetric) init = new[] { init[0], init[0].Select(v => -v).ToArray() };
        bool estimate = !symmetric && k >= 2 && rng.NextDouble() < 0.15;
        var spec = new ConstructionSpec(d, k, sigma, mixing, s, t, alpha, init, maxPromptLength: Math.Max(1023, maxPromptLength), symmetric: symmetric, estimateMixing: estimate);
        return new Case(index, spec, prompt);
    }

    /// <summary>Runs one case: float and double passes with the analysis; double-double as "exact" when n ≤ <paramref name="exactUpTo"/>.</summary>
    public static Row Run(Case c, int exactUpTo, ExecutorKind kind = ExecutorKind.Structured)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var model = Compiler.Compile(c.Spec);
        var f = new ModelExecutor<float>(model, kind, boundRounding: true).Forward(c.Prompt.Examples, c.Prompt.Query);
        var d = new ModelExecutor<double>(model, kind, boundRounding: true).Forward(c.Prompt.Examples, c.Prompt.Query);
        bool exact = c.Prompt.N <= exactUpTo;
        double fObs, dObs, fBeta = 0;
        if (exact)
        {
            var dd = HighPrecisionExecutor.Forward(model, c.Prompt.Examples, c.Prompt.Query);
            fObs = Gap(f.Prediction, dd.Prediction); dObs = Gap(d.Prediction, dd.Prediction);
            for (int k = 0; k < dd.Beta.Length; k++)
                for (int a = 0; a < dd.Beta[k].Length; a++) fBeta = Math.Max(fBeta, Gap(f.Beta[k][a], dd.Beta[k][a]));
        }
        else
        {
            fObs = Math.Abs(f.Prediction - d.Prediction); dObs = double.NaN;
            for (int k = 0; k < d.Beta.Length; k++)
                for (int a = 0; a < d.Beta[k].Length; a++) fBeta = Math.Max(fBeta, Math.Abs(f.Beta[k][a] - d.Beta[k][a]));
        }
        return new Row(c, exact, d.Prediction, fObs, f.Certificate.PredictionErrorBound, dObs, d.Certificate.PredictionErrorBound,
            fBeta, f.Certificate.BetaErrorBound, f.Certificate.InDomain, d.Certificate.InDomain, clock.Elapsed.TotalSeconds);
    }

    private static double Gap(double a, DoubleDouble exact) => Math.Abs((a - exact.Hi) - exact.Lo);

    /// <summary>The q-quantile of the positive values (NaN when none).</summary>
    public static double Quantile(IEnumerable<double> values, double q)
    {
        var v = values.Where(x => x > 0 && !double.IsNaN(x)).OrderBy(x => x).ToArray();
        return v.Length == 0 ? double.NaN : v[(int)Math.Min(v.Length - 1, Math.Floor(q * v.Length))];
    }
}
