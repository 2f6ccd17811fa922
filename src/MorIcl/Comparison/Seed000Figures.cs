using MorIcl.Mixture;
using MorIcl.Training;

namespace MorIcl.Comparison;

/// <summary>One trained point of a seed 000 figure: the setting varied, and the excess MSEs measured.</summary>
public sealed record FigurePoint(string Figure, string Series, double X, double TrainedExcessMse, double EmExcessMse, double OlsExcessMse, double FinalTrainingLoss, int Steps);

/// <summary>
/// Seed 000's Figure 1 (excess MSE against prompt length n, per K and SNR) and Figure 2(a–c) (against
/// the number of training prompts B, the hidden width D and the dimension d), at a reduced scale: one
/// model per point trained with Adam (lr 1e−3 as seed 000 §5, batch 64) on prompts with β fixed
/// (Gaussian, normalised) and evaluated on fresh prompts against the oracle, next to exact EM from a
/// random initialisation and OLS on the same prompts. The paper averages 20 repeats; here one run
/// per point, so the curves carry the noise of one seed. Seed 000 draws components per sample (the
/// default); per-prompt mode, where the Bayes predictor needs the context, is an option.
/// </summary>
public static class Seed000Figures
{
    public sealed record Scale(int Steps, int EvaluationPrompts, int[] Ns, double[] Sigmas, int[] Ks, int[] Pools, int[] Widths, int[] Dims, int Dim, int N)
    {
        /// <summary>The reduced scale documented in README (≈ 30 min on two cores).</summary>
        public static Scale Reduced => new(1500, 400, new[] { 10, 20, 40 }, new[] { 0.2, 1.0 }, new[] { 2, 3 }, new[] { 64, 256, 1024, 4096 }, new[] { 16, 32, 64 }, new[] { 2, 5, 10 }, 5, 20);
        /// <summary>A minimal scale for tests (seconds).</summary>
        public static Scale Smoke => new(5, 20, new[] { 10 }, new[] { 0.5 }, new[] { 2 }, new[] { 16 }, new[] { 16 }, new[] { 2 }, 2, 10);
    }

    /// <summary>Creates the trained model for a task (d from the task) with hidden width D and an init seed.</summary>
    public delegate ITrainableModel ModelFactory(TrainingTask task, int width, int seed);

    public static IEnumerable<string> Figures => new[] { "1", "2a", "2b", "2c" };

    public static List<FigurePoint> Run(string figure, Scale scale, ModelFactory factory, int seed, Action<string>? log = null, MixtureMode mode = MixtureMode.PerSample)
    {
        var points = new List<FigurePoint>();
        switch (figure)
        {
            case "1":
                foreach (var k in scale.Ks) foreach (var sigma in scale.Sigmas) foreach (var n in scale.Ns)
                    points.Add(Point("1", $"K = {k}, σ = {sigma}", n, new TrainingTask(scale.Dim, k, sigma, Uniform(k), mode, n, seed), 0, 64, scale, factory, seed, log));
                break;
            case "2a":
                foreach (var sigma in scale.Sigmas) foreach (var b in scale.Pools)
                    points.Add(Point("2a", $"K = 2, σ = {sigma}", b, new TrainingTask(scale.Dim, 2, sigma, Uniform(2), mode, scale.N, seed), b, 64, scale, factory, seed, log));
                break;
            case "2b":
                foreach (var sigma in scale.Sigmas) foreach (var w in scale.Widths)
                    points.Add(Point("2b", $"K = 2, σ = {sigma}", w, new TrainingTask(scale.Dim, 2, sigma, Uniform(2), mode, scale.N, seed), 0, w, scale, factory, seed, log));
                break;
            case "2c":
                foreach (var sigma in scale.Sigmas) foreach (var d in scale.Dims)
                    points.Add(Point("2c", $"K = 2, σ = {sigma}", d, new TrainingTask(d, 2, sigma, Uniform(2), mode, scale.N, seed), 0, 64, scale, factory, seed, log));
                break;
            default: throw new SpecificationException($"unknown figure '{figure}': expected one of {string.Join(", ", Figures)}");
        }
        return points;
    }

    private static double[] Uniform(int k) => Enumerable.Repeat(1.0 / k, k).ToArray();

    private static FigurePoint Point(string figure, string series, double x, TrainingTask task, int pool, int width, Scale scale, ModelFactory factory, int seed, Action<string>? log)
    {
        var model = factory(task, width, seed);
        var trainer = new Trainer(model, task, new TrainingOptions(scale.Steps, 64, 1e-3, 0, pool, seed, scale.Steps));
        trainer.Run(null);
        var truth = task.Spec();
        var set = ComparisonMeasures.Draw(truth, task.PromptLength, scale.EvaluationPrompts, 1, task.D, seed + 7919);
        var oracle = ComparisonMeasures.QueryPredictions(new OraclePromptPredictor(truth), set);
        double Excess(IPromptPredictor p) => ComparisonMeasures.ExcessMse(ComparisonMeasures.QueryPredictions(p, set), oracle, set);
        var trainedPreds = model.Predict(set.Prompts.Select(p => (p.Examples, p.Query)).ToArray());
        double trained = ComparisonMeasures.ExcessMse(trainedPreds, oracle, set);
        double em = Excess(new ExactEmPredictor(task.K, task.Sigma, task.Mode, seed));
        double ols = task.PromptLength > task.D ? Excess(new OlsPredictor()) : double.NaN;
        double last = trainer.Losses.Skip(Math.Max(0, trainer.Losses.Count - 20)).Average();
        log?.Invoke($"figure {figure}, {series}, x = {x}: trained {trained:G3}, EM {em:G3}, OLS {ols:G3} (final training loss {last:G3})");
        return new FigurePoint(figure, series, x, trained, em, ols, last, scale.Steps);
    }
}
