using System.Text.Json;
using System.Text.Json.Nodes;
using MorIcl.Construction;
using MorIcl.Construction.Model;

namespace MorIcl.IO;

/// <summary>
/// A constructed transformer as JSON (<c>mor-icl construct --out model.json</c>): the specification, the
/// residual layout, the embedding, every layer's weights as sparse matrices
/// <c>{"rows": r, "cols": c, "entries": [[i, j, v], …]}</c> with provenance and domain, and the read-out.
/// Reading rebuilds the model from the file's weights (not by recompiling), checking every shape,
/// index and number, so an edited or damaged file is reported with the JSON path that is wrong.
/// <para>
/// Integrity: <c>"weightsSha256"</c> is the SHA-256 of the weights (<see cref="WeightsDigest"/>); a file
/// whose weights do not hash to it is damaged (an input error). Files written before the hash existed
/// have none: they are read, with a warning that their integrity is not checked. <c>"origin"</c> is
/// "construction" (the default, also for files without it), "trained" or "hand-built"
/// (<see cref="ModelOrigin"/>).
/// </para>
/// </summary>
public static class ModelJson
{
    public const string Format = "moricl-transformer";
    public const int Version = 1;

    public static JsonObject ToJson(TransformerModel m)
    {
        var s = m.Spec;
        return new JsonObject
        {
            ["format"] = Format,
            ["version"] = Version,
            ["origin"] = OriginName(m.Origin),
            ["weightsSha256"] = WeightsDigest.Of(m),
            ["spec"] = new JsonObject
            {
                ["dimension"] = s.Dimension, ["components"] = s.Components, ["sigma"] = s.Sigma,
                ["mixing"] = ParametersJson.Array(s.Mixing), ["emIterations"] = s.EmIterations, ["gradientSteps"] = s.GradientSteps,
                ["stepSize"] = s.StepSize, ["initialBeta"] = new JsonArray(s.InitialBeta.Select(b => (JsonNode)ParametersJson.Array(b)).ToArray()),
                ["margin"] = s.Margin, ["maxPromptLength"] = s.MaxPromptLength, ["symmetric"] = s.Symmetric,
                ["estimateMixing"] = s.EstimateMixing, ["mixingFloor"] = s.MixingFloor,
            },
            ["dimension"] = m.Dimension,
            ["layout"] = new JsonArray(m.Layout.Blocks.Select(b => (JsonNode)new JsonObject { ["name"] = b.Name, ["start"] = b.Start, ["width"] = b.Width, ["description"] = b.Description }).ToArray()),
            ["embedding"] = new JsonObject
            {
                ["positionBase"] = m.Embedding.PositionBase,
                ["auxiliaryTokens"] = new JsonArray(m.Embedding.AuxiliaryNames.Select(a => (JsonNode)JsonValue.Create(a)!).ToArray()),
            },
            ["readOut"] = new JsonObject
            {
                ["prediction"] = m.ReadOut.Prediction,
                ["beta"] = new JsonArray(m.ReadOut.Beta.Select(b => (JsonNode)JsonValue.Create(b.Name)!).ToArray()),
                ["responsibilities"] = m.ReadOut.Responsibilities is null ? null : new JsonArray(m.ReadOut.Responsibilities.Select(r => (JsonNode)JsonValue.Create(r)).ToArray()),
                ["symmetricWeightPlusOne"] = m.ReadOut.SymmetricWeightPlusOne,
                ["mixing"] = m.ReadOut.Mixing?.Name,
            },
            ["layers"] = new JsonArray(m.Layers.Select(LayerJson).ToArray()),
        };
    }

    private static JsonNode LayerJson(Layer layer)
    {
        var p = layer.Provenance;
        var o = new JsonObject
        {
            ["kind"] = layer is AttentionLayer ? "attention" : "mlp",
            ["operator"] = p.Operator, ["emIteration"] = p.EmIteration, ["innerStep"] = p.InnerStep,
            ["statement"] = p.Statement, ["description"] = p.Description, ["decode"] = p.Decode.ToString(), ["domain"] = layer.Domain,
        };
        if (layer is AttentionLayer a)
            o["heads"] = new JsonArray(a.Heads.Select(h => (JsonNode)new JsonObject
            {
                ["name"] = h.Name, ["activation"] = ActivationNames.Key(h.Activation), ["description"] = h.Description,
                ["positionalDims"] = h.PositionalDims,
                ["admission"] = new JsonObject { ["roles"] = h.Admission.Roles, ["table"] = new JsonArray(h.Admission.Table.Select(t => (JsonNode)JsonValue.Create((int)t)).ToArray()) },
                ["Q"] = Sparse(h.Query), ["K"] = Sparse(h.Key), ["V"] = Sparse(h.Value),
            }).ToArray());
        else if (layer is MlpLayer m)
        {
            o["W1"] = Sparse(m.W1); o["b1"] = ParametersJson.Array(m.B1);
            o["W2"] = Sparse(m.W2); o["b2"] = ParametersJson.Array(m.B2);
            if (m.InputRanges.Length > 0)
            {
                o["inputRanges"] = new JsonArray(m.InputRanges.Select(r => (JsonNode)new JsonArray(r.Row, r.Lo, r.Hi)).ToArray());
                o["declaredError"] = m.DeclaredError;
            }
        }
        return o;
    }

    private static JsonObject Sparse(SparseMatrix m) => new()
    {
        ["rows"] = m.Rows, ["cols"] = m.Cols,
        ["entries"] = new JsonArray(Enumerable.Range(0, m.NonZeros).Select(e => (JsonNode)new JsonArray(m.RowIndex[e], m.ColIndex[e], m.Values[e])).ToArray()),
    };

    public static void Write(string path, TransformerModel model) =>
        AtomicFile.Write(path, stream =>
        {
            using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false });
            ToJson(model).WriteTo(w);
        });

    /// <summary>"construction", "trained" or "hand-built".</summary>
    public static string OriginName(ModelOrigin o) => o switch
    {
        ModelOrigin.Trained => "trained",
        ModelOrigin.HandBuilt => "hand-built",
        _ => "construction",
    };

    /// <summary>Reads a model file; <paramref name="warn"/> hears about a file without a weights hash, or whose weights no longer match it.</summary>
    public static TransformerModel Read(string path, Action<string>? warn = null) => Read(path, out _, warn);

    /// <summary>
    /// Reads a model file. <paramref name="weightsDigestMatches"/> is whether the weights hash to the file's
    /// <c>weightsSha256</c> (null when the file carries none). A mismatch is not an input error: the file's
    /// weights were changed after it was written (edited by hand, or damaged), and they are run as they
    /// are — <see cref="Runtime.SpecificationMatch"/> then tells whether they are still the construction
    /// of the stated spec, and the proof checks hold them to it.
    /// </summary>
    public static TransformerModel Read(string path, out bool? weightsDigestMatches, Action<string>? warn = null)
    {
        if (!File.Exists(path)) throw new InputException($"{path}: file not found");
        JsonNode? root;
        try
        {
            using var stream = File.OpenRead(path);
            root = JsonNode.Parse(stream, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e) { throw new InputException($"{path}:{(e.LineNumber ?? 0) + 1}: not valid JSON ({e.Message.Split(". ")[0]})", e); }
        catch (IOException e) { throw new InputException($"{path}: cannot read ({e.Message})", e); }
        return FromJson(root, path, out weightsDigestMatches, warn);
    }

    public static TransformerModel FromJson(JsonNode? root, string source, Action<string>? warn = null) => FromJson(root, source, out _, warn);

    /// <summary>The model of a model file's JSON; see <see cref="Read(string, out bool?, Action{string}?)"/> for <paramref name="weightsDigestMatches"/>.</summary>
    public static TransformerModel FromJson(JsonNode? root, string source, out bool? weightsDigestMatches, Action<string>? warn = null)
    {
        var r = new Reader(source);
        var o = r.Obj(root, "$");
        if (r.Str(o, "format", "$") != Format) throw r.Error("$.format", $"is not '{Format}' (not a MorIcl model file)");
        int version = r.Int(o, "version", "$");
        if (version != Version) throw r.Error("$.version", $"is {version}; this MorIcl reads version {Version}");

        var so = r.Obj(o["spec"], "$.spec");
        ConstructionSpec spec;
        try
        {
            spec = new ConstructionSpec(r.Int(so, "dimension", "$.spec"), r.Int(so, "components", "$.spec"), r.Num(so["sigma"], "$.spec.sigma"),
                r.Nums(so["mixing"], "$.spec.mixing"), r.Int(so, "emIterations", "$.spec"), r.Int(so, "gradientSteps", "$.spec"),
                r.Num(so["stepSize"], "$.spec.stepSize"), r.Arr(so["initialBeta"], "$.spec.initialBeta").Select((b, k) => r.Nums(b, $"$.spec.initialBeta[{k}]")).ToArray(),
                r.Num(so["margin"], "$.spec.margin"), r.Int(so, "maxPromptLength", "$.spec"), r.Bool(so, "symmetric", "$.spec"),
                so["estimateMixing"] is null ? false : r.Bool(so, "estimateMixing", "$.spec"), so["mixingFloor"] is null ? 1e-3 : r.Num(so["mixingFloor"], "$.spec.mixingFloor"));
        }
        catch (ConstructionException e) { throw r.Error("$.spec", e.Message); }

        int dim = r.Int(o, "dimension", "$");
        var layout = new ResidualLayout();
        var blocks = r.Arr(o["layout"], "$.layout");
        for (int b = 0; b < blocks.Count; b++)
        {
            var bo = r.Obj(blocks[b], $"$.layout[{b}]");
            int start = r.Int(bo, "start", $"$.layout[{b}]"), width = r.Int(bo, "width", $"$.layout[{b}]");
            if (start != layout.Dimension || width < 1) throw r.Error($"$.layout[{b}]", $"block starts at {start} with width {width}; blocks must tile the rows in order from 0");
            try { layout.Allocate(r.Str(bo, "name", $"$.layout[{b}]"), width, bo["description"]?.GetValue<string>() ?? ""); }
            catch (InvalidOperationException e) { throw r.Error($"$.layout[{b}]", e.Message); }
        }
        if (layout.Dimension != dim) throw r.Error("$.dimension", $"is {dim} but the layout has {layout.Dimension} rows");

        var eo = r.Obj(o["embedding"], "$.embedding");
        var aux = r.Arr(eo["auxiliaryTokens"], "$.embedding.auxiliaryTokens").Select((a, i) => a is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw r.Error($"$.embedding.auxiliaryTokens[{i}]", "must be a string")).ToArray();
        int posBase = r.Int(eo, "positionBase", "$.embedding");
        if (posBase < 2) throw r.Error("$.embedding.positionBase", "must be at least 2");
        LayoutBlock Block(string name)
        {
            if (!layout.Contains(name)) throw r.Error("$.layout", $"has no block '{name}', which the embedding needs");
            return layout[name];
        }
        var embedding = new Embedding(dim, spec.Dimension, Block("x"), Block("y"), Block("t"), Block("is_query"), Block("one"), Block("positioned"), Block("pos"), Block("pos_sq"), Block("aux"), aux, posBase);
        if (embedding.X.Width != spec.Dimension) throw r.Error("$.layout", $"block 'x' has {embedding.X.Width} rows but the spec has d = {spec.Dimension}");
        if (embedding.PositionDigitSquares.Width != embedding.Digits) throw r.Error("$.layout", "blocks 'pos' and 'pos_sq' differ in width");
        if (aux.Length > embedding.AuxiliaryFlags.Width) throw r.Error("$.embedding.auxiliaryTokens", $"names {aux.Length} tokens but block 'aux' has {embedding.AuxiliaryFlags.Width} rows");
        int roles = TokenRoles.Count(aux.Length);

        var ro = r.Obj(o["readOut"], "$.readOut");
        int pred = r.Row(ro["prediction"], "$.readOut.prediction", dim);
        var betaBlocks = r.Arr(ro["beta"], "$.readOut.beta").Select((b, i) => b is JsonValue v && v.TryGetValue<string>(out var s) && layout.Contains(s) ? layout[s] : throw r.Error($"$.readOut.beta[{i}]", "must name a layout block")).ToArray();
        var resp = ro["responsibilities"] is JsonArray ra ? ra.Select((x, i) => r.Row(x, $"$.readOut.responsibilities[{i}]", dim)).ToArray() : null;
        int wp = ro["symmetricWeightPlusOne"] is JsonNode wn ? r.IntNode(wn, "$.readOut.symmetricWeightPlusOne") : -1;
        LayoutBlock? mixingBlock = ro["mixing"] is JsonValue mv && mv.TryGetValue<string>(out var mixingName)
            ? (layout.Contains(mixingName) ? layout[mixingName] : throw r.Error("$.readOut.mixing", "must name a layout block")) : null;

        var layersNode = r.Arr(o["layers"], "$.layers");
        var layers = new List<Layer>();
        for (int l = 0; l < layersNode.Count; l++)
        {
            string at = $"$.layers[{l}]";
            var lo = r.Obj(layersNode[l], at);
            Enum.TryParse<DecodeKind>(lo["decode"]?.GetValue<string>() ?? "None", out var decode);
            var prov = new Provenance(r.Str(lo, "operator", at), r.Int(lo, "emIteration", at), r.Int(lo, "innerStep", at),
                lo["statement"]?.GetValue<string>() ?? "", lo["description"]?.GetValue<string>() ?? "", decode);
            string domain = lo["domain"]?.GetValue<string>() ?? "";
            switch (r.Str(lo, "kind", at))
            {
                case "attention":
                    var heads = r.Arr(lo["heads"], at + ".heads");
                    var hs = new AttentionHead[heads.Count];
                    for (int h = 0; h < heads.Count; h++)
                    {
                        string hat = $"{at}.heads[{h}]";
                        var ho = r.Obj(heads[h], hat);
                        string actName = r.Str(ho, "activation", hat);
                        var act = ActivationNames.Parse(actName) ?? throw r.Error(hat + ".activation", $"is '{actName}'; expected relu or softmax (or linear)");
                        var q = r.Sparse(ho["Q"], hat + ".Q", null, dim);
                        var k = r.Sparse(ho["K"], hat + ".K", q.Rows, dim);
                        var v = r.Sparse(ho["V"], hat + ".V", dim, dim);
                        var ao = r.Obj(ho["admission"], hat + ".admission");
                        if (r.Int(ao, "roles", hat + ".admission") != roles) throw r.Error(hat + ".admission.roles", $"must be {roles} (example, query and {aux.Length} auxiliary tokens)");
                        var table = r.Arr(ao["table"], hat + ".admission.table").Select((x, i) => r.IntNode(x, $"{hat}.admission.table[{i}]") is var t && t is >= 0 and <= 2 ? (Admit)t : throw r.Error($"{hat}.admission.table[{i}]", "must be 0, 1 or 2")).ToArray();
                        if (table.Length != roles * roles) throw r.Error(hat + ".admission.table", $"has {table.Length} entries, expected {roles * roles}");
                        int pos = r.Int(ho, "positionalDims", hat);
                        if (pos < 0 || pos > q.Rows) throw r.Error(hat + ".positionalDims", $"must be between 0 and the head dimension {q.Rows}");
                        var admission = new Admission(roles, table);
                        if (act == Activation.Linear && !admission.AdmitsAll) throw r.Error(hat + ".admission.table", "a linear head must admit every pair (all entries 1)");
                        hs[h] = new AttentionHead(r.Str(ho, "name", hat), act, q, k, v, pos, admission, ho["description"]?.GetValue<string>() ?? "");
                    }
                    layers.Add(new AttentionLayer(hs, prov, domain));
                    break;
                case "mlp":
                    var w1 = r.Sparse(lo["W1"], at + ".W1", null, dim);
                    var b1 = r.Nums(lo["b1"], at + ".b1");
                    var w2 = r.Sparse(lo["W2"], at + ".W2", dim, w1.Rows);
                    var b2 = r.Nums(lo["b2"], at + ".b2");
                    if (b1.Length != w1.Rows) throw r.Error(at + ".b1", $"has {b1.Length} numbers, expected {w1.Rows}");
                    if (b2.Length != dim) throw r.Error(at + ".b2", $"has {b2.Length} numbers, expected {dim}");
                    var ranges = lo["inputRanges"] is JsonArray ra2
                        ? ra2.Select((x, i) => { var t = r.Arr(x, $"{at}.inputRanges[{i}]"); return new InputRange(r.Row(t[0], $"{at}.inputRanges[{i}][0]", dim), r.Num(t[1], $"{at}.inputRanges[{i}][1]"), r.Num(t[2], $"{at}.inputRanges[{i}][2]")); }).ToArray()
                        : null;
                    double declared = lo["declaredError"] is JsonNode de ? r.Num(de, at + ".declaredError") : 0;
                    layers.Add(new MlpLayer(w1, b1, w2, b2, prov, domain, ranges, declared));
                    break;
                default:
                    throw r.Error(at + ".kind", "must be attention or mlp");
            }
        }
        var origin = o["origin"] is null ? ModelOrigin.Construction : r.Str(o, "origin", "$") switch
        {
            "construction" => ModelOrigin.Construction,
            "trained" => ModelOrigin.Trained,
            "hand-built" => ModelOrigin.HandBuilt,
            var other => throw r.Error("$.origin", $"is '{other}'; expected construction, trained or hand-built"),
        };
        var model = new TransformerModel(spec, layout, embedding, layers, new ReadOut(pred, betaBlocks, resp, wp, mixingBlock), spec.Margin, origin);
        weightsDigestMatches = null;
        if (o["weightsSha256"] is null) warn?.Invoke($"{source}: no weightsSha256 (written before model files carried one): the weights' integrity is not checked");
        else
        {
            string stated = r.Str(o, "weightsSha256", "$"), actual = WeightsDigest.Of(model);
            weightsDigestMatches = string.Equals(stated, actual, StringComparison.OrdinalIgnoreCase);
            if (weightsDigestMatches == false)
                warn?.Invoke($"{source}: $.weightsSha256 is {stated} but the weights hash to {actual}: the weights were changed after the file was written "
                    + "(edited by hand, or damaged); they are run as they are, and the specification match says whether they are still the construction of the stated spec");
        }
        return model;
    }

    /// <summary>Typed access to JSON with errors that name the file and the JSON path.</summary>
    private sealed class Reader(string source)
    {
        public InputException Error(string path, string message) => new($"{source}: {path} {message}");

        public JsonObject Obj(JsonNode? n, string path) => n as JsonObject ?? throw Error(path, "must be a JSON object");
        public JsonArray Arr(JsonNode? n, string path) => n as JsonArray ?? throw Error(path, "must be a JSON array");
        public string Str(JsonObject o, string key, string path) => o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw Error($"{path}.{key}", "must be a string");
        public bool Bool(JsonObject o, string key, string path) => o[key] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : throw Error($"{path}.{key}", "must be true or false");
        public int Int(JsonObject o, string key, string path) => IntNode(o[key], $"{path}.{key}");
        public int IntNode(JsonNode? n, string path) =>
            n is JsonValue v && v.TryGetValue<double>(out var d) && d == Math.Floor(d) && d >= int.MinValue && d <= int.MaxValue ? (int)d : throw Error(path, "must be a whole number");
        public int Row(JsonNode? n, string path, int dim) { int r = IntNode(n, path); return r >= 0 && r < dim ? r : throw Error(path, $"is {r}, outside the {dim} residual rows"); }
        public double Num(JsonNode? n, string path) =>
            n is JsonValue v && v.TryGetValue<double>(out var d) ? (double.IsFinite(d) ? d : throw Error(path, "is not finite")) : throw Error(path, "must be a number");
        public double[] Nums(JsonNode? n, string path) => Arr(n, path).Select((x, i) => Num(x, $"{path}[{i}]")).ToArray();

        public SparseMatrix Sparse(JsonNode? n, string path, int? rows, int cols)
        {
            var o = Obj(n, path);
            int r = Int(o, "rows", path), c = Int(o, "cols", path);
            if (rows is int want && r != want) throw Error(path + ".rows", $"is {r}, expected {want}");
            if (c != cols) throw Error(path + ".cols", $"is {c}, expected {cols}");
            if (r < 0) throw Error(path + ".rows", "must be ≥ 0");
            var entries = Arr(o["entries"], path + ".entries");
            var b = new SparseMatrix.Builder(r, c);
            var seen = new HashSet<long>();
            for (int e = 0; e < entries.Count; e++)
            {
                var t = Arr(entries[e], $"{path}.entries[{e}]");
                if (t.Count != 3) throw Error($"{path}.entries[{e}]", "must be [row, col, value]");
                int i = IntNode(t[0], $"{path}.entries[{e}][0]"), j = IntNode(t[1], $"{path}.entries[{e}][1]");
                if (i < 0 || i >= r || j < 0 || j >= c) throw Error($"{path}.entries[{e}]", $"({i}, {j}) lies outside the {r}x{c} matrix");
                if (!seen.Add((long)i * c + j)) throw Error($"{path}.entries[{e}]", $"repeats entry ({i}, {j})");
                b.Add(i, j, Num(t[2], $"{path}.entries[{e}][2]"));
            }
            return b.Build();
        }
    }
}
