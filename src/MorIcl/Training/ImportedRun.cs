using System.Text.Json.Nodes;
using MorIcl.IO;

namespace MorIcl.Training;

/// <summary>
/// A run folder for a model trained elsewhere (<c>mor-icl import</c>), laid out as a native run so
/// that <c>run</c>, <c>compare</c>, <c>probe</c>, <c>export</c> and <c>train --resume</c> take it:
/// <c>run.json</c> (task, training options, model request), <c>checkpoint.bin</c> at step 0 with the
/// imported parameters and zero Adam moments, an empty <c>loss.csv</c>, and <c>import.json</c> saying
/// where the weights came from. The folder is staged (<see cref="StagedOutputs"/>) and moved into place,
/// so it appears whole or not at all.
/// </summary>
public static class ImportedRun
{
    public const string ProvenanceFile = "import.json";

    public static void Write(string folder, RunFile run, double[] parameters, JsonObject provenance, CancellationToken cancel = default)
    {
        run.Task.Validate(); run.Options.Validate();
        var model = run.Model.Create(run.Task);
        if (parameters.Length != model.Parameters.Length)
            throw new SpecificationException($"{parameters.Length} parameters for a model of {model.Parameters.Length}");
        var full = Path.GetFullPath(folder);
        if (File.Exists(full)) throw new InputException($"{folder}: is a file, not a run folder");
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any())
            throw new InputException($"{folder} already holds files; import into a new folder");
        using var outputs = new StagedOutputs();
        var stage = outputs.Folder(folder);
        AtomicFile.WriteAllText(Path.Combine(stage, RunFile.FileName), ParametersJson.Serialize(run.ToJson()));
        var zeros = new double[parameters.Length];
        var checkpoint = new Checkpoint(Trainer.DescriptorJson(model.Descriptor), 0, (double[])parameters.Clone(), zeros, zeros, 0, Array.Empty<double>());
        AtomicFile.WriteAllBytes(Path.Combine(stage, Trainer.CheckpointFile), checkpoint.Serialise());
        AtomicFile.WriteAllText(Path.Combine(stage, Trainer.LossFile), "step,loss\n");
        AtomicFile.WriteAllText(Path.Combine(stage, ProvenanceFile), ParametersJson.Serialize(provenance));
        outputs.Commit(cancel);
    }
}
