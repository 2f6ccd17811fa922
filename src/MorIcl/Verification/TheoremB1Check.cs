using MathNet.Numerics.LinearAlgebra;
using MorIcl.Construction.Model;
using MorIcl.Mixture;

namespace MorIcl.Verification;

/// <summary>
/// Seed 000 Theorem B.1 (after Kwon et al. 2019, Thm. 4): in high SNR, population gradient EM contracts
/// the distance to β* geometrically per outer iteration. Checked on the system's own iterates at large n
/// (a proxy for the population) against the population operator of eq. (20)–(21) evaluated at the same
/// iterates through Lemma B.1's two-dimensional reduction; Lemma B.1 itself at the system's iterates.
/// </summary>
public sealed class TheoremB1Check : ProofCheck
{
    public override string Name => "TheoremB1";
    public override string Statement => "seed 000 Theorem B.1: population gradient EM contracts ‖β_t − β*‖ geometrically (high SNR); Lemma B.1: updates stay in span{β_t, β*}";
    public override string Derivation =>
        "docs/math.md §10.5. The contraction is that of the population operator G(β) = (1 − α)^T β + (1 − (1 − α)^T) M(β) (eq. (20)–(21), E[xxᵀ] = I) at the claimed " +
        "σ, π, α, T. For every outer iteration s with ‖β_s − β*‖ ≥ 10σ√(d/n) (where the sample operator's deviation is ≤ 10 % of the distance), the measured " +
        "log-contraction log(‖β_{s+1} − β*‖/‖β_s − β*‖) of the system's own iterates is paired with log(‖G(β_s) − β*‖/‖β_s − β*‖) by quadrature at the same β_s. " +
        "Per prompt D_r = the mean difference; criterion |mean D| ≤ 3·SE + B, SE = sd(D)/√R over prompts and B the second-order bias of a log-norm under the " +
        "sample noise ξ_s = β_{s+1} − G(β_s), B = mean ‖ξ_s‖²/(2‖G(β_s) − β*‖²) (measured). κ < 1 and the measured factor < 1. Lemma B.1 at the system's first " +
        "iterate: a d-dimensional Monte-Carlo M(β) (Hotelling statistics with the sample covariance): its component orthogonal to span{β, β*} has " +
        "T² ≤ χ²_{d−2}(0.999) and its in-span part minus the 2-D quadrature T² ≤ χ²_2(0.999).";
    public override IReadOnlyList<string> MeantToKill => new[]
    {
        Mutants.StepSizeSmall, Mutants.StepSizeLarge, Mutants.LogitSignFlipped, Mutants.NoLearning, Mutants.Ols, Mutants.ResponsibilitiesFrozen,
    };

    protected override string? NotApplicableTo(TransformerModel model) =>
        !model.Spec.Symmetric ? "Theorem B.1's population operator is that of the symmetric two-component model"
        : model.Spec.MaxPromptLength < 400 ? $"the population proxy needs prompts of n ≥ 400; the model's maximum is {model.Spec.MaxPromptLength}" : null;

    protected override CheckResult Execute(CheckOptions options, IProgress<double> progress)
    {
        var (spec, truth, n, reps) = Configure(options);
        double sigma = spec.Sigma, pi = spec.Mixing[0], alpha = spec.StepSize;
        int d = spec.Dimension, s = spec.EmIterations, t = spec.GradientSteps;
        var betaStar = truth.Beta[0];
        var instance = options.InstanceFor(spec);
        var runs = TransformerMonteCarlo.Forward(instance, TransformerMonteCarlo.Prompts(truth, n, reps, options, 0xB1), options, trace: true);
        progress.Report(0.5);
        double floor = 10 * sigma * Math.Sqrt((double)d / n);
        var differences = new List<double>(); var biases = new List<double>();
        var measuredLogs = new List<double>(); var theoryLogs = new List<double>();
        double[]? probe = null;
        foreach (var r in runs)
        {
            var inner = r.Result.InnerSteps ?? Array.Empty<double[][]>();
            if (inner.Count < s * t) { differences.Add(double.PositiveInfinity); continue; }
            var iterates = new List<double[]> { spec.InitialBeta[0] };
            for (int k = 1; k <= s; k++) iterates.Add(inner[k * t - 1][0]);
            probe ??= iterates[1];
            double sumD = 0, sumB = 0; int used = 0;
            for (int k = 0; k < s; k++)
            {
                double dist = Dist(iterates[k], betaStar);
                if (dist < floor) break;
                var g = PopulationEm.GradientEmStep(iterates[k], betaStar, sigma, pi, t, alpha);
                double gd = Dist(g, betaStar), next = Dist(iterates[k + 1], betaStar);
                double lm = Math.Log(next / dist), lt = Math.Log(gd / dist);
                measuredLogs.Add(lm); theoryLogs.Add(lt);
                sumD += lm - lt;
                sumB += Dist(iterates[k + 1], g) * Dist(iterates[k + 1], g) / (2 * gd * gd);
                used++;
            }
            if (used > 0) { differences.Add(sumD / used); biases.Add(sumB / used); }
        }
        progress.Report(0.8);
        double meanD = differences.Count > 0 ? differences.Average() : double.NaN;
        double se = differences.Count > 1 ? Math.Sqrt(differences.Sum(v => (v - meanD) * (v - meanD)) / (differences.Count - 1) / differences.Count) : double.PositiveInfinity;
        double bias = biases.Count > 0 ? biases.Average() : 0;
        double fitted = measuredLogs.Count > 0 ? Math.Exp(measuredLogs.Average()) : double.NaN;
        double theory = theoryLogs.Count > 0 ? Math.Exp(theoryLogs.Average()) : double.NaN;
        double tolerance = SlopeWindow.Z * se + bias;

        var (orth, span) = LemmaB1(probe ?? spec.InitialBeta[0], betaStar, sigma, pi, options.Full ? 400_000 : 200_000, options.Seed);
        double orthLimit = MathNet.Numerics.Distributions.ChiSquared.InvCDF(Math.Max(1, d - 2), 0.999), spanLimit = MathNet.Numerics.Distributions.ChiSquared.InvCDF(2, 0.999);
        progress.Report(1);
        var measurements = new List<Measurement>
        {
            new("mean over prompts of log(measured / population) contraction per iteration", meanD, $"|·| ≤ 3·SE + B = {tolerance:G3} (B = {bias:G2}, the log-norm's noise bias)", Math.Abs(meanD) <= tolerance, se),
            new("measured contraction factor per outer iteration (geometric mean)", fitted, "< 1 (geometric decrease)", fitted < 1),
            new("population contraction factor κ at the same iterates (quadrature)", theory, "< 1", theory < 1),
            new("outer iterations used (distance ≥ 10σ√(d/n))", measuredLogs.Count, $"≥ {runs.Length} (one per prompt)", measuredLogs.Count >= runs.Length),
            new("Lemma B.1: Hotelling T² of M(β)'s component orthogonal to span{β, β*} (β = the system's first iterate)", orth, $"≤ χ²_{Math.Max(1, d - 2)}(0.999) = {orthLimit:G3}", orth <= orthLimit),
            new("Lemma B.1: Hotelling T² of the in-span part minus the 2-D reduction", span, $"≤ χ²_2(0.999) = {spanLimit:G3}", span <= spanLimit),
            TransformerMonteCarlo.Domain(runs),
        };
        return Result(measurements, $"the system contracts by {fitted:F3} per iteration; the population operator by {theory:F3} at the same iterates (log difference {meanD:F3} ± {se:F3})",
            $"symmetric, d = {d}, ‖β*‖ = {MixtureSpec.Norm(betaStar):G3}, σ = {sigma} (η = {truth.Snr:G3}), π = {pi}, n = {n}, {reps} prompts, S = {s}, T = {t}, α = {alpha}");
    }

    private static (MorIcl.Construction.ConstructionSpec Spec, MixtureSpec Truth, int N, int Reps) Configure(CheckOptions options)
    {
        int reps = options.Prompts(options.Full ? 16 : 8);
        if (options.Target is { } target)
        {
            var truthForModel = HighSnrTruth.For(target.Spec, options.Seed);
            return (target.Spec, truthForModel, target.Spec.MaxPromptLength, reps);
        }
        int d = 5, n = options.Full ? 4000 : 1000, s = options.Full ? 8 : 6;
        var betaStar = RegressionVectors.DrawNormalised(d, 1, Numerics.SeedSequence.Create(options.Seed, 0, 0xB1))[0];
        var spec = TransformerMonteCarlo.SymmetricSpec(betaStar, 0.5, 0.2, s, 1, 0.5, 0.6, options.Seed, TransformerMonteCarlo.MaxLengthFor(n));
        return (spec, MixtureSpec.SymmetricTwoComponent(betaStar, 0.5, 0.2), n, reps);
    }

    private static double Dist(double[] a, double[] b) => Math.Sqrt(a.Select((v, i) => (v - b[i]) * (v - b[i])).Sum());

    /// <summary>Hotelling T² = samples·mᵀC⁻¹m of M(β)'s Monte-Carlo mean projected on span{β, β*}^⊥, and of (in-span mean − quadrature) on the span.</summary>
    private static (double Orthogonal, double Span) LemmaB1(double[] beta, double[] betaStar, double sigma, double pi, int samples, int seed)
    {
        int d = beta.Length;
        var rng = Numerics.SeedSequence.Create(seed, 0, 0xB11);
        var sum = new double[d];
        var outer = new double[d, d];
        var x = new double[d];
        var f = new double[d];
        double c = 0.5 * Math.Log(pi / (1 - pi));
        for (int i = 0; i < samples; i++)
        {
            MathNet.Numerics.Distributions.Normal.Samples(rng, x, 0, 1);
            double sgn = rng.NextDouble() < pi ? 1 : -1;
            double y = sgn * PopulationEm.Dot(x, betaStar) + sigma * MathNet.Numerics.Distributions.Normal.Sample(rng, 0, 1);
            double w = Math.Tanh(y * PopulationEm.Dot(x, beta) / (sigma * sigma) + c) * y;
            for (int a = 0; a < d; a++) { f[a] = w * x[a]; sum[a] += f[a]; }
            for (int a = 0; a < d; a++) for (int b = 0; b <= a; b++) outer[a, b] += f[a] * f[b];
        }
        var mean = Vector<double>.Build.Dense(d, a => sum[a] / samples);
        var cov = Matrix<double>.Build.Dense(d, d, (a, b) => outer[Math.Max(a, b), Math.Min(a, b)] / samples - mean[a] * mean[b]);
        var basis = Basis(beta, betaStar);
        var spanBasis = basis.SubMatrix(0, d, 0, 2);
        var orthBasis = basis.SubMatrix(0, d, 2, d - 2);
        var quad = Vector<double>.Build.DenseOfArray(PopulationEm.Operator(beta, betaStar, sigma, pi));
        double T2(Matrix<double> e, Vector<double> v)
        {
            var p = e.TransposeThisAndMultiply(v);
            var cp = e.TransposeThisAndMultiply(cov) * e;
            return samples * p.DotProduct(cp.Solve(p));
        }
        return (d > 2 ? T2(orthBasis, mean) : 0, T2(spanBasis, mean - quad));
    }

    /// <summary>An orthonormal basis of R^d whose first two columns span {β*, β} (Gram–Schmidt of β*, β, e_1, …, e_d).</summary>
    private static Matrix<double> Basis(double[] beta, double[] betaStar)
    {
        int d = beta.Length;
        var columns = new List<Vector<double>>();
        var candidates = new[] { betaStar, beta }.Concat(Enumerable.Range(0, d).Select(i => Enumerable.Range(0, d).Select(a => a == i ? 1.0 : 0.0).ToArray()));
        foreach (var c in candidates)
        {
            var v = Vector<double>.Build.DenseOfArray(c);
            foreach (var q in columns) v -= q.DotProduct(v) * q;
            foreach (var q in columns) v -= q.DotProduct(v) * q;
            double norm = v.L2Norm();
            if (norm > 1e-8 * Math.Max(1, Vector<double>.Build.DenseOfArray(c).L2Norm()) && columns.Count < d) columns.Add(v / norm);
        }
        return Matrix<double>.Build.DenseOfColumnVectors(columns);
    }
}
