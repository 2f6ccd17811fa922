using MorIcl.Construction.Model;

namespace MorIcl.Verification;

/// <summary>
/// Seed 000 Theorem B.2 (and the estimation part of Theorem 2.1), high SNR: sample gradient EM — here
/// the system under test — reaches ‖β̂ − β*‖ = O(σ√(d log n / n)) with high probability.
/// </summary>
public sealed class TheoremB2Check : ProofCheck
{
    public override string Name => "TheoremB2";
    public override string Statement => "seed 000 Theorem B.2 / 2.1 (high SNR): ‖β̂ − β*‖ = O(σ√(d log n / n)) with probability ≥ 1 − δ";
    public override string Derivation =>
        "docs/math.md §10.2. The root-mean-square error's log–log slope in n must lie in [s_LS, s_B] ± 3·SE, where s_B is the least-squares slope of the bound " +
        "σ√(d log n/n) on the grid itself (logs included) and s_LS that of the known-label least-squares error σ√(d/(n − d − 1)), the fastest any estimator of β* " +
        "can fall (no allowance is added to either edge); in d at fixed n between the bound's slope ½ and that of the sample-EM fixed point's asymptotic error " +
        "√(((d − 1)a + b)/(n − d − 1)), a and b its per-direction variances across and along β* (E-step sensitivity and misclassification noise, by quadrature; " +
        "it grows faster in d than the known-label √(d/(n − d − 1)), slope 0.520 against 0.509 at n = 400). SE is the slope's jackknife standard error over the prompts and must be ≤ 0.03. " +
        "With probability ≥ 1 − δ (δ = 0.1): the 90 % quantile's slope in n may not exceed s_B + 3·SE (bootstrap SE), i.e. one constant C serves every n; " +
        "an estimator that does not converge has slope ≈ 0 and fails. Every prompt must stay in the certified domain.";
    public override IReadOnlyList<string> MeantToKill => new[] { Mutants.NoLearning, Mutants.Ols, Mutants.ResponsibilitiesFrozen };

    protected override string? NotApplicableTo(TransformerModel model) =>
        model.Spec.Symmetric ? null : "Theorem B.2 is the symmetric two-component model (Theorem4_1 covers K components)";

    protected override CheckResult Execute(CheckOptions options, IProgress<double> progress)
    {
        var sweep = HighSnrSweep.For(options, progress);
        if (sweep.NotApplicable is { } reason) return NotApplicable(reason);
        double sigma = sweep.OverN[0].Sigma;
        int d = sweep.FixedD, n0 = sweep.FixedN;
        var m = new List<Measurement>();
        var fitN = HighSnrRates.OverN(m, sweep, "RMS ‖β̂ − β*‖", p => (p.ErrorSquares, new[] { p.ErrorControls }), HighSnrRates.Statistic.RootMeanSquare, options.Seed,
            n => sigma * Math.Sqrt(d / (n - d - 1)), n => sigma * Math.Sqrt(d * Math.Log(n) / n));
        var fixedPoint = EmFixedPointCovariance.Constants(1, HighSnrSweep.Sigma, HighSnrSweep.Pi);
        var fitD = HighSnrRates.OverD(m, sweep, "RMS ‖β̂ − β*‖", p => (p.ErrorSquares, new[] { p.ErrorControls }), HighSnrRates.Statistic.RootMeanSquare, options.Seed,
            dd => Math.Sqrt(EmFixedPointCovariance.SquaredError(fixedPoint, n0, dd)), dd => Math.Sqrt(dd * Math.Log(n0) / n0));
        double Bound(double n) => sigma * Math.Sqrt(d * Math.Log(n) / n);
        var q = HighSnrRates.Uniformity(m, sweep, "‖β̂ − β*‖", p => (p.Errors, new[] { p.ErrorControls }), options.Seed, Bound);
        m.Add(HighSnrRates.Domain(sweep));
        double c = m.First(x => x.Name.StartsWith("C = ")).Value;
        var xs = HighSnrRates.Xs(sweep.OverN, p => p.N);
        var series = new List<RateSeries>
        {
            new("Theorem B.2: error against n", "n (examples per prompt)", "‖β̂ − β*‖ (up to sign)", xs, fitN.Values, sweep.OverN.Select(p => RateFit.Quantile(p.Errors, 0.95)).ToArray(),
                fitN.Slope, fitN.Intercept, xs.Select(n => c * Bound(n)).ToArray(), $"C·σ√(d log n/n), C = {c:F2}"),
        };
        if (fitD is not null)
        {
            var xd = HighSnrRates.Xs(sweep.OverD, p => p.D);
            series.Add(new("Theorem B.2: error against d", "d (dimension)", "‖β̂ − β*‖ (up to sign)", xd, fitD.Values,
                sweep.OverD.Select(p => RateFit.Quantile(p.Errors, 0.95)).ToArray(), fitD.Slope, fitD.Intercept,
                xd.Select(dd => c * sigma * Math.Sqrt(dd * Math.Log(n0) / n0)).ToArray(), $"C·σ√(d log n/n), C = {c:F2}"));
        }
        return Result(m, $"slope {fitN.Slope:F3} ± {fitN.StandardError:F3} in n{(fitD is null ? "" : $", {fitD.Slope:F3} ± {fitD.StandardError:F3} in d")}; C = {c:F2}",
            sweep.Configuration, series);
    }
}
