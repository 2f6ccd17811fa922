using System.Collections.Concurrent;
using MorIcl.Baselines;
using MorIcl.Construction;
using MorIcl.Mixture;

namespace MorIcl.Verification;

/// <summary>
/// The Monte-Carlo runs shared by Theorems B.2, 2.1 and 2.2 (docs/math.md §10): the system under test
/// (the symmetric program, η = 5, π = 0.7 so the oracle prediction is not zero) on prompts over a range
/// of n at fixed d, over a range of d at fixed n, and over a range of σ (η = 1/σ) at fixed n and d.
/// With <see cref="CheckOptions.Target"/> the model's own specification, with n swept up to its maximum
/// prompt length (d and σ are the model's). Computed once per options.
/// </summary>
internal sealed class HighSnrSweep
{
    public const double Sigma = 0.2, Pi = 0.7, Alpha = 1.0, StartDistance = 0.3;
    public const int EmIterations = 6, GradientSteps = 1;

    /// <summary>
    /// Per prompt (docs/math.md §10): the parameter error ‖β̂ − β*‖ (up to label permutation / sign); the
    /// prediction error |ŷ − ŷ*| at the prompt's held-out query; the excess loss (ŷ − y)² − (ŷ* − y)² on
    /// the query's label; and zero-mean control variates: the known-label least-squares error's
    /// deviation from its known mean (<see cref="KnownLabelLeastSquares"/>), the same at the query, and the
    /// query term ⟨x, ĝ − g*⟩² − ‖ĝ − g*‖² of the claimed prediction rule ĝ = Σ_k π_k β̂_k (zero mean given the
    /// prompt because the query is independent of it).
    /// </summary>
    public sealed record Point(int N, int D, double Sigma, double[] Errors, double[] ErrorControls, double[] PredictionErrors, double[] PredictionControls,
        double[] QueryControls, double[] ExcessLosses, int OutOfDomain)
    {
        public double[] ErrorSquares => Errors.Select(e => e * e).ToArray();
        public double[] PredictionSquares => PredictionErrors.Select(e => e * e).ToArray();
        /// <summary>
        /// The prompt's prediction risk E_x(ŷ(x) − ŷ*(x))², estimated without bias from its one held-out query:
        /// (ŷ − ŷ*)² − (⟨x, ĝ − g*⟩² − ‖ĝ − g*‖²); exact when ŷ = ⟨x, ĝ⟩ (docs/math.md §10.3).
        /// </summary>
        public double[] Risks => PredictionErrors.Select((e, i) => e * e - QueryControls[i]).ToArray();
    }

    public int FixedD { get; }
    public int FixedN { get; }
    public int Prompts { get; }
    public bool Full { get; }
    public Point[] OverN { get; }
    public Point[] OverD { get; }
    public Point[] OverSigma { get; }
    /// <summary>The data-generating mixture's configuration in words.</summary>
    public string Configuration { get; }
    /// <summary>Why the target model cannot be checked (null when it can, or without a target).</summary>
    public string? NotApplicable { get; }

    private static readonly ConcurrentDictionary<(int, bool, double, ISubject, object?, double), Lazy<HighSnrSweep>> Cache = new();

    public static HighSnrSweep For(CheckOptions o, IProgress<double> progress) =>
        Cache.GetOrAdd((o.Seed, o.Full, o.NoiseScale, o.Subject, o.Target, o.PromptScale), _ => new Lazy<HighSnrSweep>(() => new HighSnrSweep(o, progress))).Value;

    /// <summary>Grid of n for a model: powers of two times 100 (or the largest start that fits) up to its maximum prompt length.</summary>
    public static int[] TargetGrid(int maxLength, int d)
    {
        int start = Math.Max(50, 10 * d);
        var ns = new List<int>();
        for (long n = start; n <= maxLength; n *= 2) ns.Add((int)n);
        if (ns.Count > 0 && ns[^1] != maxLength && maxLength > 1.4 * ns[^1]) ns.Add(maxLength);
        return ns.ToArray();
    }

    private HighSnrSweep(CheckOptions o, IProgress<double> progress)
    {
        Full = o.Full;
        if (o.Target is { } target)
        {
            var spec = target.Spec;
            var ns = TargetGrid(spec.MaxPromptLength, spec.Dimension);
            var truth = HighSnrTruth.For(spec, o.Seed);
            Prompts = o.Prompts(o.Full ? 200 : 100);
            FixedD = spec.Dimension; FixedN = ns.Length > 0 ? ns[^1] : 0;
            Configuration = $"the model's specification (d = {spec.Dimension}, σ = {spec.Sigma}, π = {spec.Mixing[0]}, S = {spec.EmIterations}, T = {spec.GradientSteps}, α = {spec.StepSize}); "
                + $"truth ‖β*‖ = {MixtureSpec.Norm(truth.Beta[0]):G3} (η = {truth.Snr:G3}), angle to β⁽⁰⁾ from HighSnrTruth";
            OverD = OverSigma = Array.Empty<Point>();
            if (ns.Length < 3) { NotApplicable = $"the model's maximum prompt length {spec.MaxPromptLength} leaves fewer than 3 grid points n ≥ {Math.Max(50, 10 * spec.Dimension)} (doubling) for a slope"; OverN = Array.Empty<Point>(); return; }
            NotApplicable = HighSnrTruth.Hypotheses(spec, truth, ns[^1], o.Seed);
            if (NotApplicable is not null) { OverN = Array.Empty<Point>(); return; }
            var instance = o.InstanceFor(spec);
            int done = 0;
            OverN = ns.Select(n => { var p = Run(o, instance, truth, n, Prompts, n); progress.Report(++done / (double)ns.Length); return p; }).ToArray();
            return;
        }
        int[] nGrid = o.Full ? new[] { 100, 200, 400, 800, 1600, 3200, 6400, 12800 } : new[] { 100, 200, 400, 800 };
        int[] dGrid = o.Full ? new[] { 2, 4, 8, 16, 32 } : new[] { 2, 4, 8, 16 };
        double[] sGrid = { 0.05, 0.1, 0.2 };
        Prompts = o.Prompts(o.Full ? 200 : 150);
        int sigmaPrompts = o.Prompts(o.Full ? 400 : 300);
        FixedD = o.Full ? 5 : 4; FixedN = o.Full ? 1600 : 400;
        Configuration = $"symmetric, ‖β*‖ = 1, π = {Pi}, S = {EmIterations}, T = {GradientSteps}, α = {Alpha}, β⁽⁰⁾ at {StartDistance} from β*; "
            + $"n ∈ {{{string.Join(", ", nGrid)}}} at d = {FixedD}, σ = {Sigma} (η = 5); d ∈ {{{string.Join(", ", dGrid)}}} at n = {FixedN}; "
            + $"σ ∈ {{{string.Join(", ", sGrid)}}} at n = {FixedN}, d = {FixedD}; {Prompts} prompts each ({sigmaPrompts} over σ)";
        int total = nGrid.Length + dGrid.Length + sGrid.Length, count = 0;
        var points = new Dictionary<(int, int, double, int), Point>();
        Point Default(int d, int n, double sigma, int reps)
        {
            if (points.TryGetValue((d, n, sigma, reps), out var known)) return known;
            var betaStar = RegressionVectors.DrawNormalised(d, 1, Numerics.SeedSequence.Create(o.Seed, d, 0xB2))[0];
            var spec = TransformerMonteCarlo.SymmetricSpec(betaStar, Pi, sigma, EmIterations, GradientSteps, Alpha, StartDistance, o.Seed + d, TransformerMonteCarlo.MaxLengthFor(n));
            var p = Run(o, o.InstanceFor(spec), MixtureSpec.SymmetricTwoComponent(betaStar, Pi, sigma), n, reps, d * 100000 + n + (int)Math.Round(sigma * 1e4) * 7);
            progress.Report(++count / (double)total);
            return points[(d, n, sigma, reps)] = p;
        }
        OverN = nGrid.Select(n => Default(FixedD, n, Sigma, Prompts)).ToArray();
        OverD = dGrid.Select(d => Default(d, FixedN, Sigma, Prompts)).ToArray();
        OverSigma = sGrid.Select(s => Default(FixedD, FixedN, s, sigmaPrompts)).ToArray();
    }

    private static Point Run(CheckOptions o, ISubjectInstance instance, MixtureSpec truth, int n, int reps, int config)
    {
        var runs = TransformerMonteCarlo.Forward(instance, TransformerMonteCarlo.Prompts(truth, n, reps, o, config), o);
        int count = runs.Length;
        var errors = new double[count]; var errorControls = new double[count];
        var prediction = new double[count]; var predictionControls = new double[count];
        var excess = new double[count]; var queryControls = new double[count];
        var gStar = Combine(truth.Beta, truth.Mixing);
        for (int i = 0; i < count; i++)
        {
            var r = runs[i];
            double oracle = OraclePredictor.Predict(truth, r.Prompt), y = r.Prompt.QueryLabel;
            errors[i] = Metrics.ParameterError(r.Result.Beta, truth.Beta);
            prediction[i] = Math.Abs(r.Result.Prediction - oracle);
            excess[i] = (r.Result.Prediction - y) * (r.Result.Prediction - y) - (oracle - y) * (oracle - y);
            var diff = Combine(r.Result.Beta, instance.Spec.Mixing).Select((v, a) => v - gStar[a]).ToArray();
            double along = diff.Select((v, a) => v * r.Prompt.Query[a]).Sum();
            queryControls[i] = along * along - diff.Sum(v => v * v);
            if (KnownLabelLeastSquares.Fit(truth, r.Prompt) is not { } ls) continue;
            // E‖β̂_LS − β*‖² per component is known, so each control below has mean exactly zero (docs/math.md §10.2).
            double lsError = Metrics.ParameterError(ls.Beta, truth.Beta);
            errorControls[i] = truth.Symmetric ? lsError * lsError - ls.ExpectedSquaredError[0]
                : Enumerable.Range(0, truth.K).Sum(k => SquaredDistance(ls.Beta[k], truth.Beta[k]) - ls.ExpectedSquaredError[k]);
            double c = truth.Symmetric ? truth.Mixing[0] - truth.Mixing[1] : 0;
            double expectedPrediction = truth.Symmetric ? c * c * ls.ExpectedSquaredError[0]
                : Enumerable.Range(0, truth.K).Sum(k => truth.Mixing[k] * truth.Mixing[k] * ls.ExpectedSquaredError[k]);
            var gLs = truth.Symmetric ? ls.Beta[0].Select(v => c * v).ToArray() : Combine(ls.Beta, truth.Mixing);
            double predictionLs = gLs.Select((v, a) => v * r.Prompt.Query[a]).Sum();
            predictionControls[i] = (predictionLs - oracle) * (predictionLs - oracle) - expectedPrediction;
        }
        return new Point(n, truth.D, truth.Sigma, errors, errorControls, prediction, predictionControls, queryControls, excess, runs.Count(r => !r.Result.InDomain));
    }

    private static double SquaredDistance(double[] a, double[] b) => a.Select((v, i) => (v - b[i]) * (v - b[i])).Sum();

    private static double[] Combine(IReadOnlyList<double[]> beta, IReadOnlyList<double> mixing) =>
        Enumerable.Range(0, beta[0].Length).Select(a => Enumerable.Range(0, beta.Count).Sum(k => mixing[k] * beta[k][a])).ToArray();
}
