using MorIcl.IO;
using MorIcl.Mixture;
using MorIcl.Numerics;

namespace MorIcl.Training;

/// <summary>Progress of a run, reported after every step.</summary>
public sealed record TrainingProgress(long Step, long TotalSteps, double Loss, double StepsPerSecond);

/// <summary>
/// Trains a model on MoR prompts with Adam/AdamW. Step t's batch is drawn from (seed, t) — fresh
/// prompts, or indices into a fixed pool of B prompts drawn from (seed, pool) — so a run resumed from
/// a checkpoint continues exactly as the uninterrupted run would. With a folder, the run writes
/// <c>checkpoint.bin</c> (atomically) every <see cref="TrainingOptions.CheckpointEvery"/> steps and at
/// the end, and <c>loss.csv</c> beside it. A diverging run (<see cref="Divergence"/>: a non-finite loss
/// or gradient, or a loss far above its start) stops with a <see cref="DivergenceException"/>; the last
/// good checkpoint is kept. A cancelled run (Ctrl-C) saves a checkpoint of the steps done and returns.
/// </summary>
public sealed class Trainer
{
    public const string CheckpointFile = "checkpoint.bin";
    public const string LossFile = "loss.csv";

    private readonly ITrainableModel _model;
    private readonly TrainingTask _task;
    private readonly TrainingOptions _options;
    private readonly MixtureSpec _spec;
    private readonly Prompt[]? _pool;
    private readonly Adam _adam;
    private readonly double _labelSecondMoment;
    private readonly List<double> _losses = new();
    public long Step { get; private set; }
    public IReadOnlyList<double> Losses => _losses;
    public ITrainableModel Model => _model;

    public Trainer(ITrainableModel model, TrainingTask task, TrainingOptions options)
    {
        task.Validate(); options.Validate();
        _model = model; _task = task; _options = options;
        _spec = task.Spec();
        _labelSecondMoment = Divergence.LabelSecondMoment(_spec);
        _adam = new Adam(model.Parameters.Length, options.LearningRate, weightDecay: options.WeightDecay);
        if (options.Pool > 0)
            _pool = Enumerable.Range(0, options.Pool).Select(i => PromptSampler.Sample(_spec, task.PromptLength, SeedSequence.Derive(options.Seed, i, 0x9001), 0)).ToArray();
    }

    /// <summary>Continues from a checkpoint (its descriptor must be this model's).</summary>
    public void Restore(Checkpoint c, string source)
    {
        LoadParameters(_model, c, source);
        _adam.Restore(c.FirstMoment, c.SecondMoment, c.OptimiserStep);
        _losses.Clear(); _losses.AddRange(c.Losses);
        Step = c.Step;
        SavedStep = c.Step;
    }

    /// <summary>Copies a checkpoint's parameters into a model after checking that it is this model's configuration (for evaluation; no optimiser state).</summary>
    public static void LoadParameters(ITrainableModel model, Checkpoint c, string source)
    {
        var mine = DescriptorJson(model.Descriptor);
        if (c.Descriptor != mine) throw new InputException($"{source}: the checkpoint is from another configuration: {c.Descriptor} (this run: {mine})");
        if (c.Parameters.Length != model.Parameters.Length) throw new InputException($"{source}: the checkpoint has {c.Parameters.Length} parameters, the model {model.Parameters.Length}");
        if (c.Losses.Length != c.Step) throw new InputException($"{source}: the checkpoint is inconsistent ({c.Losses.Length} losses for {c.Step} steps)");
        c.Parameters.CopyTo(model.Parameters, 0);
    }

    public static string DescriptorJson(ModelDescriptor d) =>
        new System.Text.Json.Nodes.JsonObject { ["family"] = d.Family, ["configuration"] = d.Configuration, ["precision"] = d.Precision.ToString().ToLowerInvariant() }.ToJsonString();

    /// <summary>The batch of step <paramref name="step"/> (0-based).</summary>
    public IReadOnlyList<Prompt> Batch(long step)
    {
        int b = _options.Batch;
        if (_pool is not null)
        {
            var rng = SeedSequence.Create(_options.Seed, step, 0x9002);
            return Enumerable.Range(0, b).Select(_ => _pool[rng.Next(_pool.Length)]).ToArray();
        }
        var prompts = new Prompt[b];
        for (int i = 0; i < b; i++) prompts[i] = PromptSampler.Sample(_spec, _task.PromptLength, SeedSequence.Derive(_options.Seed, step, 0x9003), i);
        return prompts;
    }

    /// <summary>
    /// Runs until <see cref="TrainingOptions.Steps"/> steps are done, or <paramref name="stopAfter"/> more
    /// steps (to simulate an interruption in tests), checkpointing into <paramref name="folder"/> if given.
    /// </summary>
    public void Run(string? folder, IProgress<TrainingProgress>? progress = null, long? stopAfter = null, CancellationToken cancel = default)
    {
        var gradient = new double[_model.Parameters.Length];
        var sw = System.Diagnostics.Stopwatch.StartNew();
        long start = Step, end = stopAfter is long s ? Math.Min(_options.Steps, Step + s) : _options.Steps;
        while (Step < end && !cancel.IsCancellationRequested)
        {
            double loss;
            // A cancelled parallel loop (Ctrl-C) leaves the step undone and the parameters as they were.
            try { loss = _model.LossAndGradient(Batch(Step), gradient); }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested) { break; }
            string? diverged = Divergence.Check(loss, _losses.Count > 0 ? _losses[0] : loss, _labelSecondMoment)
                ?? (gradient.All(double.IsFinite) ? null : "the gradient is not finite");
            if (diverged is not null)
            {
                string kept = folder is null ? "" : File.Exists(Path.Combine(folder, CheckpointFile))
                    ? $"; the last good checkpoint (step {SavedStep}) is kept in {Path.Combine(folder, CheckpointFile)}" : "; no checkpoint had been written yet";
                throw new DivergenceException($"training diverged at step {Step + 1}: {diverged} (try a smaller --lr){kept}", Step + 1, SavedStep);
            }
            _adam.Update(_model.Parameters, gradient);
            _losses.Add(loss);
            Step++;
            progress?.Report(new TrainingProgress(Step, _options.Steps, loss, (Step - start) / Math.Max(1e-9, sw.Elapsed.TotalSeconds)));
            if (folder is not null && (Step % _options.CheckpointEvery == 0 || Step == _options.Steps)) Save(folder);
        }
        // Cancelled (Ctrl-C): keep the work done. Stopped by stopAfter: like a kill, nothing more is saved.
        if (folder is not null && cancel.IsCancellationRequested && Step != SavedStep) Save(folder);
    }

    public Checkpoint Snapshot() => new(DescriptorJson(_model.Descriptor), Step, (double[])_model.Parameters.Clone(),
        (double[])_adam.FirstMoment.Clone(), (double[])_adam.SecondMoment.Clone(), _adam.Step, _losses.ToArray());

    /// <summary>The step of the checkpoint last written or restored (the last good one).</summary>
    public long SavedStep { get; private set; }

    public void Save(string folder)
    {
        SavedStep = Step;
        AtomicFile.WriteAllBytes(Path.Combine(folder, CheckpointFile), Snapshot().Serialise());
        var sb = new System.Text.StringBuilder("step,loss\n");
        for (int i = 0; i < _losses.Count; i++) sb.Append(i + 1).Append(',').Append(_losses[i].ToString("R", System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        AtomicFile.WriteAllText(Path.Combine(folder, LossFile), sb.ToString());
    }
}
