using System.Text.Json.Nodes;
using MorIcl.Training;

namespace MorIcl.Cli.Commands;

/// <summary>
/// <c>mor-icl run --model RUNDIR --data prompt.csv</c>: the prediction of a trained (or imported) run,
/// computed by the model's own forward pass in its training precision. A trained model has no
/// certificate and no reference algorithm to compare with; the output says so.
/// </summary>
internal static class RunTrainedCommand
{
    public static int Run(CliContext ctx, string folder, string dataPath, string? queryText, bool json, IO.CsvColumns? columns = null)
    {
        var run = TrainedRun.Load(folder);
        var (examples, q) = PromptInput.Read(dataPath, queryText, run.Run.Task.D, folder, columns);
        double prediction = run.Model.Predict(new[] { (examples, q) })[0];
        var d = run.Model.Descriptor;
        string precision = d.Precision.ToString().ToLowerInvariant();
        if (json)
            ctx.Out.WriteLine(new JsonObject
            {
                ["prediction"] = double.IsFinite(prediction) ? prediction : null,
                ["family"] = d.Family, ["precision"] = precision, ["steps"] = run.Steps, ["certificate"] = null,
            }.ToJsonString());
        else
        {
            ctx.Out.WriteLine($"prediction ŷ: {prediction.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}");
            ctx.Out.WriteLine($"trained {d.Family} ({run.Model.Parameters.Length} parameters, {precision}, {run.Steps} steps) from {folder}; a trained model has no certificate");
        }
        return ExitCodes.Ok;
    }
}
