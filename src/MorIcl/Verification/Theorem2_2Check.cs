using MorIcl.Construction.Model;

namespace MorIcl.Verification;

/// <summary>
/// Seed 000 Theorem 2.2 (high SNR): the constructed transformer's excess risk over the oracle, in
/// expectation over prompts and queries, is O(σ² d log n / n).
/// </summary>
public sealed class Theorem2_2Check : ProofCheck
{
    public override string Name => "Theorem2_2";
    public override string Statement => "seed 000 Theorem 2.2 (high SNR): the excess risk E(ŷ − y)² − E(ŷ* − y)² = O(σ² d log n / n), in expectation over prompts and queries";
    public override string Derivation =>
        "docs/math.md §10.4. With per-sample labels ŷ* = E[y | x], so the excess risk is E(ŷ − ŷ*)² over prompts and held-out queries (the query label's noise " +
        "integrated out exactly). Its mean over prompts is estimated with the zero-mean control variate (ŷ_LS − ŷ*)² − E(ŷ_LS − ŷ*)² of the known-label " +
        "least-squares predictor at the same query (E = (2π − 1)²σ²d/(n − d − 1)). Its log–log slope in n must lie in [s_LS, s_B] ± 3·SE with s_B the slope of " +
        "σ²d log n/n on the grid and s_LS that of σ²d/(n − d − 1); in d between the bound's slope 1 and that of the sample-EM fixed point's asymptotic " +
        "error ((d − 1)a + b)/(n − d − 1) (docs/math.md §10.2; 1.040 at n = 400); in σ ≥ 2 − 3·SE (bound ∝ σ²). SE: jackknife (refitting the control " +
        "coefficient), ≤ 0.03. Reported: the same excess measured on the query labels, (ŷ − y)² − (ŷ* − y)², whose SE is far larger (the mixture's label noise).";
    public override IReadOnlyList<string> MeantToKill => new[] { Mutants.PredictionZero, Mutants.NoLearning, Mutants.Ols, Mutants.UniformMixing };

    protected override string? NotApplicableTo(TransformerModel model) =>
        !model.Spec.Symmetric ? "Theorem 2.2 is the symmetric two-component model"
        : model.Spec.Mixing[0] == 0.5 ? "with π = ½ the oracle prediction (2π − 1)⟨x, β*⟩ is 0 and so is the claimed one" : null;

    protected override CheckResult Execute(CheckOptions options, IProgress<double> progress)
    {
        var sweep = HighSnrSweep.For(options, progress);
        if (sweep.NotApplicable is { } reason) return NotApplicable(reason);
        double s2 = sweep.OverN[0].Sigma * sweep.OverN[0].Sigma;
        int d = sweep.FixedD, n0 = sweep.FixedN;
        var m = new List<Measurement>();
        const string what = "the mean excess risk";
        HighSnrRates.Values values = p => (p.PredictionSquares, new[] { p.QueryControls, p.ErrorControls, p.PredictionControls });
        var fitN = HighSnrRates.OverN(m, sweep, what, values, HighSnrRates.Statistic.Mean, options.Seed,
            n => s2 * d / (n - d - 1), n => s2 * d * Math.Log(n) / n);
        var fixedPoint = EmFixedPointCovariance.Constants(1, HighSnrSweep.Sigma, HighSnrSweep.Pi);
        var fitD = HighSnrRates.OverD(m, sweep, what, values, HighSnrRates.Statistic.Mean, options.Seed,
            dd => EmFixedPointCovariance.SquaredError(fixedPoint, n0, dd), dd => dd * Math.Log(n0) / n0);
        var fitS = HighSnrRates.OverSigma(m, sweep, what, values, HighSnrRates.Statistic.Mean, options.Seed, 2);
        var last = sweep.OverN[^1].ExcessLosses;
        double plain = last.Average(), plainSe = Math.Sqrt(last.Sum(v => (v - plain) * (v - plain)) / (last.Length - 1) / last.Length);
        m.Add(new Measurement($"mean excess loss (ŷ − y)² − (ŷ* − y)² on the query labels at n = {sweep.OverN[^1].N}", plain, $"reported (with it: {fitN.Values[^1]:G3})", true, plainSe));
        m.Add(HighSnrRates.Domain(sweep));
        var xs = HighSnrRates.Xs(sweep.OverN, p => p.N);
        var series = new List<RateSeries>
        {
            new("Theorem 2.2: excess risk against n", "n (examples per prompt)", "E(ŷ − ŷ*)²", xs, fitN.Values,
                sweep.OverN.Select(p => RateFit.Quantile(p.PredictionSquares, 0.95)).ToArray(), fitN.Slope, fitN.Intercept,
                xs.Select(n => fitN.Values[0] * (Math.Log(n) / n) / (Math.Log(xs[0]) / xs[0])).ToArray(), "∝ σ²d log n/n"),
        };
        return Result(m, $"slope {fitN.Slope:F3} ± {fitN.StandardError:F3} in n{(fitD is null ? "" : $", {fitD.Slope:F3} ± {fitD.StandardError:F3} in d")}"
            + (fitS is null ? "" : $", {fitS.Slope:F3} ± {fitS.StandardError:F3} in σ"), sweep.Configuration + "; the prompts of the Theorem B.2 sweep", series);
    }
}
