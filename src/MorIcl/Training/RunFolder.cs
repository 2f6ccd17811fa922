using System.Text.Json.Nodes;
using MorIcl.IO;

namespace MorIcl.Training;

/// <summary>
/// A training run's folder: <c>run.json</c> (what is trained, how), <c>checkpoint.bin</c> and
/// <c>loss.csv</c> (the last good state), and <c>failed.json</c> once the run has diverged. A new
/// run's folder appears whole or not at all (staged with its step-0 checkpoint, so it is resumable
/// from its first moment); a diverged run is marked failed, refuses <c>--resume</c> (it would diverge
/// again: runs are deterministic) and is replaced with <c>--force</c>.
/// </summary>
public static class RunFolder
{
    public const string FailedFile = "failed.json";

    private static readonly string[] RunFiles = { RunFile.FileName, Trainer.CheckpointFile, Trainer.LossFile, FailedFile };

    /// <summary>True if the folder holds (part of) a run.</summary>
    public static bool HoldsRun(string folder) => RunFiles.Any(f => File.Exists(Path.Combine(folder, f)));

    /// <summary>Writes the new run's folder (run.json and the step-0 checkpoint) all at once, replacing a previous run's files.</summary>
    public static void Create(string folder, RunFile run, Trainer trainer, CancellationToken cancel = default)
    {
        using var outputs = new StagedOutputs();
        var stage = outputs.Folder(folder);
        AtomicFile.WriteAllText(Path.Combine(stage, RunFile.FileName), ParametersJson.Serialize(run.ToJson()));
        trainer.Save(stage);
        outputs.Commit(cancel);
        var stale = Path.Combine(folder, FailedFile);
        if (File.Exists(stale)) File.Delete(stale);
    }

    /// <summary>Marks the run failed: why, at which step, and the step of the checkpoint kept.</summary>
    public static void MarkFailed(string folder, DivergenceException e) =>
        AtomicFile.WriteAllText(Path.Combine(folder, FailedFile), ParametersJson.Serialize(new JsonObject
        {
            ["reason"] = e.Message, ["step"] = e.Step, ["lastGoodStep"] = e.LastGoodStep,
        }));

    /// <summary>Why the run failed, or null if it did not.</summary>
    public static string? Failure(string folder)
    {
        var path = Path.Combine(folder, FailedFile);
        if (!File.Exists(path)) return null;
        try { return (string?)JsonNode.Parse(File.ReadAllText(path))?["reason"] ?? "see " + path; }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException) { return "see " + path; }
    }

    /// <summary>Throws for a run marked failed.</summary>
    public static void RequireNotFailed(string folder)
    {
        if (Failure(folder) is { } why)
            throw new SpecificationException($"{folder}: the run is marked failed ({why}); resuming would fail the same way (training is deterministic): start it again with --out {folder} --force and other options");
    }
}
