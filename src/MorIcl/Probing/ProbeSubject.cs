using MorIcl.Comparison;
using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.IO;
using MorIcl.Mixture;
using MorIcl.Training;
using MorIcl.Training.Constructed;

namespace MorIcl.Probing;

/// <summary>What the user may override about the gradient EM targets and the prompt distribution.</summary>
public sealed record ProbeOverrides(int? EmIterations = null, int? GdSteps = null, double? StepSize = null, int? PromptLength = null,
    MixtureMode? Mode = null, double? Sigma = null, double[]? Mixing = null, int BetaSeed = 1, int ControlSeed = 7);

/// <summary>
/// The model a probe looks inside, resolved from <c>--model</c>: a training run folder (run.json and
/// checkpoint.bin, as <c>mor-icl train</c> or <c>mor-icl import</c> write them) or a model file
/// (<c>mor-icl construct --out model.json</c>, or a hand-built one). It provides the residual streams,
/// the untrained control of the same architecture, the prompt distribution (the run's training task, or
/// for a model file its specification's d, K, σ, π with β drawn from a seed), the gradient EM the
/// targets follow, and the model as a predictor (for matching algorithms).
/// </summary>
public sealed record ProbeSubject(string Description, IResidualStreams Streams, IResidualStreams Untrained, TrainingTask Task, ConstructionSpec GradientEm, IPromptPredictor Predictor)
{
    /// <summary>The constructed model itself, when M is a model file: its layers say where each EM iterate is complete (<see cref="IterateRecoveries"/>).</summary>
    public TransformerModel? Construction { get; init; }

    /// <summary>Default number of gradient EM iterations S of the targets when the model does not fix it (a gpt2 run).</summary>
    public const int DefaultEmIterations = 10;

    public static ProbeSubject Load(string path, ProbeOverrides o)
    {
        if (Directory.Exists(path)) return FromRun(path, o);
        if (File.Exists(path)) return FromModelFile(path, o);
        throw new InputException($"{path}: no such run folder or model file");
    }

    private static ProbeSubject FromRun(string folder, ProbeOverrides o)
    {
        var run = RunFile.Read(folder);
        var checkpointPath = Path.Combine(folder, Trainer.CheckpointFile);
        var checkpoint = Checkpoint.Read(checkpointPath);
        var task = run.Task with { PromptLength = o.PromptLength ?? run.Task.PromptLength };
        if (o.Mode is not null || o.Sigma is not null || o.Mixing is not null)
            throw new SpecificationException("--mode, --sigma and --mixing apply to model files; a run is probed on its own training distribution");
        var model = run.Model.Create(run.Task);
        Trainer.LoadParameters(model, checkpoint, checkpointPath);
        // The untrained control: the run's own initialisation, or — when that is the construction itself — a random one.
        var start = run.Model.Family == "constructed" && run.Model.Init == "constructed"
            ? ConstructedArchitectureModel.Random(((ConstructedArchitectureModel)model).Template, 0.1, o.ControlSeed)
            : run.Model.Create(run.Task);
        bool constructed = run.Model.Family == "constructed";
        var spec = new ConstructionSpec(task.D, task.K, task.Sigma, task.Mixing,
            o.EmIterations ?? (constructed ? run.Model.EmIterations : DefaultEmIterations), o.GdSteps ?? (constructed ? run.Model.GdSteps : 1), o.StepSize ?? (constructed ? run.Model.StepSize : 0.5),
            maxPromptLength: Math.Max(task.PromptLength, 31));
        return new ProbeSubject($"{folder}: {model.Descriptor.Family} ({model.Parameters.Length} parameters, {checkpoint.Step} steps)",
            ResidualStreamsOf.Trainable(model), ResidualStreamsOf.Trainable(start), task, spec, new TrainedPredictor(model));
    }

    private static ProbeSubject FromModelFile(string path, ProbeOverrides o)
    {
        var model = ModelJson.Read(path);
        var s = model.Spec;
        if (o.EmIterations is not null || o.GdSteps is not null || o.StepSize is not null)
            throw new SpecificationException("--em-iterations, --gd-steps and --step-size apply to runs; a model file's targets follow its own specification");
        int n = o.PromptLength ?? Math.Min(20, s.MaxPromptLength);
        if (n > s.MaxPromptLength) throw new SpecificationException($"--prompt-length {n} exceeds the model's maximum prompt length {s.MaxPromptLength}");
        var mixing = o.Mixing ?? s.Mixing;
        var task = new TrainingTask(s.Dimension, s.Components, o.Sigma ?? s.Sigma, mixing, o.Mode ?? MixtureMode.PerSample, n, o.BetaSeed);
        task.Validate();
        var untrained = ConstructedArchitectureModel.Random(model, 1 / Math.Sqrt(model.Dimension), o.ControlSeed);
        return new ProbeSubject($"{path}: {Describe(model)}", new ExecutorStreams(model), new ConstructedArchitectureStreams(untrained), task, s, new ConstructedPredictor(model))
        {
            Construction = model,
        };
    }

    private static string Describe(TransformerModel m) =>
        $"{(m.Spec.Symmetric ? "symmetric " : "")}gradient EM transformer, d = {m.Spec.Dimension}, K = {m.Spec.Components}, S = {m.Spec.EmIterations}, T = {m.Spec.GradientSteps}, {m.Layers.Count} layers, D = {m.Dimension}";

    /// <summary>The probe targets for this subject's prompts.</summary>
    public ProbeTargets Targets() => new(GradientEm, Task.Spec(), Task.PromptLength);
}
