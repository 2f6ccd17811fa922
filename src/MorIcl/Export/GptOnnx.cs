using MorIcl.Training.Gpt;
using Onnx;

namespace MorIcl.Export;

/// <summary>
/// A trained <see cref="GptModel"/> as one ONNX graph on the raw prompt (<c>x</c> n × d, <c>y</c> n,
/// <c>query</c> d), the forward pass of <see cref="GptModel"/>'s documentation step by step: tokens
/// [x_i; y_i] and [x_q; 0] times read_in.W plus read_in.b, the query marker added to the query row,
/// L pre-LayerNorm blocks (LayerNorm ε = 1e-5 with the biased variance, written out as mean and
/// variance so that it runs in double; softmax attention over all n + 1 tokens with scores scaled by
/// 1/√(D/H); a GELU MLP in the tanh approximation), the final LayerNorm of the query token and the
/// read-out. Output: <c>prediction</c> (scalar).
/// </summary>
internal static class GptOnnx
{
    public static ModelProto Build(GptModel model, ExportPrecision precision, IReadOnlyDictionary<string, string> metadata)
    {
        var c = model.Config;
        var g = new OnnxGraph("moricl_gpt2", precision);
        int d = c.InputDimension, D = c.Width, H = c.Heads, dk = c.HeadWidth, F = c.HiddenWidth;
        g.Input("x", "n", d); g.Input("y", "n"); g.Input("query", d);
        string W(string name, params long[] dims)
        {
            var (offset, length) = model.Block(name);
            return g.Real(name, model.Parameters.AsSpan(offset, length), dims);
        }

        string n = g.Node("Gather", "n", new[] { g.Node("Shape", "shape_x", new[] { "x" }), g.IntScalar("zero", 0) }, OnnxGraph.Int("axis", 0));
        string examples = g.Concat(1, "example_tokens", "x", g.Unsqueeze("y", 1, "y_col"));
        string queryToken = g.Unsqueeze(g.Concat(0, "query_token_flat", "query", g.Real("query_label", new double[1], 1)), 0, "query_token");
        string tokens = g.Concat(0, "tokens", examples, queryToken);
        string h = g.Add(g.MatMul(tokens, W("read_in.W", d + 1, D), "read_in"), W("read_in.b", D), "h_in");
        // e_q on the query row only: a 0/1 column (1 at index n) times e_q adds exact zeros elsewhere.
        string isQuery = g.Node("Cast", "is_query", new[] { g.Node("Equal", "is_query_bool", new[] {
            g.Node("Range", "token_index", new[] { g.IntScalar("zero", 0), g.Add(n, g.IntScalar("one", 1), "tokens_count"), g.IntScalar("one", 1) }), n }) }, OnnxGraph.Int("to", g.RealType));
        h = g.Add(h, g.Mul(g.Unsqueeze(isQuery, 1, "is_query_col"), W("query_embedding", 1, D), "query_marker"), "h0");

        string shapeHeads = g.Ints("shape_heads", -1, H, dk), shapeFlat = g.Ints("shape_flat", -1, D);
        double scaleValue = precision == ExportPrecision.Double ? 1.0 / Math.Sqrt(dk) : 1f / MathF.Sqrt(dk);
        // The scale times an in-graph 1 (n = n): ONNX Runtime would otherwise fuse a constant scale into its
        // FusedMatMul, whose scale attribute is a float, and change double results by ~1e-11.
        string unit = g.Node("Cast", "unit", new[] { g.Node("Equal", "n_eq_n", new[] { n, n }) }, OnnxGraph.Int("to", g.RealType));
        string scale = g.Mul(g.RealScalar("score_scale_value", scaleValue), unit, "score_scale");
        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"block{l}.";
            string a1 = LayerNorm(g, h, W(p + "ln1.gamma", D), W(p + "ln1.beta", D), D, $"b{l}_ln1");
            string Heads(string m, long[] perm, string name) =>
                g.Transpose(g.Node("Reshape", name + "_r", new[] { g.Add(g.MatMul(a1, W(p + "attn.W" + m, D, D), name + "_mm"), W(p + "attn.b" + m, D), name), shapeHeads }), name + "_t", perm);
            string q = Heads("q", new long[] { 1, 0, 2 }, $"b{l}_q");    // H × N × dk
            string k = Heads("k", new long[] { 1, 2, 0 }, $"b{l}_k");    // H × dk × N
            string v = Heads("v", new long[] { 1, 0, 2 }, $"b{l}_v");    // H × N × dk
            string probabilities = g.Node("Softmax", $"b{l}_p", new[] { g.Mul(g.MatMul(q, k, $"b{l}_s"), scale, $"b{l}_scaled") }, OnnxGraph.Int("axis", -1));
            string heads = g.Node("Reshape", $"b{l}_heads", new[] { g.Transpose(g.MatMul(probabilities, v, $"b{l}_pv"), $"b{l}_pv_t", 1, 0, 2), shapeFlat });
            h = g.Add(g.Add(h, g.MatMul(heads, W(p + "attn.Wo", D, D), $"b{l}_o"), $"b{l}_res1"), W(p + "attn.bo", D), $"b{l}_h1");
            string a2 = LayerNorm(g, h, W(p + "ln2.gamma", D), W(p + "ln2.beta", D), D, $"b{l}_ln2");
            string u = g.Add(g.MatMul(a2, W(p + "mlp.W1", D, F), $"b{l}_u_mm"), W(p + "mlp.b1", F), $"b{l}_u");
            h = g.Add(g.Add(h, g.MatMul(Gelu(g, u, $"b{l}_gelu"), W(p + "mlp.W2", F, D), $"b{l}_m"), $"b{l}_res2"), W(p + "mlp.b2", D), $"b{l}_h2");
        }
        string last = g.Node("Gather", "query_state", new[] { h, n }, OnnxGraph.Int("axis", 0));
        string lnF = LayerNorm(g, last, W("ln_f.gamma", D), W("ln_f.beta", D), D, "ln_f");
        string prediction = g.Add(g.MatMul(lnF, W("read_out.w", D), "read_out"), g.Node("Squeeze", "read_out_b", new[] { W("read_out.b", 1), g.Ints("axes0", 0) }), "prediction_value");
        g.Output(prediction, "prediction", g.RealType);
        var doc = $"MorIcl gpt2: L = {c.Layers}, D = {D}, H = {H}, d = {d}; inputs x (n × d), y (n), query (d), any n. Computes what mor-icl run --model RUNDIR computes; see docs/export.md.";
        return g.Build(doc, metadata);
    }

    /// <summary>LayerNorm over the last axis: (x − mean)·(1/√(var + ε))·γ + β, mean and biased variance as sums times 1/D.</summary>
    private static string LayerNorm(OnnxGraph g, string x, string gamma, string beta, int width, string p)
    {
        string invW = g.RealScalar(p + "_inv_width", 1.0 / width);
        string Mean(string t, string name) => g.Mul(g.Node("ReduceSum", name + "_sum", new[] { t, g.Ints("axes_last", -1) }, OnnxGraph.Int("keepdims", 1)), invW, name);
        string centred = g.Sub(x, Mean(x, p + "_mean"), p + "_centred");
        string variance = Mean(g.Mul(centred, centred, p + "_sq"), p + "_var");
        string rstd = g.Div(g.RealScalar("one", 1), g.Node("Sqrt", p + "_std", new[] { g.Add(variance, g.RealScalar("layer_norm_epsilon", 1e-5), p + "_var_eps") }), p + "_rstd");
        return g.Add(g.Mul(g.Mul(centred, rstd, p + "_xhat"), gamma, p + "_scaled"), beta, p);
    }

    /// <summary>gelu(u) = ½u + ½u·tanh(√(2/π)(u + 0.044715u³)).</summary>
    private static string Gelu(OnnxGraph g, string u, string p)
    {
        string cube = g.Mul(g.Mul(g.Mul(g.RealScalar("gelu_a", 0.044715), u, p + "_au"), u, p + "_auu"), u, p + "_auuu");
        string t = g.Node("Tanh", p + "_tanh", new[] { g.Mul(g.RealScalar("gelu_c", Math.Sqrt(2 / Math.PI)), g.Add(u, cube, p + "_inner"), p + "_arg") });
        string half = g.Mul(u, g.RealScalar("half", 0.5), p + "_half");
        return g.Add(half, g.Mul(half, t, p + "_ht"), p);
    }
}
