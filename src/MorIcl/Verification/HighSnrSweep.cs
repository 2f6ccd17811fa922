using System.Collections.Concurrent;
using MorIcl.Baselines;
using MorIcl.Mixture;

namespace MorIcl.Verification;

/// <summary>
/// The Monte-Carlo runs shared by Theorems B.2 and 2.1: the constructed transformer (symmetric
/// program, η = 5, π = 0.7 so the oracle prediction is not zero) on prompts over a range of n at
/// fixed d, and over a range of d at fixed n. Computed once per options.
/// </summary>
internal sealed class HighSnrSweep
{
    public const double Sigma = 0.2, Pi = 0.7, Alpha = 1.0, StartDistance = 0.3;
    public const int EmIterations = 6, GradientSteps = 1;

    public sealed record Point(int N, int D, double[] Errors, double[] ExcessPrediction, double[] EmpiricalExcess, int OutOfDomain);

    public int FixedD { get; }
    public int FixedN { get; }
    public Point[] OverN { get; }
    public Point[] OverD { get; }

    private static readonly ConcurrentDictionary<(int, bool, double, object), Lazy<HighSnrSweep>> Cache = new();

    public static HighSnrSweep For(CheckOptions o, IProgress<double> progress) =>
        Cache.GetOrAdd((o.Seed, o.Full, o.NoiseScale, o.ModelFor), _ => new Lazy<HighSnrSweep>(() => new HighSnrSweep(o, progress))).Value;

    private HighSnrSweep(CheckOptions o, IProgress<double> progress)
    {
        int[] ns = o.Full ? new[] { 100, 200, 400, 800, 1600, 3200 } : new[] { 100, 200, 400, 800 };
        int[] ds = o.Full ? new[] { 2, 4, 8, 16, 32 } : new[] { 2, 4, 8, 16 };
        int reps = o.Full ? 100 : 20;
        FixedD = o.Full ? 5 : 4; FixedN = o.Full ? 1600 : 400;
        int total = ns.Length + ds.Length, done = 0;
        OverN = ns.Select(n => { var p = Run(o, FixedD, n, reps); progress.Report(++done / (double)total); return p; }).ToArray();
        OverD = ds.Select(d => { var p = Run(o, d, FixedN, reps); progress.Report(++done / (double)total); return p; }).ToArray();
    }

    private static Point Run(CheckOptions o, int d, int n, int reps)
    {
        var betaStar = RegressionVectors.DrawNormalised(d, 1, Numerics.SeedSequence.Create(o.Seed, d, 0xB2))[0];
        var spec = TransformerMonteCarlo.SymmetricSpec(betaStar, Pi, Sigma, EmIterations, GradientSteps, Alpha, StartDistance, o.Seed + d, n > 1023 ? 4095 : 1023);
        var model = o.ModelFor(spec);
        var truth = MixtureSpec.SymmetricTwoComponent(betaStar, Pi, Sigma);
        var runs = TransformerMonteCarlo.Forward(model, TransformerMonteCarlo.Prompts(truth, n, reps, o, d * 100000 + n), o);
        double c = 2 * Pi - 1;
        var errors = runs.Select(r => Metrics.ParameterErrorUpToSign(r.Result.Beta[0], betaStar)).ToArray();
        // E_x (ŷ(x) − ŷ*(x))² = (2π − 1)² ‖β̂ − β*‖² for x ~ N(0, I) (the excess squared error over the oracle, in expectation over the query).
        var excess = runs.Select(r => c * c * r.Result.Beta[0].Select((v, a) => (v - betaStar[a]) * (v - betaStar[a])).Sum()).ToArray();
        var empirical = runs.Select(r => Math.Pow(r.Result.Prediction - r.Prompt.QueryLabel, 2) - Math.Pow(OraclePredictor.Predict(truth, r.Prompt) - r.Prompt.QueryLabel, 2)).ToArray();
        return new Point(n, d, errors, excess, empirical, runs.Count(r => !r.Result.Certificate.InDomain));
    }
}
