using System.Text.Json.Nodes;
using MorIcl.Construction;
using MorIcl.Training.Constructed;
using MorIcl.Training.Gpt;

namespace MorIcl.Training;

/// <summary>
/// Which model to train (issue 6): family "gpt2" (size tiny/small or custom L, D, H) or "constructed"
/// (the architecture of the construction for the task's d, K, σ, π with S, T, α; initialised at random
/// or at the construction plus noise). Stored in a run's run.json so a resumed run rebuilds the same
/// model, whose descriptor must then match the checkpoint's.
/// </summary>
public sealed record ModelRequest(string Family, string? Size, int Layers, int Width, int Heads, string Init, double InitScale, Precision Precision,
    int EmIterations, int GdSteps, double StepSize, int InitSeed)
{
    public static readonly string[] Families = { "gpt2", "constructed" };

    /// <summary>Builds the model for a task (d, K, σ, π come from the task).</summary>
    public ITrainableModel Create(TrainingTask task)
    {
        switch (Family)
        {
            case "gpt2":
                var config = Size is not null ? GptConfig.Named(Size, task.D, InitScale) : new GptConfig(task.D, Layers, Width, Heads, InitScale);
                return new GptModel(config, InitSeed, Precision);
            case "constructed":
                if (Precision != Precision.Double) throw new SpecificationException("the constructed family trains in double precision only (--precision double)");
                var kind = Init switch
                {
                    "random" => ConstructedInitialisation.Random,
                    "constructed" => ConstructedInitialisation.Construction,
                    _ => throw new SpecificationException($"--init: '{Init}' is not an initialisation; use random or constructed"),
                };
                var spec = new ConstructionSpec(task.D, task.K, task.Sigma, task.Mixing, EmIterations, GdSteps, StepSize, maxPromptLength: Math.Max(task.PromptLength, 31));
                return ConstructedArchitectureModel.Create(Compiler.Compile(spec), kind, InitScale, InitSeed);
            default:
                throw new SpecificationException($"--family: unknown model family '{Family}'; the families are {string.Join(", ", Families)}");
        }
    }

    public JsonObject ToJson() => new()
    {
        ["family"] = Family, ["size"] = Size, ["layers"] = Layers, ["width"] = Width, ["heads"] = Heads, ["init"] = Init, ["initScale"] = InitScale,
        ["precision"] = Precision == Precision.Float ? "float" : "double", ["emIterations"] = EmIterations, ["gdSteps"] = GdSteps, ["stepSize"] = StepSize, ["initSeed"] = InitSeed,
    };

    public static ModelRequest FromJson(JsonNode node, string source)
    {
        try
        {
            var o = node.AsObject();
            return new ModelRequest((string)o["family"]!, (string?)o["size"], (int)o["layers"]!, (int)o["width"]!, (int)o["heads"]!, (string)o["init"]!, (double)o["initScale"]!,
                (string)o["precision"]! == "float" ? Precision.Float : Precision.Double, (int)o["emIterations"]!, (int)o["gdSteps"]!, (double)o["stepSize"]!, (int)o["initSeed"]!);
        }
        catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException or System.Text.Json.JsonException)
        {
            throw new InputException($"{source}: the model request is malformed ({e.Message})", e);
        }
    }
}

/// <summary>A run folder's run.json: what is trained, on what, and how.</summary>
public sealed record RunFile(TrainingTask Task, TrainingOptions Options, ModelRequest Model)
{
    public const string FileName = "run.json";

    public JsonObject ToJson() => new() { ["version"] = 1, ["task"] = Task.ToJson(), ["training"] = Options.ToJson(), ["model"] = Model.ToJson() };

    public static RunFile Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) throw new InputException($"{folder}: not a training run (no {FileName})");
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(path)); }
        catch (System.Text.Json.JsonException e) { throw new InputException($"{path}: not valid JSON ({e.Message})", e); }
        if (node is not JsonObject o || o["task"] is null || o["training"] is null || o["model"] is null) throw new InputException($"{path}: expected an object with task, training and model");
        return new RunFile(TrainingTask.FromJson(o["task"]!, path), TrainingOptions.FromJson(o["training"]!, path), ModelRequest.FromJson(o["model"]!, path));
    }
}
