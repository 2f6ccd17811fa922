using MorIcl.Verification;

namespace MorIcl.Seed003;

/// <summary>Seed 003 Theorem 1 (linear convergence of GD on the population loss), checked as stated, with its constants.</summary>
public sealed class Seed003Theorem1Check : ProofCheck
{
    /// <summary>The run lasts until the bound ρ^t has fallen to this (so the bound says something), at most <see cref="MaxSteps"/> steps.</summary>
    public const double TargetBound = 0.01;
    public const int MaxSteps = 100000;

    /// <summary>
    /// The regime where the bound is not trivial: H = 2N heads on a well-conditioned Gram matrix (m = 15N, τ = 1), where
    /// 1 − ρ = η_wζ₀/(2K) ≈ 1e−3, so ρ^t ≤ 0.01 within a few thousand steps.
    /// </summary>
    public static Seed003Setting Informative => new(6, 6, 2, 30, 1.0, 4);
    /// <summary>README's setting (K = 12, N = 4): 1 − ρ ≈ 3e−5, the bound only falls to 0.99·Δ(0) in 400 steps.</summary>
    public static Seed003Setting Paper => new(12, 6, 4, 5, 0.1, 6);

    public override string Name => "Seed003Theorem1";
    public override string Statement => "seed 003 Theorem 1: with w(0) = 0 and the rates of eq. (16), L(θ_t) − inf L ≤ (1 − η_w ζ₀/(2K))^t (L(θ_0) − inf L) for every t";
    public override string Derivation =>
        "docs/math.md §10.10. Everything in eq. (18) is computed, not fitted: inf L in closed form (Lemma 5, A of eq. (34); the closed form is tested against Monte Carlo), " +
        "ζ₀ = min_k λ_min(B_k(0)B_k(0)ᵀ) from the initialisation (eqs. (13)–(14)), γ at equality in eq. (15), η_Q = 1/L with L the larger of two readings of " +
        "the garbled eqs. (17)/(61) (a smaller η_Q is allowed by the theorem), η_w = γ²η_Q. GD on the closed-form loss then must satisfy gap_t ≤ ρ^t Δ(0) at every " +
        "step, up to the rounding of the loss evaluation (1e−12·max(1, inf L)); since η_Q ≤ 1/L the loss is also non-increasing. So that the bound is not " +
        "trivial, the run lasts until ρ^t ≤ 0.01 (K = 6, N = 2, m = 30, τ = 1, H = 4: 1 − ρ ≈ 1.4e−3, ≈ 3 400 steps); README's setting (K = 12, N = 4, where " +
        "1 − ρ ≈ 3e−5) runs in the full version. Q does not move, and cannot: the theorem ties η_Q = η_w/γ² with γ² ∝ Δ(0)/ζ₀^{5/2} (eq. (15)) and L ≳ " +
        "√2·H‖Z̄‖⁴γ²/K, so η_Q·T ≲ 1e−4 over the whole run; the measured ‖Q(T) − Q(0)‖/‖Q(0)‖ is reported (≈ 1e−7) — with the largest rates the theorem allows, " +
        "training is GD on w. The measured per-step rate against ρ shows how loose the bound is.";

    protected override CheckResult Execute(CheckOptions options, IProgress<double> progress)
    {
        var settings = options.Full ? new[] { Informative, Paper } : new[] { Informative };
        var measurements = new List<Measurement>();
        var summaries = new List<string>();
        for (int c = 0; c < settings.Length; c++)
        {
            bool informative = settings[c] == Informative;
            var run = TheoremOneRun.Execute(settings[c], k => informative ? StepsFor(k) : 5000, options.Seed + c);
            measurements.AddRange(Assess(run, $"[{settings[c]}]", informative));
            var k = run.Constants;
            int steps = run.Gap.Length - 1;
            double measuredRate = run.Gap[steps] > 0 ? Math.Pow(run.Gap[steps] / run.Gap[0], 1.0 / steps) : 0;
            summaries.Add($"{(informative ? "informative" : "README's")} setting: ζ₀ = {k.Zeta0:G3}, ρ^T = {run.Bound[steps] / run.Bound[0]:G3} after {steps} steps, gap/Δ(0) = {run.Gap[steps] / run.Gap[0]:G3}; "
                + $"per-step decrease {1 - measuredRate:G3} vs bound's {1 - k.Rate:G3}; Q moved by {run.QMovement:G2}");
            progress.Report((c + 1.0) / settings.Length);
        }
        return Result(measurements, string.Join("; ", summaries),
            string.Join("; ", settings.Select(s => s.ToString())) + $"; GD with the theorem's rates until ρ^t ≤ {TargetBound} (at most {MaxSteps} steps; README's setting 5000); seed {options.Seed}");
    }

    /// <summary>Steps until ρ^t ≤ <see cref="TargetBound"/>, at most <see cref="MaxSteps"/>.</summary>
    public static int StepsFor(TheoremOneConstants k) =>
        k.Rate < 1 ? (int)Math.Min(MaxSteps, Math.Ceiling(Math.Log(TargetBound) / Math.Log(k.Rate))) : MaxSteps;

    /// <summary>The criteria of the check on one run (public so that a test can apply them to a run with rates the theorem does not allow).</summary>
    public static IReadOnlyList<Measurement> Assess(TheoremOneRun run, string tag, bool informative)
    {
        var k = run.Constants;
        int steps = run.Gap.Length - 1;
        double tol = 1e-12 * Math.Max(1, Math.Abs(run.Infimum));
        int violations = 0, increases = 0;
        double minSlack = double.PositiveInfinity;
        for (int t = 0; t <= steps; t++)
        {
            if (!(run.Gap[t] <= run.Bound[t] + tol)) violations++;
            if (t > 0 && !(run.Gap[t] <= run.Gap[t - 1] + tol)) increases++;
            if (run.Gap[t] > 0) minSlack = Math.Min(minSlack, run.Bound[t] / run.Gap[t]);
        }
        double measuredRate = run.Gap[steps] > 0 ? Math.Pow(run.Gap[steps] / run.Gap[0], 1.0 / steps) : 0;
        double finalBound = run.Bound[steps] / run.Bound[0];
        var m = new List<Measurement>
        {
            new($"ζ₀ (Assumption 2) {tag}", k.Zeta0, "> 0", k.Zeta0 > 0),
            new($"steps with gap > ρ^t Δ(0) of {steps + 1} {tag}", violations, "= 0", violations == 0),
            new($"steps where the loss increased {tag}", increases, "= 0 (η_Q ≤ 1/L)", increases == 0),
            new($"min over t of bound/gap {tag}", minSlack, "≥ 1", minSlack >= 1 - 1e-9),
            informative
                ? new Measurement($"ρ^T at the end of the run {tag}", finalBound, $"≤ {TargetBound} (the bound is not trivial)", finalBound <= TargetBound)
                : new Measurement($"ρ^T at the end of the run {tag}", finalBound, "reported (the bound is nearly trivial here)", true),
            new($"1 − ρ (bound's per-step decrease) {tag}", 1 - k.Rate, "reported", true),
            new($"1 − measured per-step rate {tag}", 1 - measuredRate, "reported", true),
            new($"‖Q(T) − Q(0)‖_F / ‖Q(0)‖_F {tag}", run.QMovement, $"reported (η_Q·T = {k.EtaQ * steps:G3}: Q cannot move with the theorem's rates)", true),
            new($"η_Q, η_w {tag}", k.EtaQ, $"reported (η_w = {k.EtaW:G3}, γ = {k.Gamma:G3}, L(17) = {k.Smoothness17:G3}, L(61) = {k.Smoothness61:G3})", true),
        };
        return m;
    }
}
