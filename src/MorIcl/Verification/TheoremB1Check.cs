using MorIcl.Mixture;
using MorIcl.Runtime;

namespace MorIcl.Verification;

/// <summary>
/// Seed 000 Theorem B.1 (after Kwon et al. 2019, Thm. 4): in high SNR, population gradient EM contracts
/// the distance to β* geometrically per outer iteration. Checked on the constructed transformer at large
/// n (a proxy for the population), against the population operator of eq. (20)–(21) evaluated at the
/// same iterates through Lemma B.1's two-dimensional reduction (which is checked too).
/// </summary>
public sealed class TheoremB1Check : ProofCheck
{
    public override string Name => "TheoremB1";
    public override string Statement => "seed 000 Theorem B.1: population gradient EM contracts ‖β_t − β*‖ geometrically (high SNR); Lemma B.1: updates stay in span{β_t, β*}";
    public override string Derivation =>
        "The theorem's contraction is that of the population operator β ↦ (1 − α)^T β + (1 − (1 − α)^T) M(β) (eq. (20)–(21), E[xxᵀ] = I). Its factor " +
        "κ_s = ‖G(β_s) − β*‖/‖β_s − β*‖ is computed by quadrature at the transformer's own iterates β_s. At n large the sample operator deviates from the " +
        "population one by O(σ√(d/n)), so only iterations with ‖β_s − β*‖ ≥ 10σ√(d/n) are used, where that deviation is ≤ 10 % of the distance: " +
        "criterion |fitted − κ| ≤ 0.1 and fitted < 1 (geometric decrease). Lemma B.1: a d-dimensional Monte-Carlo M(β) (400 000 draws) has its component " +
        "orthogonal to span{β, β*} within 5 standard errors of 0 and its in-span part within 5 standard errors of the 2-D quadrature.";

    protected override CheckResult Execute(CheckOptions options, IProgress<double> progress)
    {
        int d = 5, n = options.Full ? 4000 : 1000, reps = options.Full ? 8 : 4, s = options.Full ? 8 : 6, t = 1;
        double sigma = 0.2, pi = 0.5, alpha = 0.5;
        var betaStar = RegressionVectors.DrawNormalised(d, 1, Numerics.SeedSequence.Create(options.Seed, 0, 0xB1))[0];
        var spec = TransformerMonteCarlo.SymmetricSpec(betaStar, pi, sigma, s, t, alpha, 0.6, options.Seed, options.Full ? 4095 : 1023);
        var model = options.ModelFor(spec);
        var truth = MixtureSpec.SymmetricTwoComponent(betaStar, pi, sigma);
        var runs = TransformerMonteCarlo.Forward(model, TransformerMonteCarlo.Prompts(truth, n, reps, options, 0xB1), options, trace: true);
        progress.Report(0.5);
        double floor = 10 * sigma * Math.Sqrt((double)d / n);
        var fittedLogs = new List<double>(); var theoryLogs = new List<double>();
        foreach (var r in runs)
        {
            var (_, inner) = TraceDecoder.Decode(model, r.Result.Trace!, n);
            var iterates = new List<double[]> { spec.InitialBeta[0] };
            for (int k = 1; k <= s; k++) iterates.Add(inner[k * t - 1].Values[0]);
            for (int k = 0; k < s; k++)
            {
                double dist = Dist(iterates[k], betaStar);
                if (dist < floor) break;
                fittedLogs.Add(Math.Log(Dist(iterates[k + 1], betaStar) / dist));
                theoryLogs.Add(Math.Log(Dist(PopulationEm.GradientEmStep(iterates[k], betaStar, sigma, pi, t, alpha), betaStar) / dist));
            }
        }
        progress.Report(0.8);
        double fitted = Math.Exp(fittedLogs.Average()), theory = Math.Exp(theoryLogs.Average());

        // Lemma B.1: the d-dimensional operator stays in span{β, β*} and equals the 2-D reduction.
        var probe = spec.InitialBeta[0];
        var (mc, se) = MonteCarloOperator(probe, betaStar, sigma, pi, 400_000, options.Seed);
        var quad = PopulationEm.Operator(probe, betaStar, sigma, pi);
        var (inSpan, orth) = Split(mc, probe, betaStar);
        double orthZ = PopulationEm.Norm(orth) / (se * Math.Sqrt(Math.Max(1, d - 2)));
        double spanZ = PopulationEm.Norm(inSpan.Select((v, a) => v - quad[a]).ToArray()) / (se * Math.Sqrt(2));
        progress.Report(1);
        var measurements = new List<Measurement>
        {
            new("fitted contraction factor per outer iteration (transformer)", fitted, $"|fitted − κ| ≤ 0.1 with κ = {theory:G3} (population operator)", Math.Abs(fitted - theory) <= 0.1),
            new("population contraction factor κ (eq. (20)–(21) by quadrature)", theory, "< 1", theory < 1),
            new("fitted factor", fitted, "< 1 (geometric decrease)", fitted < 1),
            new("Lemma B.1: orthogonal component of M(β), in standard errors", orthZ, "≤ 5", orthZ <= 5),
            new("Lemma B.1: d-dim M(β) − 2-D reduction, in standard errors", spanZ, "≤ 5", spanZ <= 5),
            new("iterations used (distance ≥ 10σ√(d/n))", fittedLogs.Count, "≥ 2", fittedLogs.Count >= 2),
            TransformerMonteCarlo.Domain(runs),
        };
        return Result(measurements, $"transformer contracts by {fitted:F3} per iteration; the population operator by {theory:F3}",
            $"symmetric, d = {d}, ‖β*‖ = 1, σ = {sigma} (η = 5), π = {pi}, n = {n}, {reps} prompts, S = {s}, T = {t}, α = {alpha}, start 0.6 from β*");
    }

    private static double Dist(double[] a, double[] b) => Math.Sqrt(a.Select((v, i) => (v - b[i]) * (v - b[i])).Sum());

    private static (double[] Mean, double StandardError) MonteCarloOperator(double[] beta, double[] betaStar, double sigma, double pi, int samples, int seed)
    {
        int d = beta.Length;
        var rng = Numerics.SeedSequence.Create(seed, 0, 0xB11);
        var sum = new double[d]; double sumSq = 0;
        var x = new double[d];
        double c = 0.5 * Math.Log(pi / (1 - pi));
        for (int i = 0; i < samples; i++)
        {
            MathNet.Numerics.Distributions.Normal.Samples(rng, x, 0, 1);
            double s = rng.NextDouble() < pi ? 1 : -1;
            double y = s * PopulationEm.Dot(x, betaStar) + sigma * MathNet.Numerics.Distributions.Normal.Sample(rng, 0, 1);
            double f = Math.Tanh(y * PopulationEm.Dot(x, beta) / (sigma * sigma) + c) * y;
            for (int a = 0; a < d; a++) { sum[a] += f * x[a]; sumSq += f * x[a] * f * x[a]; }
        }
        var mean = sum.Select(v => v / samples).ToArray();
        double perCoordVar = sumSq / samples / d - PopulationEm.Dot(mean, mean) / d;
        return (mean, Math.Sqrt(Math.Max(perCoordVar, 1e-300) / samples));
    }

    private static (double[] InSpan, double[] Orthogonal) Split(double[] v, double[] a, double[] b)
    {
        double na = PopulationEm.Norm(b);
        var e1 = b.Select(x => x / na).ToArray();
        var p = a.Select((x, i) => x - PopulationEm.Dot(a, e1) * e1[i]).ToArray();
        double np = PopulationEm.Norm(p);
        var e2 = p.Select(x => x / np).ToArray();
        var inSpan = v.Select((x, i) => PopulationEm.Dot(v, e1) * e1[i] + PopulationEm.Dot(v, e2) * e2[i]).ToArray();
        return (inSpan, v.Select((x, i) => x - inSpan[i]).ToArray());
    }
}
