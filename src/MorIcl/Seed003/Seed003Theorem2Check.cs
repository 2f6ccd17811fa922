using MorIcl.Numerics;
using MorIcl.Verification;

namespace MorIcl.Seed003;

/// <summary>Seed 003 Theorem 2 (after training the model performs the ridge regression of eq. (20)) and Figure 3's shape.</summary>
public sealed class Seed003Theorem2Check : ProofCheck
{
    public override string Name => "Seed003Theorem2";
    public override string Statement => "seed 003 Theorem 2: after training, (1/2K)‖ŷ − ŷ*‖² ≤ ε with ŷ* the ridge solution of penalty mτ/N (eq. (20)), for in- and out-of-domain λ; the gap to the best ridge (penalty τ, eq. (25)) is smallest at N = m";
    public override string Derivation =>
        "For a prompt y, ŷ_k − ŷ*_k = ⟨y, a_k − A_{:,k}⟩ (eq. (27) identifies ŷ*_k = ⟨y, A_{:,k}⟩; tested separately against the ridge solve). Cauchy–Schwarz and " +
        "Lemma 5 give (1/2K)‖ŷ − ŷ*‖² ≤ ‖y‖² Σ_k‖a_k − A_k‖²/(2K) ≤ ‖y‖² (L(θ) − inf L)/λ_min(ZᵀZ + mτI) — the ε of the theorem in terms of the training " +
        "gap, asserted per prompt for λ ~ N(0, I) and λ ~ N(1, 4I) (Assumption 4 only bounds ‖λ‖). Precondition: training reached L − inf L ≤ 1e−4·Δ(0). " +
        "Figure 3: E(1/K)‖ŷ* − ŷ_best‖² in closed form (RidgeReference.ExpectedGap) over N; the penalties mτ and Nτ coincide at N = m, so the gap must be 0 there " +
        "(≤ 1e−20) and it must be the grid's minimum. The paper's prose ('the closer N is to m, the better') suggests monotonicity in |N − m|; that is not a statement " +
        "of a theorem and is reported, not asserted: in closed form it fails for small τ, where the gap peaks just beside N = m (ZZᵀ is nearly singular there, so the " +
        "ridge solution is most sensitive to its penalty).";

    protected override CheckResult Execute(CheckOptions options, IProgress<double> progress)
    {
        var setting = new Seed003Setting(16, 6, 5, 4, 0.1, 10);
        var task = setting.Task(options.Seed);
        var loss = new PopulationLoss(task);
        var model = SoftmaxAttentionModel.Initialise(task, setting.H, 1, options.Seed);
        int steps = options.Full ? 1500 : 400;
        var trace = Seed003Training.Adam(model, loss, 0.02, steps, 0, options.Seed);
        progress.Report(0.6);
        var a = model.EffectiveWeights();
        double delta0 = trace[0] - loss.Infimum, gap = loss.Gap(a);
        var ridge = new RidgeReference(task);
        int prompts = options.Full ? 2000 : 200;
        var rng = SeedSequence.Create(options.Seed, 0, 0x3E2);
        int violations = 0;
        double worstRatio = 0, meanIn = 0, meanOut = 0;
        foreach (var prior in new[] { TaskPrior.Gaussian, TaskPrior.OutOfDomain })
            for (int b = 0; b < prompts; b++)
            {
                var p = task.Sample(rng, prior);
                var yhat = SoftmaxAttentionModel.Predict(a, p.Labels);
                var star = ridge.TransformerTarget(p.Labels);
                double err = yhat.Zip(star, (x, y) => (x - y) * (x - y)).Sum() / (2 * task.K);
                double bound = p.Labels.Sum(v => v * v) * gap / loss.GramMinEigenvalue;
                if (err > bound * (1 + 1e-9) + 1e-15) violations++;
                worstRatio = Math.Max(worstRatio, err / bound);
                if (prior == TaskPrior.Gaussian) meanIn += err / prompts; else meanOut += err / prompts;
            }
        progress.Report(0.8);

        int m = 10;
        var ns = new[] { 4, 6, 8, 10, 12, 14, 16 };
        var gaps = ns.Select(n => new RidgeReference(RepresentationTask.Random(8, 40, n, 0.01, new GaussianTableFeatures(m, options.Seed), options.Seed)).ExpectedGap()).ToArray();
        int at = Array.IndexOf(ns, m);
        bool monotone = true;
        for (int i = 0; i + 1 <= at - 1; i++) monotone &= gaps[i] > gaps[i + 1];
        for (int i = at + 1; i + 1 < ns.Length; i++) monotone &= gaps[i + 1] > gaps[i];
        monotone &= gaps[at - 1] > gaps[at] && gaps[at + 1] > gaps[at];
        progress.Report(1);
        var measurements = new List<Measurement>
        {
            new("training gap L − inf L relative to Δ(0)", gap / delta0, "≤ 1e−4 (precondition)", gap <= 1e-4 * delta0),
            new($"prompts with (1/2K)‖ŷ − ŷ*‖² above ‖y‖²(L − inf L)/λ_min(M), of {2 * prompts}", violations, "= 0", violations == 0),
            new("largest ratio of inference error to that bound", worstRatio, "≤ 1", worstRatio <= 1 + 1e-9),
            new("mean (1/2K)‖ŷ − ŷ*‖², in-domain λ ~ N(0, I)", meanIn, "reported", true),
            new("mean (1/2K)‖ŷ − ŷ*‖², out-of-domain λ ~ N(1, 4I)", meanOut, "reported", true),
            new("Figure 3: expected gap to the best ridge at N = m = 10", gaps[at], "≤ 1e−20 (penalties coincide)", gaps[at] <= 1e-20),
            new("Figure 3: expected gap at N = m is the smallest on the grid", gaps.Min() == gaps[at] ? 1 : 0, "= 1", gaps.Min() == gaps[at]),
            new($"Figure 3: gap at N = {string.Join(", ", ns)}", gaps.Max(), $"reported: {string.Join(", ", gaps.Select(g => g.ToString("G3", System.Globalization.CultureInfo.InvariantCulture)))}; monotone in |N − m|: {(monotone ? "yes" : "no")}", true),
        };
        return Result(measurements,
            $"trained to gap {gap / delta0:G3}·Δ(0); inference error ≤ bound on every prompt (worst ratio {worstRatio:G3}); mean error {meanIn:G3} in-domain, {meanOut:G3} OOD; Figure 3 gap minimal (0) at N = m",
            $"{setting}; Adam lr 0.02 on the population loss, {steps} steps; {prompts} prompts per prior; Figure 3: K = 40, d = 8, m = 10, τ = 0.01, N = {string.Join(", ", ns)}; seed {options.Seed}");
    }
}
