using System.Diagnostics;
using System.Globalization;
using MorIcl.Baselines;
using MorIcl.Mixture;
using MorIcl.Training;

namespace MorIcl.Comparison;

/// <summary>
/// Seed 000's Figure 1 (excess MSE against prompt length n, per K and SNR) and Figure 2(a–c) (against
/// the number of training prompts B, the hidden width D and the dimension d), with R repeats per point
/// (seed 000 averages 20). A figure is a list of <see cref="Seed000Job"/>s — one per (point, repeat),
/// in a fixed order — so a sweep can be cut into shards (job j belongs to shard j mod m) and merged.
/// Each job trains one model with Adam (lr 1e−3 as seed 000 §5) and evaluates it on fresh prompts
/// against the oracle, next to exact EM from a random start (the same start for every prompt and point
/// of a repeat), exact EM from the true parameters (a good start), and least squares, on the same
/// prompts. Repeat r uses seed s + r for β, the model's initialisation, the batches, the evaluation
/// prompts and EM's random start. Settings (<see cref="Seed000Setting"/>) change the prompt
/// distribution; the figure's grid is the same in each, except the n &lt; d regime.
/// </summary>
public static class Seed000Figures
{
    public sealed record Scale(int Steps, int Batch, int EvaluationPrompts, int Repeats, int[] Ns, double[] Sigmas, int[] Ks, int[] Pools, int[] Widths, int[] Dims, int Dim, int N,
        int[] SmallNs, int SmallDim, int SmallN, int[] SmallDims)
    {
        /// <summary>The default scale: seed 000's 20 repeats; 1 500 steps of batch 64 per model (seed 000 trains longer).</summary>
        public static Scale Default => new(1500, 64, 400, 20, new[] { 10, 20, 40 }, new[] { 0.2, 1.0 }, new[] { 2, 3 }, new[] { 64, 256, 1024, 4096 }, new[] { 16, 32, 64 }, new[] { 2, 5, 10 }, 5, 20,
            new[] { 3, 5, 8 }, 10, 5, new[] { 8, 16, 32 });
        /// <summary>A minimal scale for tests (seconds).</summary>
        public static Scale Smoke => new(5, 16, 20, 2, new[] { 10 }, new[] { 0.5 }, new[] { 2 }, new[] { 16 }, new[] { 16 }, new[] { 2 }, 2, 10,
            new[] { 3 }, 5, 3, new[] { 5 });
    }

    /// <summary>Creates the trained model for a task (d from the task) with hidden width D and an init seed.</summary>
    public delegate ITrainableModel ModelFactory(TrainingTask task, int width, int seed);

    public static IEnumerable<string> Figures => new[] { "1", "2a", "2b", "2c" };

    /// <summary>Every job of a figure in a setting, in the order shards and merges rely on (points outer, repeats inner).</summary>
    public static IReadOnlyList<Seed000Job> Jobs(string figure, Seed000Setting setting, Scale scale, int seed)
    {
        if (scale.Repeats < 1) throw new SpecificationException($"--repeats must be at least 1, got {scale.Repeats}");
        bool small = setting == Seed000Setting.SmallN;
        int dim = small ? scale.SmallDim : scale.Dim, n0 = small ? scale.SmallN : scale.N;
        var points = new List<(string Series, double X, Func<int, TrainingTask> Task, int Pool, int Width)>();
        switch (figure)
        {
            case "1":
                foreach (var k in scale.Ks) foreach (var sigma in scale.Sigmas) foreach (var n in small ? scale.SmallNs : scale.Ns)
                    points.Add(($"K = {k}, σ = {F(sigma)}", n, s => Task(setting, dim, k, sigma, n, s), 0, 64));
                break;
            case "2a":
                foreach (var sigma in scale.Sigmas) foreach (var b in scale.Pools)
                    points.Add(($"K = 2, σ = {F(sigma)}", b, s => Task(setting, dim, 2, sigma, n0, s), b, 64));
                break;
            case "2b":
                foreach (var sigma in scale.Sigmas) foreach (var w in scale.Widths)
                    points.Add(($"K = 2, σ = {F(sigma)}", w, s => Task(setting, dim, 2, sigma, n0, s), 0, w));
                break;
            case "2c":
                foreach (var sigma in scale.Sigmas) foreach (var d in small ? scale.SmallDims : scale.Dims)
                    points.Add(($"K = 2, σ = {F(sigma)}", d, s => Task(setting, d, 2, sigma, n0, s), 0, 64));
                break;
            default: throw new SpecificationException($"unknown figure '{figure}': expected one of {string.Join(", ", Figures)}");
        }
        var jobs = new List<Seed000Job>();
        foreach (var p in points)
            for (int r = 0; r < scale.Repeats; r++)
                jobs.Add(new Seed000Job(jobs.Count, p.Series, p.X, r, seed + r, p.Task(seed + r), p.Pool, p.Width));
        return jobs;
    }

    /// <summary>The prompt distribution of one point in a setting (β seed = the repeat's seed).</summary>
    public static TrainingTask Task(Seed000Setting setting, int d, int k, double sigma, int n, int seed) =>
        new(d, k, sigma, setting == Seed000Setting.UnequalMixing ? Seed000Settings.UnequalMixing(k) : Uniform(k),
            setting == Seed000Setting.PerPrompt ? MixtureMode.PerPrompt : MixtureMode.PerSample, n, seed) { BetaPerPrompt = setting == Seed000Setting.BetaPerPrompt };

    /// <summary>Trains and evaluates one job.</summary>
    public static Seed000Result Run(Seed000Job job, Scale scale, ModelFactory factory)
    {
        var clock = Stopwatch.StartNew();
        var task = job.Task;
        var model = factory(task, job.Width, job.Seed);
        var trainer = new Trainer(model, task, new TrainingOptions(scale.Steps, scale.Batch, 1e-3, 0, job.Pool, job.Seed, scale.Steps));
        trainer.Run(null);
        var truth = task.Spec();
        var prompts = PromptSampler.SampleBatch(truth, task.PromptLength, scale.EvaluationPrompts, job.Seed + 7919);
        var labels = prompts.Select(p => p.QueryLabel).ToArray();
        var oracle = prompts.Select(p => OraclePredictor.Predict(truth, p)).ToArray();
        double Excess(double[] predictions) => Metrics.ExcessMse(predictions, oracle, labels);
        double[] Each(Func<Prompt, double> f) { var r = new double[prompts.Length]; Parallel.For(0, prompts.Length, Numerics.Parallelism.Options(), i => r[i] = f(prompts[i])); return r; }

        double trained = Excess(model.Predict(prompts.Select(p => (p.Examples, p.Query)).ToArray()));
        var start = ExactEmPredictor.RandomStart(task.K, task.D, task.Sigma, job.Seed);
        double emRandom = Excess(Each(p => ExactEmPredictor.FromStart(p.Examples, p.Query, start, task.Sigma, task.Mode)));
        double emGood = Excess(Each(p => ExactEmPredictor.FromStart(p.Examples, p.Query, OraclePredictor.Truth(truth, p), task.Sigma, task.Mode)));
        var ls = new MinimumNormPredictor();
        double ols = Excess(Each(p => ls.Predict(p.Examples, p.Query)));
        double last = trainer.Losses.Skip(Math.Max(0, trainer.Losses.Count - 20)).Average();
        return new Seed000Result(job.Index, job.Series, job.X, job.Repeat, job.Seed, trained, emRandom, emGood, ols, last, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Per point (series, x in job order): the mean over repeats and its bootstrap interval, for every measure.</summary>
    public static List<Seed000Point> Summarise(IReadOnlyList<Seed000Result> results) =>
        results.GroupBy(r => (r.Series, r.X)).Select(g =>
        {
            var rs = g.OrderBy(r => r.Repeat).ToArray();
            MeanInterval Of(Func<Seed000Result, double> f) => BootstrapInterval.Of(rs.Select(f).ToArray());
            return new Seed000Point(g.Key.Series, g.Key.X, rs.Length, Of(r => r.Trained), Of(r => r.EmRandom), Of(r => r.EmGood), Of(r => r.Ols), Of(r => r.FinalTrainingLoss), rs.Sum(r => r.Seconds));
        }).ToList();

    private static double[] Uniform(int k) => Enumerable.Repeat(1.0 / k, k).ToArray();
    private static string F(double v) => v.ToString(CultureInfo.InvariantCulture);
}

/// <summary>One (point, repeat) of a figure: the series and x it belongs to, the repeat's seed, the task, pool size (0 = fresh prompts) and width.</summary>
public sealed record Seed000Job(int Index, string Series, double X, int Repeat, int Seed, TrainingTask Task, int Pool, int Width);

/// <summary>What one job measured (excess MSEs against the oracle on the same evaluation prompts) and how long it took.</summary>
public sealed record Seed000Result(int Job, string Series, double X, int Repeat, int Seed, double Trained, double EmRandom, double EmGood, double Ols, double FinalTrainingLoss, double Seconds);

/// <summary>One point of a figure over its repeats.</summary>
public sealed record Seed000Point(string Series, double X, int Repeats, MeanInterval Trained, MeanInterval EmRandom, MeanInterval EmGood, MeanInterval Ols, MeanInterval FinalTrainingLoss, double Seconds);
