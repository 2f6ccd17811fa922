using MorIcl.Construction.Model;
using Onnx;

namespace MorIcl.Export;

/// <summary>
/// A <see cref="TransformerModel"/> (constructed, hand-built, or the constructed architecture with
/// trained weights) as one ONNX graph that takes the raw prompt — <c>x</c> (n × d), <c>y</c> (n),
/// <c>query</c> (d), n dynamic — and computes what <see cref="Runtime.ModelExecutor{T}"/> computes
/// (docs/math.md §3):
/// <list type="bullet">
/// <item>the embedding inside the graph (<see cref="Embedding.WriteToken"/>): position digits
/// ⌊p / base^k⌋ mod base by int64 Div/Mod, their squares, flags and auxiliary tokens, assembled as a
/// feature matrix and placed into the D residual rows by a 0/1 matrix (each row receives one product
/// by 1 and exact zeros, so the placement is exact);</item>
/// <item>every head on the columns its Q, K, V read (as the compiled runtime does), with the score
/// split into its positional and content parts: <c>S = Q_pos K_posᵀ + Q_cont K_contᵀ</c>. The
/// positional part is a sum of products of integers (digits, squares, R) whose partial sums are
/// integers far below 2^53, so it is exact in any summation order, and cancels to exactly 0 for
/// admitted pairs; adding the content part to it is then exact too — the same guarantee the runtime
/// gets from summing positional dimensions first;</item>
/// <item>ReLU and linear heads as <c>(act(S) V)·(1/N)</c>, softmax heads as
/// <c>(exp(S − max) V) / Σ exp(S − max)</c>, head outputs summed in head order and added to the stream
/// (the runtime's order); MLPs as <c>W2 ReLU(W1 h + b1) + b2</c>;</item>
/// <item>outputs <c>prediction</c> (scalar), <c>beta</c> (K × d; the symmetric program: β̂ and −β̂),
/// <c>responsibilities</c> (n × K, after the last E-step) or, for the symmetric program, <c>weights</c>
/// (n, w_i), <c>mixing</c> (K) when π is estimated, and <c>positions_in_range</c> (n ≤ the model's
/// maximum prompt length, <see cref="TransformerModel.MaxPromptLength"/>; past the positional scheme
/// digits wrap around, as in the runtime).</item>
/// </list>
/// </summary>
internal static class ConstructedOnnx
{
    public static ModelProto Build(TransformerModel model, ExportPrecision precision, IReadOnlyDictionary<string, string> metadata)
    {
        var g = new OnnxGraph("moricl_transformer", precision);
        var e = model.Embedding;
        int d = e.InputDimension;
        g.Input("x", "n", d); g.Input("y", "n"); g.Input("query", d);
        var (h, n, invN) = Embed(g, model);
        string? responsibilities = null, weights = null;
        for (int l = 0; l < model.Layers.Count; l++)
        {
            h = model.Layers[l] switch
            {
                AttentionLayer a => Attention(g, a, h, invN, model.Dimension, l),
                MlpLayer m => Mlp(g, m, h, model.Dimension, l),
                _ => throw new InvalidOperationException($"layer {l}: unknown layer type"),
            };
            var decode = model.Layers[l].Provenance.Decode;
            if (decode == DecodeKind.Responsibilities && model.ReadOut.Responsibilities is { } rows)
                responsibilities = g.Columns(ExampleRows(g, h, n), rows, "responsibilities_l");
            if (decode == DecodeKind.SymmetricWeights && model.ReadOut.SymmetricWeightPlusOne >= 0)
                weights = g.Sub(g.Node("Gather", "w_plus_one", new[] { ExampleRows(g, h, n), g.IntScalar("row", model.ReadOut.SymmetricWeightPlusOne) }, OnnxGraph.Int("axis", 1)), g.RealScalar("one", 1), "w");
        }
        ReadOut(g, model, h, n, responsibilities, weights);
        var doc = $"MorIcl transformer: {model.Layers.Count} layers, D = {model.Dimension}, d = {d}; inputs x (n × d), y (n), query (d) for n ≤ {model.MaxPromptLength} "
            + "(beyond it the model is not certified and positions_in_range is false; past the positional scheme, digits wrap around as in the runtime). Computes what mor-icl run computes; see docs/export.md.";
        return g.Build(doc, metadata);
    }

    /// <summary>The embedded prompt H (N × D), n (int64 scalar) and 1/N (real scalar).</summary>
    private static (string H, string N, string InvN) Embed(OnnxGraph g, TransformerModel model)
    {
        var e = model.Embedding;
        int d = e.InputDimension, A = e.AuxiliaryCount, P = e.Digits, W = 4 + A;
        string n = g.Node("Gather", "n", new[] { g.Node("Shape", "shape_x", new[] { "x" }), g.IntScalar("zero", 0) }, OnnxGraph.Int("axis", 0));
        string nVec = g.Unsqueeze(n, 0, "n_vec");
        string positioned = g.Add(n, g.IntScalar("one", 1), "n_plus_1");
        string tokens = g.Add(positioned, g.IntScalar("aux_count", A), "N");
        string invN = g.Div(g.RealScalar("one", 1), g.Node("Cast", "N_real", new[] { tokens }, OnnxGraph.Int("to", g.RealType)), "inv_N");

        // Position p = token index for the n examples and the query; digit k = ⌊p / base^k⌋ mod base.
        string index = g.Unsqueeze(g.Node("Range", "p", new[] { g.IntScalar("zero", 0), positioned, g.IntScalar("one", 1) }), 1, "p_col");
        var powers = new long[P];
        for (int k = 0; k < P; k++) powers[k] = k == 0 ? 1 : checked(powers[k - 1] * e.PositionBase);
        string digits = g.Node("Mod", "digits_int", new[] { g.Div(index, g.Int64("powers", powers, 1, P), "p_shifted"), g.IntScalar("base", e.PositionBase) });
        digits = g.Node("Cast", "digits", new[] { digits }, OnnxGraph.Int("to", g.RealType));
        string squares = g.Mul(digits, digits, "digit_squares");
        string Pad(string t, int width, string name) => A == 0 ? t : g.Concat(0, name, t, g.Real(name + "_aux", new double[A * width], A, width));

        string queryRow = g.Unsqueeze("query", 0, "query_row");
        string xs = A == 0 ? g.Concat(0, "token_x", "x", queryRow) : g.Concat(0, "token_x", "x", queryRow, g.Real("aux_x", new double[A * d], A, d));
        string ys = g.Unsqueeze(g.Concat(0, "token_y_flat", "y", g.Real("query_aux_y", new double[1 + A], 1 + A)), 1, "token_y");
        // Flags [t, is_query, one, positioned, aux_0 … aux_{A−1}] per role.
        var example = new double[W]; example[0] = 1; example[2] = 1; example[3] = 1;
        var query = new double[W]; query[1] = 1; query[2] = 1; query[3] = 1;
        var aux = new double[A * W];
        for (int a = 0; a < A; a++) { aux[a * W + 2] = 1; aux[a * W + 4 + a] = 1; }
        string exampleFlags = g.Node("Expand", "example_flags", new[] { g.Real("example_flag_row", example, 1, W), g.Concat(0, "example_flags_shape", nVec, g.Ints("width", W)) });
        string flags = A == 0 ? g.Concat(0, "flags", exampleFlags, g.Real("query_flag_row", query, 1, W))
            : g.Concat(0, "flags", exampleFlags, g.Real("query_flag_row", query, 1, W), g.Real("aux_flag_rows", aux, A, W));
        string features = g.Concat(1, "features", xs, ys, flags, Pad(digits, P, "digits_all"), Pad(squares, P, "digit_squares_all"));

        // Feature column → residual row (0/1 placement).
        var rows = new List<int>();
        for (int a = 0; a < d; a++) rows.Add(e.X[a]);
        rows.AddRange(new[] { e.Y.Row, e.IsExample.Row, e.IsQuery.Row, e.One.Row, e.Positioned.Row });
        for (int a = 0; a < A; a++) rows.Add(e.AuxiliaryFlags[a]);
        for (int k = 0; k < P; k++) rows.Add(e.PositionDigits[k]);
        for (int k = 0; k < P; k++) rows.Add(e.PositionDigitSquares[k]);
        string h = g.MatMul(features, Placement(g, rows.ToArray(), model.Dimension, "embedding_placement"), "h0");
        return (h, n, invN);
    }

    /// <summary>A 0/1 matrix (k × D) that moves column c of its input to residual row rows[c].</summary>
    private static string Placement(OnnxGraph g, int[] rows, int D, string name)
    {
        var m = new double[rows.Length * D];
        for (int c = 0; c < rows.Length; c++) m[c * D + rows[c]] = 1;
        return g.Real(name, m, rows.Length, D);
    }

    /// <summary>[N, r1 − r0]: rows r0 … r1−1 of M applied to every token, reading only M's non-zero columns.</summary>
    private static string Project(OnnxGraph g, string h, SparseMatrix m, int r0, int r1, string name)
    {
        var cols = new SortedSet<int>();
        for (int e = 0; e < m.NonZeros; e++) if (m.RowIndex[e] >= r0 && m.RowIndex[e] < r1) cols.Add(m.ColIndex[e]);
        if (cols.Count == 0) cols.Add(0);   // all-zero rows: one column with zero weights (finite inputs give exact zeros)
        var colList = cols.ToArray();
        var pos = new Dictionary<int, int>();
        for (int c = 0; c < colList.Length; c++) pos[colList[c]] = c;
        int width = r1 - r0;
        var w = new double[colList.Length * width];
        for (int e = 0; e < m.NonZeros; e++)
            if (m.RowIndex[e] >= r0 && m.RowIndex[e] < r1) w[pos[m.ColIndex[e]] * width + m.RowIndex[e] - r0] = m.Values[e];
        return g.MatMul(g.Columns(h, colList, name + "_in"), g.Real(name + "_w", w, colList.Length, width), name);
    }

    private static string Attention(OnnxGraph g, AttentionLayer layer, string h, string invN, int D, int l)
    {
        string? delta = null;
        for (int hi = 0; hi < layer.Heads.Length; hi++)
        {
            var head = layer.Heads[hi];
            var outRows = head.Value.NonZeroRows();
            if (outRows.Length == 0) continue;   // writes nothing
            string p = $"l{l}_h{hi}";
            string scores = Scores(g, head, h, p);
            string values = Project(g, h, RowsOf(head.Value, outRows), 0, outRows.Length, p + "_v");
            string o = head.Activation switch
            {
                Activation.Relu => g.Mul(g.MatMul(g.Node("Relu", p + "_relu", new[] { scores }), values, p + "_wv"), invN, p + "_out"),
                Activation.Linear => g.Mul(g.MatMul(scores, values, p + "_wv"), invN, p + "_out"),
                Activation.Softmax => Softmax(g, scores, values, p),
                _ => throw new InvalidOperationException($"{p}: unknown activation {head.Activation}"),
            };
            string placed = g.MatMul(o, Placement(g, outRows, D, p + "_place"), p + "_delta");
            delta = delta is null ? placed : g.Add(delta, placed, $"l{l}_delta");
        }
        return delta is null ? h : g.Add(h, delta, $"h{l + 1}");
    }

    /// <summary>V restricted to its non-zero rows, so that row r of the result is V's row outRows[r].</summary>
    private static SparseMatrix RowsOf(SparseMatrix v, int[] outRows)
    {
        var b = new SparseMatrix.Builder(outRows.Length, v.Cols);
        var index = new Dictionary<int, int>();
        for (int r = 0; r < outRows.Length; r++) index[outRows[r]] = r;
        for (int e = 0; e < v.NonZeros; e++) b.Add(index[v.RowIndex[e]], v.ColIndex[e], v.Values[e]);
        return b.Build();
    }

    /// <summary>S = Q_pos K_posᵀ + Q_cont K_contᵀ (N × N): the positional part is exact (see the class comment).</summary>
    private static string Scores(OnnxGraph g, AttentionHead head, string h, string p)
    {
        int dk = head.HeadDimension, pos = head.PositionalDims;
        var parts = new List<(int R0, int R1, string Name)>();
        if (pos > 0) parts.Add((0, pos, "pos"));
        if (dk > pos) parts.Add((pos, dk, "cont"));
        if (parts.Count == 0) parts.Add((0, 0, "empty"));
        string? s = null;
        foreach (var (r0, r1, name) in parts)
        {
            var q = r1 > r0 ? head.Query : new SparseMatrix(1, head.Query.Cols, Array.Empty<int>(), Array.Empty<int>(), Array.Empty<double>());
            var k = r1 > r0 ? head.Key : new SparseMatrix(1, head.Key.Cols, Array.Empty<int>(), Array.Empty<int>(), Array.Empty<double>());
            int end = r1 > r0 ? r1 : 1;
            string qp = Project(g, h, q, r0, end, $"{p}_q{name}"), kp = Project(g, h, k, r0, end, $"{p}_k{name}");
            string part = g.MatMul(qp, g.Transpose(kp, $"{p}_k{name}T"), $"{p}_s{name}");
            s = s is null ? part : g.Add(s, part, $"{p}_s");
        }
        return s!;
    }

    private static string Softmax(OnnxGraph g, string scores, string values, string p)
    {
        string max = g.Node("ReduceMax", p + "_max", new[] { scores }, OnnxGraph.IntList("axes", 1), OnnxGraph.Int("keepdims", 1));
        string w = g.Node("Exp", p + "_exp", new[] { g.Sub(scores, max, p + "_shifted") });
        string sum = g.Node("ReduceSum", p + "_sum", new[] { w, g.Ints("axes", 1) }, OnnxGraph.Int("keepdims", 1));
        return g.Div(g.MatMul(w, values, p + "_wv"), sum, p + "_out");
    }

    private static string Mlp(OnnxGraph g, MlpLayer m, string h, int D, int l)
    {
        string p = $"l{l}_mlp";
        int hidden = m.Hidden;
        string z = g.Node("Relu", p + "_z", new[] { g.Add(Project(g, h, m.W1, 0, hidden, p + "_w1"), g.Real(p + "_b1", m.B1, hidden), p + "_pre") });
        var outRows = m.W2.NonZeroRows();
        string delta = g.Real(p + "_b2", m.B2, D);
        if (outRows.Length > 0)
        {
            string o = Project(g, z, RowsOf(m.W2, outRows), 0, outRows.Length, p + "_w2");
            delta = g.Add(g.MatMul(o, Placement(g, outRows, D, p + "_place"), p + "_placed"), delta, p + "_delta");
        }
        return g.Add(h, delta, $"h{l + 1}");
    }

    /// <summary>Rows 0 … n−1 (the example tokens) of a stream.</summary>
    private static string ExampleRows(OnnxGraph g, string h, string n) =>
        g.Node("Slice", "examples", new[] { h, g.Ints("start", 0), g.Unsqueeze(n, 0, "n_end"), g.Ints("axis0", 0) });

    private static void ReadOut(OnnxGraph g, TransformerModel model, string h, string n, string? responsibilities, string? weights)
    {
        var r = model.ReadOut;
        string queryToken = g.Node("Gather", "query_token", new[] { h, n }, OnnxGraph.Int("axis", 0));
        g.Output(g.Node("Gather", "prediction_row", new[] { queryToken, g.IntScalar("prediction_index", r.Prediction) }, OnnxGraph.Int("axis", 0)), "prediction", g.RealType);
        int width = r.Beta.Length == 0 ? 0 : r.Beta[0].Width;
        if (r.Beta.Length > 0 && r.Beta.All(b => b.Width == width))
        {
            var idx = r.Beta.SelectMany(b => Enumerable.Range(0, width).Select(a => (long)b[a])).ToArray();
            string beta = g.Node("Gather", "beta_rows", new[] { queryToken, g.Int64("beta_index", idx, r.Beta.Length, width) }, OnnxGraph.Int("axis", 0));
            int k = r.Beta.Length;
            if (model.Spec.Symmetric && k == 1) { beta = g.Concat(0, "beta_pm", beta, g.Node("Neg", "minus_beta", new[] { beta })); k = 2; }
            g.Output(beta, "beta", g.RealType, k, width);
        }
        if (responsibilities is not null) g.Output(responsibilities, "responsibilities", g.RealType, "n", r.Responsibilities!.Length);
        if (weights is not null) g.Output(weights, "weights", g.RealType, "n");
        if (r.Mixing is { } mix)
            g.Output(g.Node("Gather", "mixing_rows", new[] { queryToken, g.Ints("mixing_index", Enumerable.Range(0, mix.Width).Select(k => (long)mix[k]).ToArray()) }, OnnxGraph.Int("axis", 0)), "mixing", g.RealType, mix.Width);
        g.Output(g.Node("LessOrEqual", "in_range", new[] { n, g.IntScalar("max_prompt_length", model.MaxPromptLength) }), "positions_in_range", (int)TensorProto.Types.DataType.Bool);
    }
}
