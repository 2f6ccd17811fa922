using System.Text.Json.Nodes;
using MorIcl.Mixture;
using MorIcl.Numerics;

namespace MorIcl.Training;

/// <summary>
/// The prompt distribution a model is trained on (seed 000 §5): x ~ N(0, I_d), β_1 … β_K drawn once
/// from N(0, I_d) and normalised (from <see cref="BetaSeed"/>), then fixed; noise σ; mixing π;
/// per-sample or per-prompt components; n examples per prompt. With <see cref="BetaPerPrompt"/> β is drawn
/// afresh for every prompt from the same prior instead (meta-learning: the context must be used).
/// </summary>
public sealed record TrainingTask(int D, int K, double Sigma, double[] Mixing, MixtureMode Mode, int PromptLength, int BetaSeed)
{
    /// <summary>β drawn per prompt (<see cref="MixtureSpec.BetaPerPrompt"/>); run.json says "betaPerPrompt": true.</summary>
    public bool BetaPerPrompt { get; init; }

    public MixtureSpec Spec() => new(RegressionVectors.DrawNormalised(D, K, SeedSequence.Create(BetaSeed, 0, 7)), Mixing, Sigma, Mode, betaPerPrompt: BetaPerPrompt);

    public void Validate()
    {
        if (D < 1) throw new SpecificationException($"dimension d must be at least 1, got {D}");
        if (K < 1) throw new SpecificationException($"components K must be at least 1, got {K}");
        if (PromptLength < 1) throw new SpecificationException($"prompt length n must be at least 1, got {PromptLength}");
        if (!(Sigma >= 0) || double.IsInfinity(Sigma)) throw new SpecificationException($"σ must be a finite number ≥ 0, got {Sigma}");
        MixtureSpec.ValidateMixing(Mixing, K, "mixing");
    }

    public JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["dim"] = D, ["components"] = K, ["sigma"] = Sigma, ["mixing"] = IO.ParametersJson.Array(Mixing),
            ["mode"] = Mode == MixtureMode.PerSample ? "per-sample" : "per-prompt", ["promptLength"] = PromptLength, ["betaSeed"] = BetaSeed,
        };
        if (BetaPerPrompt) o["betaPerPrompt"] = true;   // absent in files written before it existed
        return o;
    }

    public static TrainingTask FromJson(JsonNode node, string source)
    {
        try
        {
            var o = node.AsObject();
            var t = new TrainingTask((int)o["dim"]!, (int)o["components"]!, (double)o["sigma"]!, o["mixing"]!.AsArray().Select(v => (double)v!).ToArray(),
                (string)o["mode"]! switch { "per-sample" => MixtureMode.PerSample, "per-prompt" => MixtureMode.PerPrompt, var m => throw new InputException($"{source}: unknown mode '{m}'") },
                (int)o["promptLength"]!, (int)o["betaSeed"]!) { BetaPerPrompt = o["betaPerPrompt"] is { } b && (bool)b };
            t.Validate();
            return t;
        }
        catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException or System.Text.Json.JsonException)
        {
            throw new InputException($"{source}: the task is malformed ({e.Message})", e);
        }
    }
}

/// <summary>Optimiser and schedule: Adam or AdamW, constant learning rate, batch size, steps; fresh prompts every step, or a fixed pool of B prompts.</summary>
public sealed record TrainingOptions(int Steps, int Batch, double LearningRate, double WeightDecay, int Pool, int Seed, int CheckpointEvery)
{
    public void Validate()
    {
        if (Steps < 1) throw new SpecificationException($"--steps must be at least 1, got {Steps}");
        if (Batch < 1) throw new SpecificationException($"--batch must be at least 1, got {Batch}");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new SpecificationException($"--lr must be a finite number > 0, got {LearningRate}");
        if (!(WeightDecay >= 0)) throw new SpecificationException($"--weight-decay must be ≥ 0, got {WeightDecay}");
        if (Pool < 0) throw new SpecificationException($"--pool must be ≥ 0 (0 = fresh prompts every step), got {Pool}");
        if (CheckpointEvery < 1) throw new SpecificationException($"--checkpoint-every must be at least 1, got {CheckpointEvery}");
    }

    public JsonObject ToJson() => new()
    {
        ["steps"] = Steps, ["batch"] = Batch, ["learningRate"] = LearningRate, ["weightDecay"] = WeightDecay, ["pool"] = Pool, ["seed"] = Seed, ["checkpointEvery"] = CheckpointEvery,
    };

    public static TrainingOptions FromJson(JsonNode node, string source)
    {
        try
        {
            var o = node.AsObject();
            var t = new TrainingOptions((int)o["steps"]!, (int)o["batch"]!, (double)o["learningRate"]!, (double)o["weightDecay"]!, (int)o["pool"]!, (int)o["seed"]!, (int)o["checkpointEvery"]!);
            t.Validate();
            return t;
        }
        catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException or System.Text.Json.JsonException)
        {
            throw new InputException($"{source}: the training options are malformed ({e.Message})", e);
        }
    }
}
