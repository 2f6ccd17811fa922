namespace MorIcl.Training;

/// <summary>
/// A training run folder loaded for evaluation (no optimiser state): its run.json, the model it
/// describes with the checkpoint's parameters, and the number of steps trained. A folder written by
/// <c>mor-icl import</c> is a run like any other (step 0).
/// </summary>
public sealed record TrainedRun(string Folder, RunFile Run, ITrainableModel Model, Checkpoint Checkpoint)
{
    public long Steps => Checkpoint.Step;
    public string CheckpointPath => Path.Combine(Folder, Trainer.CheckpointFile);

    public static TrainedRun Load(string folder)
    {
        var run = RunFile.Read(folder);
        var path = Path.Combine(folder, Trainer.CheckpointFile);
        var checkpoint = Checkpoint.Read(path);
        var model = run.Model.Create(run.Task);
        Trainer.LoadParameters(model, checkpoint, path);
        return new TrainedRun(folder, run, model, checkpoint);
    }
}
