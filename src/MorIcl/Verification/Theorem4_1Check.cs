using MorIcl.Baselines;
using MorIcl.Construction;
using MorIcl.Mixture;

namespace MorIcl.Verification;

/// <summary>Seed 000 Theorem 4.1: for K components in high SNR, the error is O(√(d/n)) up to logs and K-dependent factors.</summary>
public sealed class Theorem4_1Check : ProofCheck
{
    public override string Name => "Theorem4_1";
    public override string Statement => "seed 000 Theorem 4.1 (K = 3, high SNR): max_k ‖β̂_k − β_perm(k)‖ = Õ(√(d/n))";
    public override string Derivation =>
        "The order √(d log n / n) has log–log slope ≈ −0.43 in n over the range used (−½ + ½/ln n), so the median parameter error (up to label " +
        "permutation) must have slope in [−0.6, −0.4]. K = 3 unit regression vectors, σ = (min separation)/6 so η = 6 ≥ 5; known σ and uniform π; " +
        "β⁽⁰⁾ = truth + 0.1·(min separation) perturbation. Enough iterations: each component's M-step Hessian is ≈ π_k·I = I/3, so a step of size α " +
        "contracts the optimisation error by |1 − α/3|; α = 2 (stable: 2 < 2/λ_max ≈ 6/(1 + √(3d/n))²) with T = 2 inner steps and S = 6 outer iterations " +
        "gives (1/3)^12 ≈ 2e−6, far below the statistical error.";

    protected override CheckResult Execute(CheckOptions options, IProgress<double> progress)
    {
        int d = 3, k = 3;
        int[] ns = options.Full ? new[] { 100, 200, 400, 800, 1600, 3200 } : new[] { 100, 200, 400, 800 };
        int reps = options.Full ? 60 : 16;
        var betas = RegressionVectors.DrawNormalised(d, k, Numerics.SeedSequence.Create(options.Seed, 0, 0x41));
        double minSep = double.PositiveInfinity;
        for (int i = 0; i < k; i++) for (int j = i + 1; j < k; j++) minSep = Math.Min(minSep, Math.Sqrt(betas[i].Zip(betas[j], (u, v) => (u - v) * (u - v)).Sum()));
        double sigma = minSep / 6;
        var rng = Numerics.SeedSequence.Create(options.Seed, 1, 0x41);
        var init = betas.Select(b => b.Select(v => v + 0.1 * minSep / Math.Sqrt(d) * MathNet.Numerics.Distributions.Normal.Sample(rng, 0, 1)).ToArray()).ToArray();
        var truth = new MixtureSpec(betas, Enumerable.Repeat(1.0 / k, k).ToArray(), sigma);
        var medians = new List<double>(); var q95 = new List<double>(); int outside = 0;
        for (int i = 0; i < ns.Length; i++)
        {
            var spec = new ConstructionSpec(d, k, sigma, null, 6, 2, 2.0, init, maxPromptLength: ns[i] > 1023 ? 4095 : 1023);
            var runs = TransformerMonteCarlo.Forward(options.ModelFor(spec), TransformerMonteCarlo.Prompts(truth, ns[i], reps, options, 0x4100 + ns[i]), options);
            outside += runs.Count(r => !r.Result.Certificate.InDomain);
            var errors = runs.Select(r => Metrics.ParameterError(r.Result.Beta, betas)).ToArray();
            medians.Add(RateFit.Median(errors)); q95.Add(RateFit.Quantile(errors, 0.95));
            progress.Report((i + 1.0) / ns.Length);
        }
        var x = ns.Select(v => (double)v).ToArray();
        var fit = RateFit.LogLog(x, medians);
        var measurements = new List<Measurement>
        {
            new("slope of median parameter error in n (K = 3)", fit.Slope, "∈ [−0.6, −0.4]", fit.Slope >= -0.6 && fit.Slope <= -0.4),
            new("prompts outside the certified domain", outside, "= 0", outside == 0),
        };
        var series = new List<RateSeries>
        {
            new("Theorem 4.1: K = 3, error against n", "n (examples per prompt)", "max_k ‖β̂_k − β_k‖ (up to permutation)", x, medians.ToArray(), q95.ToArray(),
                fit.Slope, fit.Intercept, x.Select(n => medians[0] * Math.Sqrt(Math.Log(n) / n / (Math.Log(ns[0]) / ns[0]))).ToArray(), "∝ √(log n / n)"),
        };
        return Result(measurements, $"slope {fit.Slope:F3}",
            $"K = 3, d = {d}, σ = {sigma:G3} (η = 6), π uniform, S = 6, T = 2, α = 2; n ∈ {{{string.Join(", ", ns)}}}, {reps} prompts each", series);
    }
}
