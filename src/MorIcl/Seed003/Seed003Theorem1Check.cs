using MorIcl.Verification;

namespace MorIcl.Seed003;

/// <summary>Seed 003 Theorem 1 (linear convergence of GD on the population loss), checked as stated, with its constants.</summary>
public sealed class Seed003Theorem1Check : ProofCheck
{
    public override string Name => "Seed003Theorem1";
    public override string Statement => "seed 003 Theorem 1: with w(0) = 0 and the rates of eq. (16), L(θ_t) − inf L ≤ (1 − η_w ζ₀/(2K))^t (L(θ_0) − inf L) for every t";
    public override string Derivation =>
        "Everything in eq. (18) is computed, not fitted: inf L in closed form (Lemma 5, A of eq. (34); the closed form is tested against Monte Carlo), " +
        "ζ₀ = min_k λ_min(B_k(0)B_k(0)ᵀ) from the initialisation (eqs. (13)–(14)), γ at equality in eq. (15), η_Q = 1/L with L the larger of two readings of " +
        "the garbled eqs. (17)/(61) (a smaller η_Q is allowed by the theorem), η_w = γ²η_Q. GD on the closed-form loss then must satisfy gap_t ≤ ρ^t Δ(0) at every " +
        "step, up to the rounding of the loss evaluation (1e−12·max(1, inf L)). Also, since η_Q ≤ 1/L, the descent lemma makes the loss non-increasing. " +
        "Reported: the slack bound/gap at every step (min and final) and the measured per-step rate against ρ — how loose the bound is.";

    protected override CheckResult Execute(CheckOptions options, IProgress<double> progress)
    {
        var settings = options.Full
            ? new[] { new Seed003Setting(12, 6, 4, 5, 0.1, 6), new Seed003Setting(30, 10, 8, 6, 0.05, 12) }
            : new[] { new Seed003Setting(12, 6, 4, 5, 0.1, 6) };
        int steps = options.Full ? 5000 : 400;
        var measurements = new List<Measurement>();
        var summaries = new List<string>();
        for (int c = 0; c < settings.Length; c++)
        {
            var run = TheoremOneRun.Execute(settings[c], steps, options.Seed + c);
            var k = run.Constants;
            double tol = 1e-12 * Math.Max(1, Math.Abs(run.Infimum));
            int violations = 0, increases = 0;
            double minSlack = double.PositiveInfinity;
            for (int t = 0; t <= steps; t++)
            {
                if (run.Gap[t] > run.Bound[t] + tol) violations++;
                if (t > 0 && run.Gap[t] > run.Gap[t - 1] + tol) increases++;
                if (run.Gap[t] > 0) minSlack = Math.Min(minSlack, run.Bound[t] / run.Gap[t]);
            }
            double measuredRate = Math.Pow(run.Gap[steps] / run.Gap[0], 1.0 / steps);
            string tag = $"[{settings[c]}]";
            measurements.Add(new Measurement($"ζ₀ (Assumption 2) {tag}", k.Zeta0, "> 0", k.Zeta0 > 0));
            measurements.Add(new Measurement($"steps with gap > ρ^t Δ(0) of {steps + 1} {tag}", violations, "= 0", violations == 0));
            measurements.Add(new Measurement($"steps where the loss increased {tag}", increases, "= 0 (η_Q ≤ 1/L)", increases == 0));
            measurements.Add(new Measurement($"min over t of bound/gap {tag}", minSlack, "≥ 1", minSlack >= 1 - 1e-9));
            measurements.Add(new Measurement($"1 − ρ (bound's per-step decrease) {tag}", 1 - k.Rate, "reported", true));
            measurements.Add(new Measurement($"1 − measured per-step rate {tag}", 1 - measuredRate, "reported", true));
            measurements.Add(new Measurement($"η_Q, η_w {tag}", k.EtaQ, $"reported (η_w = {k.EtaW:G3}, γ = {k.Gamma:G3}, L(17) = {k.Smoothness17:G3}, L(61) = {k.Smoothness61:G3})", true));
            summaries.Add($"ζ₀ = {k.Zeta0:G3}, bound/gap from {minSlack:G3} to {run.Bound[steps] / run.Gap[steps]:G3}; per-step decrease {1 - measuredRate:G3} vs bound's {1 - k.Rate:G3}");
            progress.Report((c + 1.0) / settings.Length);
        }
        return Result(measurements, string.Join("; ", summaries), string.Join("; ", settings.Select(s => s.ToString())) + $"; {steps} GD steps; seed {options.Seed}");
    }
}
