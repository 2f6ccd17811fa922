using MorIcl.Baselines;
using MorIcl.Construction;
using MorIcl.Mixture;
using MorIcl.Runtime;

namespace MorIcl.Verification;

/// <summary>
/// The data a high-SNR rate check draws for a given model (<c>verify --model</c>, docs/math.md §10): the
/// model's own σ and π, per-sample labels, and regression vectors placed so that the theorems'
/// hypotheses hold for the model's β⁽⁰⁾ — η = ‖β*‖/σ ≥ 5 (symmetric) or min separation/σ ≥ 6 (K ≥ 2),
/// with β⁽⁰⁾ inside the basin. Symmetric: β* = r·unit(β⁽⁰⁾ + 0.3‖β⁽⁰⁾‖·v), v a seeded unit vector ⊥ β⁽⁰⁾,
/// r = max(‖β⁽⁰⁾‖, 5σ). K ≥ 2: β_k* = c̄ + λ(β_k⁽⁰⁾ − c̄) + 0.1·λ·sep·v_k with c̄ the centroid of β⁽⁰⁾ and
/// λ = max(1, 6σ/sep(β⁽⁰⁾)). "Enough iterations" and "inside the basin" are then tested on reference
/// gradient EM with the model's claimed specification (not on the model) on one prompt of the largest
/// n: its S-th iterate must be within 0.25·σ√(d/n) of its 3S-th, and the latter within 5σ√(d log n/n) of the truth.
/// </summary>
public static class HighSnrTruth
{
    public static MixtureSpec For(ConstructionSpec spec, int seed)
    {
        int d = spec.Dimension;
        var rng = Numerics.SeedSequence.Create(seed, 0, 0x7A47);
        if (spec.Symmetric)
        {
            var b0 = spec.InitialBeta[0];
            double norm = MixtureSpec.Norm(b0);
            var v = Orthogonal(RegressionVectors.DrawNormalised(d, 1, rng)[0], b0);
            var dir = b0.Select((x, a) => x + 0.3 * norm * v[a]).ToArray();
            if (norm == 0) dir = v;
            double r = Math.Max(norm, 5 * spec.Sigma), dn = MixtureSpec.Norm(dir);
            return MixtureSpec.SymmetricTwoComponent(dir.Select(x => r * x / dn).ToArray(), spec.Mixing[0], spec.Sigma);
        }
        int k = spec.Components;
        var centre = Enumerable.Range(0, d).Select(a => spec.InitialBeta.Average(b => b[a])).ToArray();
        double sep = k == 1 ? MixtureSpec.Norm(spec.InitialBeta[0]) : MinSeparation(spec.InitialBeta);
        double lambda = Math.Max(1, 6 * spec.Sigma / Math.Max(sep, 1e-12));
        var noise = RegressionVectors.DrawNormalised(d, k, rng);
        var beta = spec.InitialBeta.Select((b, j) => b.Select((x, a) => centre[a] + lambda * (x - centre[a]) + 0.1 * lambda * sep * noise[j][a]).ToArray()).ToArray();
        return new MixtureSpec(beta, spec.Mixing, spec.Sigma);
    }

    /// <summary>Why the model's S, T, α and β⁽⁰⁾ do not meet the theorem's hypotheses for this truth at n (null when they do).</summary>
    public static string? Hypotheses(ConstructionSpec spec, MixtureSpec truth, int n, int seed)
    {
        var prompt = PromptSampler.Sample(truth, n, seed, 0x4879);
        var longer = new ConstructionSpec(spec.Dimension, spec.Components, spec.Sigma, spec.Mixing, 3 * spec.EmIterations, spec.GradientSteps, spec.StepSize,
            spec.InitialBeta, spec.Margin, spec.MaxPromptLength, spec.Symmetric, spec.EstimateMixing, spec.MixingFloor);
        var atS = ReferenceRun.Of(spec, prompt.Examples, prompt.Query).Beta;
        var at3S = ReferenceRun.Of(longer, prompt.Examples, prompt.Query).Beta;
        double stat = spec.Sigma * Math.Sqrt(spec.Dimension / (double)n);
        double moved = Metrics.ParameterError(atS, at3S);
        if (!(moved <= 0.25 * stat))
            return $"S = {spec.EmIterations} outer iterations are not enough: reference gradient EM with this specification moves by {moved:G3} between S and 3S iterations at n = {n}, more than 0.25·σ√(d/n) = {0.25 * stat:G3}";
        double error = Metrics.ParameterError(at3S, truth.Beta);
        double bound = 5 * spec.Sigma * Math.Sqrt(spec.Dimension * Math.Log(n) / n);
        if (!(error <= bound))
            return $"β⁽⁰⁾ is outside the basin of the high-SNR truth (η = {truth.Snr:G3}): reference gradient EM ends {error:G3} from it at n = {n}, more than 5σ√(d log n/n) = {bound:G3}";
        return null;
    }

    private static double MinSeparation(double[][] beta)
    {
        double min = double.PositiveInfinity;
        for (int i = 0; i < beta.Length; i++)
            for (int j = i + 1; j < beta.Length; j++) min = Math.Min(min, Math.Sqrt(beta[i].Zip(beta[j], (u, v) => (u - v) * (u - v)).Sum()));
        return min;
    }

    private static double[] Orthogonal(double[] v, double[] to)
    {
        double nn = to.Sum(x => x * x);
        if (nn == 0) return v;
        double c = v.Zip(to, (a, b) => a * b).Sum() / nn;
        var p = v.Select((x, a) => x - c * to[a]).ToArray();
        double norm = MixtureSpec.Norm(p);
        return norm == 0 ? v : p.Select(x => x / norm).ToArray();
    }
}
