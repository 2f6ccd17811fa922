using System.Text.Json.Nodes;
using MorIcl.IO;
using MorIcl.Training.Gpt;

namespace MorIcl.Export;

/// <summary>
/// A GPT-2-style model (<see cref="GptModel"/>) as named tensors (docs/export.md, "gpt2" layout): the
/// parameter blocks of the model under their own names, matrices input-major so that a token row maps
/// as h·W (GPT-2's Conv1D convention; a <c>torch.nn.Linear</c> weight is Wᵀ):
/// <c>read_in.W</c> (d+1) × D, <c>read_in.b</c> D, <c>query_embedding</c> D, per block l
/// <c>block{l}.ln1.gamma|beta</c> D, <c>block{l}.attn.Wq|Wk|Wv|Wo</c> D × D, <c>.bq|bk|bv|bo</c> D,
/// <c>block{l}.ln2.gamma|beta</c> D, <c>block{l}.mlp.W1</c> D × 4D, <c>.b1</c> 4D, <c>.W2</c> 4D × D,
/// <c>.b2</c> D, then <c>ln_f.gamma|beta</c> D, <c>read_out.w</c> D, <c>read_out.b</c> 1. Heads split
/// D into H consecutive slices of D/H (head h uses columns h·D/H … (h+1)·D/H − 1 of Wq, Wk, Wv).
/// </summary>
public static class GptTensors
{
    public static List<SafeTensor> ToTensors(GptModel model, ExportPrecision precision)
    {
        string dtype = precision == ExportPrecision.Double ? "F64" : "F32";
        return model.Blocks.Select(b => new SafeTensor(b.Name, dtype, Shape(b.Name, model.Config, b.Length), model.Parameters.AsSpan(b.Offset, b.Length).ToArray())).ToList();
    }

    /// <summary>The configuration in the metadata: d, L, D, H (the heads cannot be read off the shapes).</summary>
    public static JsonObject ConfigJson(GptConfig c) => new()
    {
        ["d"] = c.InputDimension, ["layers"] = c.Layers, ["width"] = c.Width, ["heads"] = c.Heads, ["initScale"] = c.InitScale,
        ["layerNormEpsilon"] = 1e-5, ["gelu"] = "tanh", ["attentionScale"] = "1/sqrt(width/heads)", ["matrices"] = "input-major (h·W)",
    };

    private static long[] Shape(string name, GptConfig c, int length)
    {
        int D = c.Width, F = c.HiddenWidth;
        string tail = name.Contains('.') && name.StartsWith("block", StringComparison.Ordinal) ? name[(name.IndexOf('.') + 1)..] : name;
        return tail switch
        {
            "read_in.W" => new long[] { c.TokenWidth, D },
            "attn.Wq" or "attn.Wk" or "attn.Wv" or "attn.Wo" => new long[] { D, D },
            "mlp.W1" => new long[] { D, F },
            "mlp.W2" => new long[] { F, D },
            _ => new long[] { length },
        };
    }

    /// <summary>
    /// The configuration of a file in the gpt2 layout: d and D from <c>read_in.W</c>, L from the
    /// blocks present, H from <paramref name="heads"/> (the metadata's or the user's).
    /// </summary>
    public static GptConfig InferConfig(IReadOnlyDictionary<string, SafeTensor> tensors, int heads, double initScale, string source)
    {
        if (!tensors.TryGetValue("read_in.W", out var readIn)) throw new InputException($"{source}: tensor 'read_in.W' is missing (is this a gpt2-layout file? see docs/export.md)");
        if (readIn.Shape.Length != 2 || readIn.Shape[0] < 2) throw new InputException($"{source}: tensor 'read_in.W' must be (d+1) × D, got [{string.Join(", ", readIn.Shape)}]");
        int layers = 0;
        while (tensors.ContainsKey($"block{layers}.ln1.gamma")) layers++;
        if (layers == 0) throw new InputException($"{source}: no blocks (tensor 'block0.ln1.gamma' is missing)");
        try { return new GptConfig((int)readIn.Shape[0] - 1, layers, (int)readIn.Shape[1], heads, initScale); }
        catch (SpecificationException e) { throw new InputException($"{source}: {e.Message}"); }
    }

    /// <summary>The parameter vector of <paramref name="model"/>'s layout from the tensors: every block present with its shape, finite, and no other tensor.</summary>
    public static double[] Parameters(GptModel model, IReadOnlyDictionary<string, SafeTensor> tensors, string source)
    {
        var theta = new double[model.Parameters.Length];
        foreach (var (name, offset, length) in model.Blocks)
        {
            if (!tensors.TryGetValue(name, out var t)) throw new InputException($"{source}: tensor '{name}' is missing");
            var want = Shape(name, model.Config, length);
            if (t.DType == "I64") throw new InputException($"{source}: tensor '{name}' is I64; weights must be F64 or F32");
            if (!t.Shape.SequenceEqual(want)) throw new InputException($"{source}: tensor '{name}' has shape [{string.Join(", ", t.Shape)}], expected [{string.Join(", ", want)}]");
            for (int i = 0; i < length; i++)
                if (!double.IsFinite(t.Data[i])) throw new InputException($"{source}: tensor '{name}' holds a value that is not finite (element {i})");
            t.Data.CopyTo(theta, offset);
        }
        var names = model.Blocks.Select(b => b.Name).ToHashSet(StringComparer.Ordinal);
        var extra = tensors.Keys.Where(k => !names.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).FirstOrDefault();
        if (extra is not null) throw new InputException($"{source}: tensor '{extra}' is not part of a gpt2 model with L = {model.Config.Layers} (see docs/export.md for the names)");
        return theta;
    }
}
