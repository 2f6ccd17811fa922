using MorIcl.Construction.Model;

namespace MorIcl.Verification;

/// <summary>
/// Seed 000 Theorem 2.1, prediction part (high SNR): the system's prediction at a held-out query is
/// within O(σ√(d log n / n)) of the oracle's, with high probability over the prompt and the query.
/// </summary>
public sealed class Theorem2_1Check : ProofCheck
{
    public override string Name => "Theorem2_1";
    public override string Statement => "seed 000 Theorem 2.1 (high SNR): with probability ≥ 1 − δ over the prompt, the prediction error at a held-out query is O(σ√(d log n / n)), i.e. the prompt's prediction risk E_x(ŷ − ŷ*)² = O(σ² d log n / n)";
    public override string Derivation =>
        "docs/math.md §10.3. Each prompt's query x is held out of its examples; ŷ is the system's own prediction there (read from the query token) and ŷ* the " +
        "oracle's (docs/math.md §1, (2π − 1)⟨x, β*⟩; π = 0.7 so it is not 0). The prompt's prediction risk R = E_x(ŷ(x) − ŷ*(x))² is estimated without bias from " +
        "that one query by R̂ = (ŷ − ŷ*)² − (⟨x, ĝ − g*⟩² − ‖ĝ − g*‖²), ĝ = Σ_k π_k β̂_k the claimed prediction rule (the bracket has mean 0 given the prompt since " +
        "x ~ N(0, I) is independent of it; R̂ = R exactly when ŷ = ⟨x, ĝ⟩, whatever a wrong system predicts R̂ stays unbiased). 'With probability ≥ 1 − δ' " +
        "is the 90 % quantile (δ = 0.1) over prompts of the prompt's RMS prediction error √max(R̂, 0): its log–log slope in n must lie in [s_LS, s_B] ± 3·SE " +
        "(s_B: the bound σ√(d log n/n) fitted on the grid; s_LS: the known-label least-squares rate σ√(d/(n − d − 1)), the fastest possible); in d the same " +
        "with the known-label quantile σ√(χ²_d(0.9)/(n − d − 1)) as the fast edge (a quantile of χ_d grows slower than √d: slope ≈ 0.39 from d = 2 to 16), " +
        "and in σ it must be ≥ 1 − 3·SE (the bound is ∝ σ: as σ falls the error must fall at least as fast; OLS, whose error does not vanish with σ, fails " +
        "here). SE: bootstrap over prompts; ≤ 0.03 in the " +
        "full version, ≤ 0.08 in the fast one (a quantile needs several times the prompts of a controlled mean). C = max over n of q90/bound is reported.";
    public override IReadOnlyList<string> MeantToKill => new[] { Mutants.PredictionZero, Mutants.NoLearning, Mutants.Ols, Mutants.UniformMixing };

    protected override string? NotApplicableTo(TransformerModel model) =>
        !model.Spec.Symmetric ? "Theorem 2.1 is the symmetric two-component model (Theorem4_1 covers K components)"
        : model.Spec.Mixing[0] == 0.5 ? "with π = ½ the oracle prediction (2π − 1)⟨x, β*⟩ is 0 and so is the claimed one" : null;

    protected override CheckResult Execute(CheckOptions options, IProgress<double> progress)
    {
        var sweep = HighSnrSweep.For(options, progress);
        if (sweep.NotApplicable is { } reason) return NotApplicable(reason);
        double sigma = sweep.OverN[0].Sigma;
        int d = sweep.FixedD, n0 = sweep.FixedN;
        var m = new List<Measurement>();
        const string what = "the 90 % quantile of the prompt's RMS prediction error";
        HighSnrRates.Values values = p => (p.Risks.Select(r => Math.Sqrt(Math.Max(r, 0))).ToArray(), Array.Empty<double[]>());
        double Bound(double n) => sigma * Math.Sqrt(d * Math.Log(n) / n);
        var fitN = HighSnrRates.OverN(m, sweep, what, values, HighSnrRates.Statistic.Quantile90, options.Seed + 21, n => sigma * Math.Sqrt(d / (n - d - 1)), Bound);
        var fitD = HighSnrRates.OverD(m, sweep, what, values, HighSnrRates.Statistic.Quantile90, options.Seed + 21,
            dd => Math.Sqrt(MathNet.Numerics.Distributions.ChiSquared.InvCDF(dd, 0.9) / (n0 - dd - 1.0)), dd => Math.Sqrt(dd * Math.Log(n0) / n0));
        var fitS = HighSnrRates.OverSigma(m, sweep, what, values, HighSnrRates.Statistic.Quantile90, options.Seed + 21, 1);
        m.Add(new Measurement("C = max over n of q90 / (σ√(d log n/n))", sweep.OverN.Select((p, j) => fitN.Values[j] / Bound(p.N)).Max(), "reported", true));
        m.Add(HighSnrRates.Domain(sweep));
        var xs = HighSnrRates.Xs(sweep.OverN, p => p.N);
        var series = new List<RateSeries>
        {
            new("Theorem 2.1: prediction error against n", "n (examples per prompt)", "q90 of RMS prediction error", xs,
                fitN.Values, sweep.OverN.Select(p => RateFit.Quantile(values(p).Sample, 0.95)).ToArray(), fitN.Slope, fitN.Intercept,
                xs.Select(n => fitN.Values[0] * Bound(n) / Bound(xs[0])).ToArray(), "∝ σ√(d log n/n)"),
        };
        return Result(m, $"q90 slope {fitN.Slope:F3} ± {fitN.StandardError:F3} in n{(fitD is null ? "" : $", {fitD.Slope:F3} ± {fitD.StandardError:F3} in d")}"
            + (fitS is null ? "" : $", {fitS.Slope:F3} ± {fitS.StandardError:F3} in σ"), sweep.Configuration + "; the prompts of the Theorem B.2 sweep", series);
    }
}
