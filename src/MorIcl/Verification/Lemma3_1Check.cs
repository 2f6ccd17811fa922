using MorIcl.Construction;
using MorIcl.Construction.Model;

namespace MorIcl.Verification;

/// <summary>
/// Seed 000 Lemma 3.1: the loss minimised in each M-step is convex in its first argument and its
/// derivative is (ε-approximable by) a sum of ReLUs — checked on the model's own gd_step heads: the sum
/// of their ReLU terms must be ∂_t ℓ(t, z)·x for ℓ(t, z) = ½γ(t − z)² (γ = 1 in the symmetric form,
/// docs/math.md §2) on a grid of (t, z, γ), with ∂_t ℓ measured by central differences of ℓ.
/// </summary>
public sealed class Lemma3_1Check : ProofCheck
{
    public override string Name => "Lemma3_1";
    public override string Statement => "seed 000 Lemma 3.1: the M-step loss is convex in its first argument and ∂ℓ is a sum of ReLUs (the model's gd_step heads)";
    public override string Derivation =>
        "docs/math.md §10.1. Every gd_step gradient-term layer of the model is evaluated on a synthetic example token (GradientHeads: ⟨b, x⟩ = t, target z, " +
        "responsibility γ, N = 1) for t, z ∈ [−10, 10] and γ ∈ {0, 0.1, …, 1}, component by component: the sum over its heads of ReLU(score)·(V h) must equal " +
        "∂_t ℓ(t, z)·x with ℓ = ½γ(t − z)², ∂_t ℓ by central differences (h = 1e−4; exact for a quadratic up to rounding ≈ 1e−16·|ℓ|/h ≤ 1e−10), " +
        "on every row of the token: sup error ≤ 1e−8. Convexity: the heads' ∂ℓ is non-decreasing in t (second difference of ℓ ≥ −1e−8). " +
        "Structure: 2 ReLU heads per component (one per ReLU of ∂ℓ = ReLU(t − z) − ReLU(z − t), Prop. E.1), in each of the S·T layers. " +
        "An algorithm in place of the transformer has no heads: not applicable.";
    public override IReadOnlyList<string> MeantToKill => new[] { Mutants.GdValueNudged, Mutants.GdLayerDropped, Mutants.InnerStepFewer, Mutants.EmIterationFewer };

    protected override string? NotApplicableTo(TransformerModel model) => null;

    protected override CheckResult Execute(CheckOptions options, IProgress<double> progress)
    {
        var specs = options.Target is { } target ? new[] { (target.Spec, "the model") }
            : new[] { (new ConstructionSpec(3, 3, 0.5, null, 1, 1, 0.5), "K = 3"), (new ConstructionSpec(3, 2, 0.5, new[] { 0.7, 0.3 }, 1, 1, 0.5, symmetric: true), "symmetric") };
        var measurements = new List<Measurement>();
        double worstAll = 0;
        for (int c = 0; c < specs.Length; c++)
        {
            var (spec, label) = specs[c];
            var model = options.InstanceFor(spec).Model;
            if (model is null) return NotApplicable($"{options.Subject.Name} is an algorithm without attention heads");
            int kb = spec.Symmetric ? 1 : spec.Components;
            var layers = model.Layers.OfType<AttentionLayer>().Where(MutantCatalogue.IsGradientTerms).ToArray();
            bool structure = layers.Length == spec.EmIterations * spec.GradientSteps && layers.All(l => l.Heads.Length == 2 * kb && l.Heads.All(h => h.Activation == Activation.Relu));
            measurements.Add(new Measurement($"gd_step gradient-term layers / S·T, each with 2 ReLU heads per component ({label})",
                layers.Length / (double)(spec.EmIterations * spec.GradientSteps), "= 1, 2 heads per component (one per ReLU, Prop. E.1)", structure));
            var (sup, minCurvature) = Evaluate(model, layers, kb, options.Full ? 81 : 41, spec.Symmetric);
            worstAll = Math.Max(worstAll, sup);
            measurements.Add(new Measurement($"sup |Σ heads' ReLU terms − ∂ℓ·x| over the grid, every layer and row ({label})", sup, "≤ 1e−8", sup <= 1e-8));
            measurements.Add(new Measurement($"min second difference of ℓ from the heads' ∂ℓ ({label})", minCurvature, "≥ −1e−8 (convex in t)", minCurvature >= -1e-8));
            progress.Report((c + 1.0) / specs.Length);
        }
        return Result(measurements, $"the gd_step heads' ReLU sums equal ∂ℓ·x to {worstAll:G2} (finite-difference rounding); ∂ℓ non-decreasing in t",
            $"{string.Join(", ", specs.Select(s => s.Item2))}; t, z on a {(options.Full ? 81 : 41)}² grid over [−10, 10]², γ ∈ {{0, 0.1, …, 1}}, h = 1e−4");
    }

    private static (double Sup, double MinCurvature) Evaluate(TransformerModel model, AttentionLayer[] layers, int components, int steps, bool symmetric)
    {
        const double h = 1e-4;
        int d = model.Spec.Dimension;
        var x = Enumerable.Range(0, d).Select(a => (a % 2 == 0 ? 1.0 : -1.0) * (a + 1.0) / d).ToArray();
        double xx = x.Sum(v => v * v);
        double sup = 0, minCurvature = double.PositiveInfinity;
        var gammas = symmetric ? new[] { 1.0 } : Enumerable.Range(0, 11).Select(g => g / 10.0).ToArray();
        for (int li = 0; li < layers.Length; li++)
        {
            // Every layer on a coarse grid; the first on the full one.
            int n = li == 0 ? steps : 11;
            for (int k = 0; k < components; k++)
            {
                var rows = GradientHeads.Target(model, k);
                foreach (double gamma in gammas)
                    for (int j = 0; j < n; j++)
                    {
                        double z = -10 + 20.0 * j / (n - 1);
                        double previous = double.NaN;
                        for (int i = 0; i < n; i++)
                        {
                            double t = -10 + 20.0 * i / (n - 1);
                            double Loss(double tt) => 0.5 * gamma * (tt - z) * (tt - z);
                            double derivative = (Loss(t + h) - Loss(t - h)) / (2 * h);
                            var token = GradientHeads.Token(model, k, t, z, gamma, x);
                            var output = GradientHeads.Output(layers[li], token);
                            double err = 0, heads = 0;
                            for (int r = 0; r < output.Length; r++)
                            {
                                int a = r - rows.Start;
                                double want = a >= 0 && a < rows.Width ? derivative * x[a] : 0;
                                err = Math.Max(err, Math.Abs(output[r] - want));
                                if (a >= 0 && a < rows.Width) heads += output[r] * x[a] / xx;
                            }
                            sup = Math.Max(sup, double.IsNaN(err) ? double.PositiveInfinity : err);
                            if (!double.IsNaN(previous)) minCurvature = Math.Min(minCurvature, (heads - previous) / (20.0 / (n - 1)));
                            previous = heads;
                        }
                    }
            }
        }
        return (sup, minCurvature);
    }
}
