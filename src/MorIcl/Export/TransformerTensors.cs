using System.Text.Json.Nodes;
using MorIcl.Construction.Model;
using MorIcl.IO;

namespace MorIcl.Export;

/// <summary>
/// A <see cref="TransformerModel"/> as named tensors plus its model file without the numbers
/// (docs/export.md, "constructed" layout): per attention head <c>layerLL.headH.Q</c> and <c>.K</c>
/// (head dimension × D), <c>.V</c> (the rows V writes × D) with <c>.V_rows</c> (int64, which
/// residual rows those are); per MLP <c>layerLL.mlp.W1</c> (hidden × D), <c>.b1</c>, <c>.W2</c>
/// (D × hidden), <c>.b2</c> (D). The model JSON (<see cref="ModelJson"/>: specification, layout,
/// embedding, read-out, per layer provenance, domain, activations, positional dimensions, admission
/// tables, input ranges and declared errors) names the tensor in place of each matrix's entries, so
/// reading it back goes through <see cref="ModelJson.FromJson(System.Text.Json.Nodes.JsonNode?, string, System.Action{string}?)"/> and its checks.
/// </summary>
public static class TransformerTensors
{
    public static (List<SafeTensor> Tensors, JsonObject Model) ToTensors(TransformerModel model, ExportPrecision precision)
    {
        string dtype = precision == ExportPrecision.Double ? "F64" : "F32";
        var json = ModelJson.ToJson(model);
        var tensors = new List<SafeTensor>();
        var layers = json["layers"]!.AsArray();
        int D = model.Dimension;
        for (int l = 0; l < model.Layers.Count; l++)
        {
            var lo = layers[l]!.AsObject();
            string p = $"layer{l:D2}";
            if (model.Layers[l] is AttentionLayer a)
            {
                var heads = lo["heads"]!.AsArray();
                for (int h = 0; h < a.Heads.Length; h++)
                {
                    var head = a.Heads[h]; var ho = heads[h]!.AsObject();
                    string hp = $"{p}.head{h}";
                    ho["Q"] = Dense(tensors, hp + ".Q", head.Query, dtype);
                    ho["K"] = Dense(tensors, hp + ".K", head.Key, dtype);
                    var rows = head.Value.NonZeroRows();
                    var v = new double[rows.Length * D];
                    var index = new Dictionary<int, int>();
                    for (int r = 0; r < rows.Length; r++) index[rows[r]] = r;
                    for (int e = 0; e < head.Value.NonZeros; e++) v[index[head.Value.RowIndex[e]] * D + head.Value.ColIndex[e]] = head.Value.Values[e];
                    tensors.Add(new SafeTensor(hp + ".V", dtype, new long[] { rows.Length, D }, v));
                    tensors.Add(new SafeTensor(hp + ".V_rows", "I64", new long[] { rows.Length }, rows.Select(r => (double)r).ToArray()));
                    ho["V"] = new JsonObject { ["rows"] = D, ["cols"] = D, ["tensor"] = hp + ".V", ["rowsTensor"] = hp + ".V_rows" };
                }
            }
            else if (model.Layers[l] is MlpLayer m)
            {
                lo["W1"] = Dense(tensors, p + ".mlp.W1", m.W1, dtype);
                lo["b1"] = Vector(tensors, p + ".mlp.b1", m.B1, dtype);
                lo["W2"] = Dense(tensors, p + ".mlp.W2", m.W2, dtype);
                lo["b2"] = Vector(tensors, p + ".mlp.b2", m.B2, dtype);
            }
        }
        if (precision == ExportPrecision.Float) RoundToFloat(tensors, json);
        return (tensors, json);
    }

    /// <summary>
    /// A float export holds the weights rounded to float: the tensors say so exactly, and the model's
    /// weightsSha256 becomes the digest of the rounded weights (those of the model a reader gets back).
    /// </summary>
    private static void RoundToFloat(List<SafeTensor> tensors, JsonObject json)
    {
        foreach (var t in tensors.Where(t => t.DType == "F32"))
            for (int i = 0; i < t.Data.Length; i++) t.Data[i] = (float)t.Data[i];
        json.Remove("weightsSha256");
        var rounded = FromTensors(json, tensors.ToDictionary(t => t.Name, StringComparer.Ordinal), "the float export");
        json["weightsSha256"] = WeightsDigest.Of(rounded);
    }

    private static JsonObject Dense(List<SafeTensor> tensors, string name, SparseMatrix m, string dtype)
    {
        var data = new double[(long)m.Rows * m.Cols];
        for (int e = 0; e < m.NonZeros; e++) data[(long)m.RowIndex[e] * m.Cols + m.ColIndex[e]] = m.Values[e];
        tensors.Add(new SafeTensor(name, dtype, new long[] { m.Rows, m.Cols }, data));
        return new JsonObject { ["rows"] = m.Rows, ["cols"] = m.Cols, ["tensor"] = name };
    }

    private static JsonObject Vector(List<SafeTensor> tensors, string name, double[] v, string dtype)
    {
        tensors.Add(new SafeTensor(name, dtype, new long[] { v.Length }, (double[])v.Clone()));
        return new JsonObject { ["tensor"] = name };
    }

    /// <summary>The model from its JSON (tensor references) and tensors; every matrix is checked against its tensor, then the whole model by <see cref="ModelJson.FromJson(System.Text.Json.Nodes.JsonNode?, string, System.Action{string}?)"/>.</summary>
    public static TransformerModel FromTensors(JsonObject modelJson, IReadOnlyDictionary<string, SafeTensor> tensors, string source)
    {
        var json = modelJson.DeepClone().AsObject();
        var used = new HashSet<string>(StringComparer.Ordinal);
        SafeTensor Tensor(JsonNode? reference, string at, int dims)
        {
            string name = reference is JsonObject o && o["tensor"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new InputException($"{source}: {at} must name its tensor");
            if (!tensors.TryGetValue(name, out var t)) throw new InputException($"{source}: tensor '{name}' ({at}) is missing");
            if (t.Shape.Length != dims) throw new InputException($"{source}: tensor '{name}' has {t.Shape.Length} dimensions, expected {dims}");
            if (t.Data.Any(x => !double.IsFinite(x))) throw new InputException($"{source}: tensor '{name}' holds a value that is not finite");
            used.Add(name);
            return t;
        }
        JsonObject Sparse(JsonNode? reference, string at)
        {
            var t = Tensor(reference, at, 2);
            int rows = IntOf(reference!["rows"], at, source), cols = IntOf(reference["cols"], at, source);
            if (t.Shape[0] != rows || t.Shape[1] != cols) throw new InputException($"{source}: tensor '{t.Name}' is {t.Shape[0]}×{t.Shape[1]}, {at} says {rows}×{cols}");
            return SparseJson(rows, cols, t, null);
        }
        var layers = json["layers"] as JsonArray ?? throw new InputException($"{source}: the model has no layers array");
        for (int l = 0; l < layers.Count; l++)
        {
            string at = $"$.layers[{l}]";
            if (layers[l] is not JsonObject lo) continue;   // ModelJson.FromJson names the problem
            if (lo["heads"] is JsonArray heads)
                for (int h = 0; h < heads.Count; h++)
                {
                    if (heads[h] is not JsonObject ho) continue;
                    string hat = $"{at}.heads[{h}]";
                    ho["Q"] = Sparse(ho["Q"], hat + ".Q");
                    ho["K"] = Sparse(ho["K"], hat + ".K");
                    var vRef = ho["V"] as JsonObject;
                    var v = Tensor(vRef, hat + ".V", 2);
                    var rowsTensor = Tensor(vRef!["rowsTensor"] is JsonValue rv && rv.TryGetValue<string>(out var rn) ? new JsonObject { ["tensor"] = rn } : null, hat + ".V rowsTensor", 1);
                    int D = IntOf(vRef["rows"], hat + ".V", source);
                    var rowIndex = rowsTensor.Data.Select(r => r == Math.Floor(r) && r >= 0 && r < D ? (int)r : throw new InputException($"{source}: tensor '{rowsTensor.Name}' holds {r}, not a residual row 0 … {D - 1}")).ToArray();
                    if (rowIndex.Length != v.Shape[0] || v.Shape[1] != IntOf(vRef["cols"], hat + ".V", source))
                        throw new InputException($"{source}: tensor '{v.Name}' is {v.Shape[0]}×{v.Shape[1]} for {rowIndex.Length} rows of {vRef["cols"]} columns");
                    for (int r = 1; r < rowIndex.Length; r++)
                        if (rowIndex[r] <= rowIndex[r - 1]) throw new InputException($"{source}: tensor '{rowsTensor.Name}' must list rows in increasing order");
                    ho["V"] = SparseJson(D, (int)v.Shape[1], v, rowIndex);
                }
            else if (lo["kind"] is JsonValue kv && kv.TryGetValue<string>(out var kind) && kind == "mlp")
            {
                lo["W1"] = Sparse(lo["W1"], at + ".W1");
                lo["W2"] = Sparse(lo["W2"], at + ".W2");
                lo["b1"] = ParametersJson.Array(Tensor(lo["b1"], at + ".b1", 1).Data);
                lo["b2"] = ParametersJson.Array(Tensor(lo["b2"], at + ".b2", 1).Data);
            }
        }
        var extra = tensors.Keys.Where(k => !used.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).FirstOrDefault();
        if (extra is not null) throw new InputException($"{source}: tensor '{extra}' is not part of the model");
        // Through text, so that numbers read as ModelJson expects from a file.
        return ModelJson.FromJson(JsonNode.Parse(json.ToJsonString()), source);
    }

    private static int IntOf(JsonNode? n, string at, string source) =>
        n is JsonValue v && v.TryGetValue<int>(out var i) ? i : throw new InputException($"{source}: {at} must give rows and cols");

    /// <summary>ModelJson's sparse form of a dense tensor (rows × cols), or of the rows <paramref name="rowIndex"/> of a rows × cols matrix.</summary>
    private static JsonObject SparseJson(int rows, int cols, SafeTensor t, int[]? rowIndex)
    {
        var entries = new JsonArray();
        int r = (int)t.Shape[0];
        for (int i = 0; i < r; i++)
            for (int j = 0; j < cols; j++)
            {
                double x = t.Data[(long)i * cols + j];
                if (x != 0) entries.Add(new JsonArray(rowIndex is null ? i : rowIndex[i], j, x));
            }
        return new JsonObject { ["rows"] = rows, ["cols"] = cols, ["entries"] = entries };
    }
}
