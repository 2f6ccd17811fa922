using MorIcl.Numerics;
using MorIcl.Training;
using MorIcl.Training.Gpt;

namespace MorIcl.Cli.Commands;

/// <summary>
/// What a training run needs in memory, estimated before the model is built, so that sizes this
/// machine cannot hold are refused with exit code 2: the parameters with their gradient and Adam's
/// two moments, one gradient per chunk of 8 prompts (the GPT runner's chunk), the batch's and
/// the pool's prompts, and the activations of the batch (per block and token about 16 widths plus
/// one attention row per head).
/// </summary>
internal static class TrainingMemory
{
    public static void Require(RunFile run)
    {
        var t = run.Task; var o = run.Options; var m = run.Model;
        double prompt = 8.0 * (t.PromptLength + 1) * (t.D + 2);
        MemoryBudget.Require(16.0 * t.K * t.D, $"--components {t.K} with --dim {t.D}");
        double bytes = prompt * ((double)o.Batch + o.Pool);
        string what = $"--batch {o.Batch}, --prompt-length {t.PromptLength}" + (o.Pool > 0 ? $", --pool {o.Pool}" : "");
        if (m.Family == "gpt2")
        {
            var c = m.Size is not null ? GptConfig.Named(m.Size, t.D) : null;
            double layers = c?.Layers ?? m.Layers, width = c?.Width ?? m.Width, heads = c?.Heads ?? m.Heads;
            double parameters = layers * (12 * width * width + 13 * width) + width * (t.D + 5);
            MemoryBudget.RequireArray(parameters, $"--layers {layers} --width {width}");
            double tokens = t.PromptLength + 1, chunks = Math.Ceiling(o.Batch / 8.0);
            bytes += 8 * parameters * (4 + chunks) + 8.0 * o.Batch * layers * tokens * (16 * width + heads * tokens);
            what += $", {layers} blocks of width {width}";
        }
        MemoryBudget.Require(bytes, what);
    }
}
