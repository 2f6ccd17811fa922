using System.Text.Json;
using System.Text.Json.Nodes;
using MorIcl.Em;

namespace MorIcl.IO;

/// <summary>
/// Parameters as JSON: <c>{"beta": [[…d numbers…], …K arrays…], "mixing": [K numbers], "sigma": [K numbers]}</c>.
/// The format of <c>mor-icl em --init</c>, of its <c>--json</c> output and of <c>mor-icl sample --truth</c>.
/// When read as an initialisation, <c>mixing</c> (default 1/K) and <c>sigma</c> (a number or K
/// numbers; default: the data-driven scale) may be omitted.
/// </summary>
public static class ParametersJson
{
    public sealed record Partial(double[][] Beta, double[]? Mixing, double[]? Sigma);

    public static Partial Read(string path)
    {
        if (!File.Exists(path)) throw new InputException($"{path}: file not found");
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new InputException($"{path}: cannot read ({e.Message})", e); }
        return Parse(text, path);
    }

    public static Partial Parse(string text, string source)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip }); }
        catch (JsonException e) { throw new InputException($"{source}:{(e.LineNumber ?? 0) + 1}: not valid JSON ({FirstSentence(e.Message)})", e); }
        if (root is not JsonObject obj) throw new InputException($"{source}: expected a JSON object with field 'beta'");
        if (obj["beta"] is not JsonArray betaNode || betaNode.Count == 0)
            throw new InputException($"{source}: field 'beta' must be a non-empty array of K arrays of d numbers");
        var beta = new double[betaNode.Count][];
        for (int k = 0; k < beta.Length; k++)
        {
            if (betaNode[k] is not JsonArray row) throw new InputException($"{source}: beta[{k}] must be an array of d numbers");
            beta[k] = Numbers(row, $"beta[{k}]", source);
            if (beta[k].Length != beta[0].Length)
                throw new InputException($"{source}: beta[{k}] has {beta[k].Length} numbers, beta[0] has {beta[0].Length}");
        }
        if (beta[0].Length == 0) throw new InputException($"{source}: beta[0] is empty");
        double[]? mixing = obj["mixing"] switch
        {
            null => null,
            JsonArray m => Numbers(m, "mixing", source),
            _ => throw new InputException($"{source}: field 'mixing' must be an array of K numbers"),
        };
        double[]? sigma = obj["sigma"] switch
        {
            null => null,
            JsonArray s => Numbers(s, "sigma", source),
            JsonValue v => new[] { Number(v, "sigma", source) },
            _ => throw new InputException($"{source}: field 'sigma' must be a number or an array of K numbers"),
        };
        if (sigma is { Length: 1 } && beta.Length > 1) sigma = Enumerable.Repeat(sigma[0], beta.Length).ToArray();
        if (mixing is not null && mixing.Length != beta.Length)
            throw new InputException($"{source}: 'mixing' has {mixing.Length} numbers but 'beta' has K = {beta.Length} components");
        if (sigma is not null && sigma.Length != beta.Length)
            throw new InputException($"{source}: 'sigma' has {sigma.Length} numbers but 'beta' has K = {beta.Length} components");
        return new Partial(beta, mixing, sigma);
    }

    /// <summary>Completes a partial initialisation, checking its shape against (d, K).</summary>
    public static MixtureParameters Complete(Partial p, int d, int k, double defaultSigma, string source)
    {
        if (p.Beta.Length != k) throw new InputException($"{source}: 'beta' has {p.Beta.Length} components, expected K = {k}");
        if (p.Beta[0].Length != d) throw new InputException($"{source}: beta[0] has {p.Beta[0].Length} numbers, expected d = {d}");
        try
        {
            return new MixtureParameters(p.Beta, p.Mixing ?? Enumerable.Repeat(1.0 / k, k).ToArray(), p.Sigma ?? Enumerable.Repeat(defaultSigma, k).ToArray());
        }
        catch (SpecificationException e) { throw new InputException($"{source}: {e.Message}", e); }
    }

    public static JsonObject ToJson(MixtureParameters p) => new()
    {
        ["beta"] = new JsonArray(p.Beta.Select(b => (JsonNode)Array(b)).ToArray()),
        ["mixing"] = Array(p.Mixing),
        ["sigma"] = Array(p.Sigma),
    };

    public static JsonArray Array(IEnumerable<double> values) => new(values.Select(v => (JsonNode)JsonValue.Create(v)).ToArray());

    public static string Serialize(JsonNode node) => node.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    private static double[] Numbers(JsonArray a, string field, string source)
    {
        var r = new double[a.Count];
        for (int i = 0; i < a.Count; i++) r[i] = Number(a[i], $"{field}[{i}]", source);
        return r;
    }

    private static double Number(JsonNode? n, string field, string source)
    {
        if (n is JsonValue v && v.TryGetValue<double>(out var d))
        {
            if (!double.IsFinite(d)) throw new InputException($"{source}: {field} is not a finite number");
            return d;
        }
        throw new InputException($"{source}: {field} must be a number, got {n?.ToJsonString() ?? "null"}");
    }

    private static string FirstSentence(string m)
    {
        int i = m.IndexOf(". ", StringComparison.Ordinal);
        return i > 0 ? m[..i] : m.TrimEnd('.');
    }
}
