using MorIcl.Em;
using MorIcl.Mixture;

namespace MorIcl.Verification;

/// <summary>
/// Seed 000 Theorem B.3 (after Kwon et al. 2021), low SNR: with β* = 0 (η = 0) sample gradient EM —
/// here the constructed transformer — ends at ‖β̂‖ of order (d/n)^{1/4}, given enough iterations.
/// </summary>
public sealed class TheoremB3Check : ProofCheck
{
    public override string Name => "TheoremB3";
    public override string Statement => "seed 000 Theorem B.3 (low SNR, η = 0): ‖β̂ − β*‖ = O((d/n)^{1/4}) after enough iterations";
    public override string Derivation =>
        "With β* = 0 the error is ‖β̂‖, of order (d/n)^{1/4} (the likelihood is flat to fourth order at 0, so the quadratic term's O(√(d/n)) fluctuation " +
        "balances a quartic one): the log–log slope of the root-mean-square ‖β̂‖ in n must lie in [−0.35, −0.15] (docs/math.md §2). Near such a degenerate optimum " +
        "EM converges sublinearly, so 'enough iterations' is measured: for each n, gradient EM from the model's β⁽⁰⁾ runs until ‖β_{s+1} − β_s‖ ≤ 1e−5‖β_s‖ " +
        "(at most 2000 iterations) on every prompt, and S_n = the 90 % quantile of those counts; S_n and its growth in n are reported. n starts at 100: below " +
        "it the fixed point is not yet in the asymptotic regime. Cost: the constructed transformer needs O(S·N²) work per prompt (≈ 10^12 flops at n = 3200, " +
        "S ≈ 600), so it is run with S = S_n on the prompts of the smallest n values only (fast: 2 prompts at n = 100; full: 4 prompts at n ≤ 400), where " +
        "its β̂ must equal gradient EM with S_n iterations to 1e−10 and stay in its domain; the exponent is then measured on gradient EM with S_n iterations " +
        "for every prompt — the same algorithm, which Propositions E.1–E.2 show the transformer computes.";

    protected override CheckResult Execute(CheckOptions options, IProgress<double> progress)
    {
        int d = 4;
        int[] ns = options.Full ? new[] { 100, 200, 400, 800, 1600, 3200 } : new[] { 100, 200, 400, 800 };
        int reps = options.Full ? 200 : 160;
        int transformerUpTo = options.Full ? 400 : 100, transformerPrompts = options.Full ? 4 : 2;
        double sigma = 1.0, alpha = 1.0;
        var start = RegressionVectors.DrawNormalised(d, 1, Numerics.SeedSequence.Create(options.Seed, 0, 0xB3))[0];
        var truth = MixtureSpec.SymmetricTwoComponent(new double[d], 0.5, sigma);
        var rms = new List<double>(); var q95 = new List<double>(); var med = new List<double>(); var iterations = new List<double>();
        int outside = 0, transformerRuns = 0; double worst = 0;
        for (int i = 0; i < ns.Length; i++)
        {
            int n = ns[i];
            var prompts = TransformerMonteCarlo.Prompts(truth, n, reps, options, 0xB300 + n);
            var needed = new double[reps];
            Parallel.For(0, reps, Numerics.Parallelism.Options(), r =>
            {
                var b = start;
                int s = 1;
                for (; s < 2000; s++)
                {
                    var next = SymmetricGradientEm.GradientStep(prompts[r].Examples, b, SymmetricGradientEm.Weights(prompts[r].Examples, b, sigma, 0.5), alpha);
                    double change = Math.Sqrt(next.Select((v, a) => (v - b[a]) * (v - b[a])).Sum()), size = Math.Sqrt(b.Sum(v => v * v));
                    b = next;
                    if (change <= 1e-5 * size) break;
                }
                needed[r] = s;
            });
            int sN = (int)Math.Ceiling(RateFit.Quantile(needed, 0.9));
            iterations.Add(sN);
            var spec = new MorIcl.Construction.ConstructionSpec(d, 2, sigma, new[] { 0.5, 0.5 }, sN, 1, alpha, new[] { start }, maxPromptLength: n > 1023 ? 4095 : 1023, symmetric: true);
            var finals = new double[reps][];
            Parallel.For(0, reps, Numerics.Parallelism.Options(), r => finals[r] = SymmetricGradientEm.Run(prompts[r].Examples, start, sigma, 0.5, sN, 1, alpha).Betas[^1]);
            if (n <= transformerUpTo)
            {
                var subset = prompts.Take(transformerPrompts).ToArray();
                foreach (var run in TransformerMonteCarlo.Forward(options.ModelFor(spec), subset, options))
                {
                    int r = Array.IndexOf(prompts, run.Prompt);
                    transformerRuns++;
                    if (!run.Result.Certificate.InDomain) outside++;
                    worst = Math.Max(worst, Runtime.TraceDecoder.RelativeError(new[] { run.Result.Beta[0] }, new[] { finals[r] }));
                }
            }
            var norms = finals.Select(b => Math.Sqrt(b.Sum(v => v * v))).ToArray();
            rms.Add(RateFit.RootMeanSquare(norms)); q95.Add(RateFit.Quantile(norms, 0.95)); med.Add(RateFit.Median(norms));
            progress.Report((i + 1.0) / ns.Length);
        }
        var x = ns.Select(v => (double)v).ToArray();
        var fit = RateFit.LogLog(x, rms);
        var growth = RateFit.LogLog(x, iterations);
        var measurements = new List<Measurement>
        {
            new("slope of RMS ‖β̂‖ in n", fit.Slope, "∈ [−0.35, −0.15]", fit.Slope >= -0.35 && fit.Slope <= -0.15),
            new($"transformer β̂ vs gradient EM with S_n iterations ({transformerRuns} prompts)", worst, "≤ 1e−10", worst <= 1e-10 && transformerRuns > 0),
            new("slope of the median ‖β̂‖ in n", RateFit.LogLog(x, med).Slope, "reported", true),
            new("slope of the 95 % quantile of ‖β̂‖ in n", RateFit.LogLog(x, q95).Slope, "reported", true),
            new("outer iterations S_n needed at the largest n", iterations[^1], "reported", true),
            new("growth of S_n (log–log slope in n)", growth.Slope, "reported", true),
            new("transformer prompts outside the certified domain", outside, "= 0", outside == 0),
        };
        var series = new List<RateSeries>
        {
            new("Theorem B.3: low SNR (β* = 0)", "n (examples per prompt)", "RMS ‖β̂‖", x, rms.ToArray(), q95.ToArray(), fit.Slope, fit.Intercept,
                x.Select(n => rms[0] * Math.Pow(ns[0] / n, 0.25)).ToArray(), "∝ (d/n)^{1/4}"),
        };
        return Result(measurements, $"slope {fit.Slope:F3}; S_n = {string.Join(", ", iterations)} (growth exponent {growth.Slope:F2})",
            $"symmetric, β* = 0, σ = {sigma}, π = ½, d = {d}, T = 1, α = {alpha}, ‖β⁽⁰⁾‖ = 1; n ∈ {{{string.Join(", ", ns)}}}, {reps} prompts each; transformer on {transformerPrompts} prompts for n ≤ {transformerUpTo}", series);
    }
}
