using MorIcl.Construction;
using MorIcl.Construction.Model;

namespace MorIcl.Verification;

/// <summary>
/// Seed 000 Lemma 3.1: the loss minimised in each M-step is convex in its first argument and its
/// derivative is (ε-approximable by) a sum of ReLUs. Here exactly: ℓ(t, z) = ½(t − z)² has
/// ∂_t ℓ = t − z = ReLU(t − z) − ReLU(z − t) (two-component, docs/math.md §2), and the K-component weighted
/// loss ℓ(t; y, γ) = ½γ(t − y)² has ∂_t ℓ = γ(t − y) = ReLU(γ(t − y)) − ReLU(−γ(t − y)), γ ≥ 0.
/// </summary>
public sealed class Lemma3_1Check : ProofCheck
{
    public override string Name => "Lemma3_1";
    public override string Statement => "seed 000 Lemma 3.1: the M-step loss is convex in its first argument and ∂ℓ is a sum of ReLUs";
    public override string Derivation =>
        "On a grid t, z ∈ [−10, 10] (and γ ∈ [0, 1] for the weighted K-component loss) the derivative of ℓ is measured by central differences " +
        "(h = 1e−4; for a quadratic the difference is exact up to rounding ≈ 1e−16·|ℓ|/h ≈ 1e−10) and compared with the sum of two ReLUs: sup error ≤ 1e−8. " +
        "Convexity: the second central difference (Hessian in t) is ≥ −1e−6 everywhere. ReLU count: 2 per component, and the constructed " +
        "transformer's per-token gradient layers carry exactly one head per ReLU per component (2K heads; Prop. E.1).";

    private static double Relu(double v) => Math.Max(v, 0);

    protected override CheckResult Execute(CheckOptions options, IProgress<double> progress)
    {
        int steps = options.Full ? 401 : 101;
        const double h = 1e-4;
        double supTwo = 0, supWeighted = 0, minHessian = double.PositiveInfinity;
        for (int i = 0; i < steps; i++)
        {
            double t = -10 + 20.0 * i / (steps - 1);
            for (int j = 0; j < steps; j++)
            {
                double z = -10 + 20.0 * j / (steps - 1);
                double L(double tt) => 0.5 * (tt - z) * (tt - z);
                double fd = (L(t + h) - L(t - h)) / (2 * h);
                supTwo = Math.Max(supTwo, Math.Abs(fd - (Relu(t - z) - Relu(z - t))));
                minHessian = Math.Min(minHessian, (L(t + h) - 2 * L(t) + L(t - h)) / (h * h));
                for (int g = 0; g <= 10; g++)
                {
                    double gamma = g / 10.0;
                    double W(double tt) => 0.5 * gamma * (tt - z) * (tt - z);
                    double fdw = (W(t + h) - W(t - h)) / (2 * h);
                    supWeighted = Math.Max(supWeighted, Math.Abs(fdw - (Relu(gamma * (t - z)) - Relu(-gamma * (t - z)))));
                    minHessian = Math.Min(minHessian, (W(t + h) - 2 * W(t) + W(t - h)) / (h * h));
                }
            }
            progress.Report((i + 1.0) / steps * 0.8);
        }
        var measurements = new List<Measurement>
        {
            new("sup |∂ℓ − ReLU sum|, two-component squared loss", supTwo, "≤ 1e−8", supTwo <= 1e-8),
            new("sup |∂ℓ − ReLU sum|, K-component weighted loss", supWeighted, "≤ 1e−8", supWeighted <= 1e-8),
            new("min second difference (Hessian in t)", minHessian, "≥ −1e−6 (convex)", minHessian >= -1e-6),
            new("ReLUs per component in ∂ℓ", 2, "= 2 (ReLU(a) − ReLU(−a) = a)", true),
        };
        foreach (var (spec, label) in new[] { (new ConstructionSpec(3, 3, 0.5, null, 1, 1, 0.5), "K = 3"), (new ConstructionSpec(3, 2, 0.5, new[] { 0.7, 0.3 }, 1, 1, 0.5, symmetric: true), "symmetric") })
        {
            var model = options.ModelFor(spec);
            int k = spec.Symmetric ? 1 : spec.Components;
            var gd = model.Layers.OfType<AttentionLayer>().Where(l => l.Provenance.Operator == "gd_step" && l.Provenance.Decode == DecodeKind.None).ToArray();
            bool ok = gd.Length == spec.EmIterations * spec.GradientSteps && gd.All(l => l.Heads.Length == 2 * k && l.Heads.All(hd => hd.Activation == Activation.Relu));
            measurements.Add(new Measurement($"ReLU heads per component in each gd_step gradient layer ({label})", gd.Length == 0 ? 0 : gd[0].Heads.Length / (double)k,
                "= 2 (one head per ReLU, Prop. E.1)", ok));
        }
        progress.Report(1);
        return Result(measurements, $"∂ℓ equals its two-ReLU form to {Math.Max(supTwo, supWeighted):G2} (finite-difference rounding); Hessian ≥ {minHessian:G3}",
            $"grid {steps}×{steps} on [−10, 10]², γ ∈ {{0, 0.1, …, 1}}, h = 1e−4");
    }
}
