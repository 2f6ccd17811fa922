namespace MorIcl.Verification;

/// <summary>
/// Seed 000 Theorem B.2 (and the estimation part of Theorem 2.1), high SNR: sample gradient EM — here
/// the constructed transformer — reaches ‖β̂ − β*‖ = O(σ√(d log n / n)) with high probability.
/// </summary>
public sealed class TheoremB2Check : ProofCheck
{
    public override string Name => "TheoremB2";
    public override string Statement => "seed 000 Theorem B.2 / 2.1 (high SNR): ‖β̂ − β*‖ = O(σ√(d log n / n)) with probability ≥ 1 − δ";
    public override string Derivation =>
        "The bound's order σ√(d log n/n) has log–log slope −½ + ½/ln n in n (≈ −0.43 at n = 400) and ½ in d, so the fitted slope of the root-mean-square " +
        "error √E‖β̂ − β*‖² must lie in [−0.6, −0.4] over n and in [0.4, 0.6] over d. (The RMS, not the median: E‖e‖² ∝ d exactly for an error spread over " +
        "d coordinates, while the median of a χ_d variable grows faster than √d at small d — from d = 2 to 16 its slope is 0.58.) The probability statement is checked as an empirical 95 % quantile: C is fitted on half of the " +
        "n values (the largest ratio q95/(σ√(d log n/n))) and the other half must satisfy q95 ≤ 1.25·C·σ√(d log n/n) (1.25 covers the sampling error " +
        "of a 95 % quantile from 20–100 draws).";

    protected override CheckResult Execute(CheckOptions options, IProgress<double> progress)
    {
        var sweep = HighSnrSweep.For(options, progress);
        double sigma = HighSnrSweep.Sigma;
        double Bound(int n, int d) => sigma * Math.Sqrt(d * Math.Log(n) / n);
        var overN = sweep.OverN; var overD = sweep.OverD;
        var medN = overN.Select(p => RateFit.RootMeanSquare(p.Errors)).ToArray();
        var q95N = overN.Select(p => RateFit.Quantile(p.Errors, 0.95)).ToArray();
        var fitN = RateFit.LogLog(overN.Select(p => (double)p.N).ToArray(), medN);
        var medD = overD.Select(p => RateFit.RootMeanSquare(p.Errors)).ToArray();
        var fitD = RateFit.LogLog(overD.Select(p => (double)p.D).ToArray(), medD);
        var ratios = overN.Select((p, i) => q95N[i] / Bound(p.N, p.D)).ToArray();
        double c = ratios.Where((_, i) => i % 2 == 0).Max();
        double worstCheck = ratios.Where((_, i) => i % 2 == 1).Max();
        int outside = overN.Concat(overD).Sum(p => p.OutOfDomain);
        var measurements = new List<Measurement>
        {
            new("slope of RMS ‖β̂ − β*‖ in n", fitN.Slope, "∈ [−0.6, −0.4]", fitN.Slope >= -0.6 && fitN.Slope <= -0.4),
            new("slope of RMS ‖β̂ − β*‖ in d", fitD.Slope, "∈ [0.4, 0.6]", fitD.Slope >= 0.4 && fitD.Slope <= 0.6),
            new("fitted C (max q95/(σ√(d log n/n)) on even-indexed n)", c, "reported", true),
            new("held-out q95/(C·σ√(d log n/n)) (odd-indexed n)", worstCheck / c, "≤ 1.25", worstCheck <= 1.25 * c),
            new("prompts outside the certified domain", outside, "= 0", outside == 0),
        };
        var series = new List<RateSeries>
        {
            new("Theorem B.2: error against n", "n (examples per prompt)", "‖β̂ − β*‖ (up to sign)", overN.Select(p => (double)p.N).ToArray(), medN, q95N,
                fitN.Slope, fitN.Intercept, overN.Select(p => c * Bound(p.N, p.D)).ToArray(), $"C·σ√(d log n/n), C = {c:F2}"),
            new("Theorem B.2: error against d", "d (dimension)", "‖β̂ − β*‖ (up to sign)", overD.Select(p => (double)p.D).ToArray(), medD,
                overD.Select(p => RateFit.Quantile(p.Errors, 0.95)).ToArray(), fitD.Slope, fitD.Intercept, overD.Select(p => c * Bound(p.N, p.D)).ToArray(), $"C·σ√(d log n/n), C = {c:F2}"),
        };
        return Result(measurements, $"slope {fitN.Slope:F3} in n, {fitD.Slope:F3} in d; C = {c:F2}",
            $"symmetric, η = 5 (σ = {sigma}, ‖β*‖ = 1), π = {HighSnrSweep.Pi}, S = {HighSnrSweep.EmIterations}, T = 1, α = 1, start {HighSnrSweep.StartDistance} from β*; "
            + $"n ∈ {{{string.Join(", ", overN.Select(p => p.N))}}} at d = {sweep.FixedD}; d ∈ {{{string.Join(", ", overD.Select(p => p.D))}}} at n = {sweep.FixedN}; {overN[0].Errors.Length} prompts each",
            series);
    }
}
