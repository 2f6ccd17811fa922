using System.Numerics;
using System.Numerics.Tensors;
using MorIcl.Mixture;
using MorIcl.Numerics.Simd;

namespace MorIcl.Training.Gpt;

/// <summary>
/// Forward and backward pass of the GPT encoder on one chunk of prompts whose tokens are stacked into
/// one M×D matrix (M = Σ_p (n_p + 1)), so the read-in, Q/K/V, output projection and MLP are each one
/// large product; attention runs per prompt and head on its N×N block.
/// Forward: h = [x; y]·W_in + b_in (+ e_q on the query row); per block h ← h + MHA(LN₁(h)),
/// h ← h + MLP(LN₂(h)); ŷ = w_out·LN_f(h_query) + b_out.
/// </summary>
internal static class GptPass<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Checks that every prompt has the model's dimension d (before any parallel work starts).</summary>
    public static void Validate(GptConfig c, IReadOnlyList<(RegressionData Examples, double[] Query)> prompts)
    {
        int d = c.InputDimension;
        for (int p = 0; p < prompts.Count; p++)
        {
            var (ex, q) = prompts[p];
            if (ex.D != d) throw new SpecificationException($"prompt {p + 1} has dimension d = {ex.D}, the model expects d = {d}");
            if (q.Length != d) throw new SpecificationException($"query {p + 1} has {q.Length} features, the model expects d = {d}");
        }
    }

    /// <summary>
    /// Runs the forward pass; predictions land in ws.Predictions[0..count). <paramref name="afterLayer"/>,
    /// when given, is called with l = 0 after the read-in and with l = 1 … L after block l, while ws.H
    /// holds the residual stream (for probes, docs/math.md §11).
    /// </summary>
    public static void Forward(GptConfig c, GptWeights<T> w, GptWorkspace<T> ws, ReadOnlySpan<(RegressionData Examples, double[] Query)> prompts, Action<int>? afterLayer = null)
    {
        int d = c.InputDimension, tw = c.TokenWidth, D = c.Width, F = c.HiddenWidth, H = c.Heads, dk = c.HeadWidth, D3 = 3 * D;
        int rows = 0, att = 0, maxTokens = 0;
        ws.Prompts = prompts.Length;
        for (int p = 0; p < prompts.Length; p++)
        {
            var (ex, q) = prompts[p];
            if (ex.D != d) throw new SpecificationException($"prompt {p + 1} has dimension d = {ex.D}, the model expects d = {d}");
            if (q.Length != d) throw new SpecificationException($"query {p + 1} has {q.Length} features, the model expects d = {d}");
            int n = ex.N + 1;
            ws.RowStart[p] = rows; ws.Tokens[p] = n; ws.AttentionStart[p] = att;
            rows += n; att += H * n * n; maxTokens = Math.Max(maxTokens, n);
        }
        ws.RowStart[prompts.Length] = rows; ws.Rows = rows;
        ws.Ensure(rows, att, maxTokens);

        // tokens: example i → [x_i; y_i], query → [x_q; 0]
        var x0 = ws.X0;
        for (int p = 0; p < prompts.Length; p++)
        {
            var (ex, q) = prompts[p];
            int n = ex.N, r0 = ws.RowStart[p];
            var cols = ex.Columns;
            for (int i = 0; i < n; i++)
            {
                int o = (r0 + i) * tw;
                for (int a = 0; a < d; a++) x0[o + a] = T.CreateTruncating(cols[a * n + i]);
                x0[o + d] = T.CreateTruncating(ex.Y[i]);
            }
            int oq = (r0 + n) * tw;
            for (int a = 0; a < d; a++) x0[oq + a] = T.CreateTruncating(q[a]);
            x0[oq + d] = T.Zero;
        }
        var h = ws.H;
        GptRowOps<T>.FillRows(h, rows, D, w.ReadInB);
        GptGemm<T>.Multiply(rows, D, tw, x0, tw, 1, w.ReadInW, D, h, D, accumulate: true);
        for (int p = 0; p < prompts.Length; p++)
        {
            var hq = h.AsSpan(QueryRow(ws, p) * D, D);
            TensorPrimitives.Add(hq, w.QueryEmbedding, hq);
        }
        afterLayer?.Invoke(0);

        T scale = T.One / T.Sqrt(T.CreateTruncating(dk));
        for (int l = 0; l < c.Layers; l++)
        {
            var lw = w.Layers[l]; var la = ws.Layers[l];
            GptRowOps<T>.LayerNormForward(h, rows, D, lw.Ln1Gamma, lw.Ln1Beta, la.Xhat1, la.Rstd1, la.A1);
            GptRowOps<T>.FillRows(la.Qkv, rows, D3, lw.Bqkv);
            GptGemm<T>.Multiply(rows, D3, D, la.A1, D, 1, lw.Wqkv, D3, la.Qkv, D3, accumulate: true);
            for (int p = 0; p < prompts.Length; p++)
            {
                int r0 = ws.RowStart[p], n = ws.Tokens[p];
                for (int hh = 0; hh < H; hh++)
                {
                    int qOff = r0 * D3 + hh * dk;
                    var s = la.Probabilities.AsSpan(ws.AttentionStart[p] + hh * n * n, n * n);
                    GptRowOps<T>.Transpose(la.Qkv.AsSpan(qOff + D), n, dk, D3, ws.Transposed);
                    GptGemm<T>.Multiply(n, n, dk, la.Qkv.AsSpan(qOff), D3, 1, ws.Transposed, n, s, n, accumulate: false);
                    GptRowOps<T>.SoftmaxRows(s, n, n, scale);
                    GptGemm<T>.Multiply(n, dk, n, s, n, 1, la.Qkv.AsSpan(qOff + 2 * D), D3, la.Heads.AsSpan(r0 * D + hh * dk), D, accumulate: false);
                }
            }
            GptGemm<T>.Multiply(rows, D, D, la.Heads, D, 1, lw.Wo, D, h, D, accumulate: true);
            GptRowOps<T>.AddRows(h, rows, D, lw.Bo);
            GptRowOps<T>.LayerNormForward(h, rows, D, lw.Ln2Gamma, lw.Ln2Beta, la.Xhat2, la.Rstd2, la.A2);
            GptRowOps<T>.FillRows(la.U, rows, F, lw.B1);
            GptGemm<T>.Multiply(rows, F, D, la.A2, D, 1, lw.W1, F, la.U, F, accumulate: true);
            GptRowOps<T>.GeluForward(la.U.AsSpan(0, rows * F), la.Tanh, la.G);
            GptGemm<T>.Multiply(rows, D, F, la.G, F, 1, lw.W2, D, h, D, accumulate: true);
            GptRowOps<T>.AddRows(h, rows, D, lw.B2);
            afterLayer?.Invoke(l + 1);
        }

        var lnOut = ws.Row.AsSpan(0, D);
        for (int p = 0; p < prompts.Length; p++)
        {
            GptRowOps<T>.LayerNormForward(h.AsSpan(QueryRow(ws, p) * D, D), 1, D, w.LnFGamma, w.LnFBeta,
                ws.XhatF.AsSpan(p * D, D), ws.RstdF.AsSpan(p, 1), lnOut);
            ws.Predictions[p] = double.CreateTruncating(SimdSpan.Dot<T>(lnOut, w.ReadOutW) + w.ReadOutB);
        }
    }

    public static int QueryRow(GptWorkspace<T> ws, int p) => ws.RowStart[p] + ws.Tokens[p] - 1;

    /// <summary>
    /// Backward pass after <see cref="Forward"/> with upstream gradients dL/dŷ_p = <paramref name="dy"/>[p]:
    /// accumulates the parameter gradient into <paramref name="grad"/> (flat layout, in T) and, when
    /// <paramref name="inputGrad"/> is not empty, writes dL/dx_query of prompt 0 into it.
    /// </summary>
    public static void Backward(GptConfig c, GptLayout lo, GptWeights<T> w, GptWorkspace<T> ws, ReadOnlySpan<double> dy, Span<T> grad, Span<double> inputGrad)
    {
        int d = c.InputDimension, tw = c.TokenWidth, D = c.Width, F = c.HiddenWidth, H = c.Heads, dk = c.HeadWidth, D3 = 3 * D;
        int rows = ws.Rows;
        var dH = ws.DH.AsSpan(0, rows * D);
        dH.Clear();
        var row = ws.Row.AsSpan(0, D);

        // read-out and final LayerNorm (query rows only)
        for (int p = 0; p < ws.Prompts; p++)
        {
            T g = T.CreateTruncating(dy[p]);
            var xh = ws.XhatF.AsSpan(p * D, D);
            TensorPrimitives.MultiplyAdd(xh, w.LnFGamma, w.LnFBeta, row);          // a = LN_f(h_q)
            var gw = grad.Slice(lo.ReadOutW, D);
            TensorPrimitives.MultiplyAdd(row, g, gw, gw);
            grad[lo.ReadOutB] += g;
            TensorPrimitives.Multiply(w.ReadOutW, g, row);                          // dL/da
            GptRowOps<T>.LayerNormBackward(row, xh, ws.RstdF.AsSpan(p, 1), 1, D, w.LnFGamma,
                grad.Slice(lo.LnFGamma, D), grad.Slice(lo.LnFBeta, D), dH.Slice(QueryRow(ws, p) * D, D), ws.DA);
        }

        T scale = T.One / T.Sqrt(T.CreateTruncating(dk));
        for (int l = c.Layers - 1; l >= 0; l--)
        {
            var lw = w.Layers[l]; var la = ws.Layers[l]; var o = lo.Layers[l];
            // MLP: h ← h + GELU(LN₂(h)·W1 + b1)·W2 + b2
            var dU = ws.DU.AsSpan(0, rows * F);
            GptGemm<T>.Multiply(rows, F, D, dH, D, 1, lw.W2T, F, dU, F, accumulate: false);
            GptGemm<T>.Multiply(F, D, rows, la.G, 1, F, dH, D, grad.Slice(o.W2, F * D), D, accumulate: true);
            GptRowOps<T>.AddColumnSums(dH, rows, D, 0, grad.Slice(o.B2, D));
            GptRowOps<T>.GeluBackward(la.U.AsSpan(0, rows * F), la.Tanh, dU);
            GptGemm<T>.Multiply(D, F, rows, la.A2, 1, D, dU, F, grad.Slice(o.W1, D * F), F, accumulate: true);
            GptRowOps<T>.AddColumnSums(dU, rows, F, 0, grad.Slice(o.B1, F));
            var dA = ws.DA.AsSpan(0, rows * D);
            GptGemm<T>.Multiply(rows, D, F, dU, F, 1, lw.W1T, D, dA, D, accumulate: false);
            GptRowOps<T>.LayerNormBackward(dA, la.Xhat2, la.Rstd2, rows, D, lw.Ln2Gamma,
                grad.Slice(o.Ln2Gamma, D), grad.Slice(o.Ln2Beta, D), dH, ws.Row);

            // attention: h ← h + concat_h(softmax(Q_h K_hᵀ/√dk) V_h)·Wo + bo
            var dHeads = ws.DHeads.AsSpan(0, rows * D);
            GptGemm<T>.Multiply(rows, D, D, dH, D, 1, lw.WoT, D, dHeads, D, accumulate: false);
            GptGemm<T>.Multiply(D, D, rows, la.Heads, 1, D, dH, D, grad.Slice(o.Wo, D * D), D, accumulate: true);
            GptRowOps<T>.AddColumnSums(dH, rows, D, 0, grad.Slice(o.Bo, D));
            var dQkv = ws.DQkv.AsSpan(0, rows * D3);
            for (int p = 0; p < ws.Prompts; p++)
            {
                int r0 = ws.RowStart[p], n = ws.Tokens[p];
                var ds = ws.DScores.AsSpan(0, n * n);
                for (int hh = 0; hh < H; hh++)
                {
                    int qOff = r0 * D3 + hh * dk, kOff = qOff + D, vOff = qOff + 2 * D;
                    var prob = la.Probabilities.AsSpan(ws.AttentionStart[p] + hh * n * n, n * n);
                    var dO = dHeads.Slice(r0 * D + hh * dk);
                    GptRowOps<T>.Transpose(la.Qkv.AsSpan(vOff), n, dk, D3, ws.Transposed);
                    GptGemm<T>.Multiply(n, n, dk, dO, D, 1, ws.Transposed, n, ds, n, accumulate: false);      // dP = dO·Vᵀ
                    GptGemm<T>.Multiply(n, dk, n, prob, 1, n, dO, D, dQkv.Slice(vOff), D3, accumulate: false); // dV = Pᵀ·dO
                    GptRowOps<T>.SoftmaxBackwardRows(prob, ds, n, n, scale);
                    GptGemm<T>.Multiply(n, dk, n, ds, n, 1, la.Qkv.AsSpan(kOff), D3, dQkv.Slice(qOff), D3, accumulate: false); // dQ = dS·K
                    GptGemm<T>.Multiply(n, dk, n, ds, 1, n, la.Qkv.AsSpan(qOff), D3, dQkv.Slice(kOff), D3, accumulate: false); // dK = dSᵀ·Q
                }
            }
            GptGemm<T>.Multiply(D, D, rows, la.A1, 1, D, dQkv, D3, grad.Slice(o.Wq, D * D), D, accumulate: true);
            GptGemm<T>.Multiply(D, D, rows, la.A1, 1, D, dQkv.Slice(D), D3, grad.Slice(o.Wk, D * D), D, accumulate: true);
            GptGemm<T>.Multiply(D, D, rows, la.A1, 1, D, dQkv.Slice(2 * D), D3, grad.Slice(o.Wv, D * D), D, accumulate: true);
            GptRowOps<T>.AddColumnSums(dQkv, rows, D3, 0, grad.Slice(o.Bq, D));
            GptRowOps<T>.AddColumnSums(dQkv, rows, D3, D, grad.Slice(o.Bk, D));
            GptRowOps<T>.AddColumnSums(dQkv, rows, D3, 2 * D, grad.Slice(o.Bv, D));
            GptGemm<T>.Multiply(rows, D, D3, dQkv, D3, 1, lw.WqkvT, D, dA, D, accumulate: false);
            GptRowOps<T>.LayerNormBackward(dA, la.Xhat1, la.Rstd1, rows, D, lw.Ln1Gamma,
                grad.Slice(o.Ln1Gamma, D), grad.Slice(o.Ln1Beta, D), dH, ws.Row);
        }

        // read-in
        GptGemm<T>.Multiply(tw, D, rows, ws.X0, 1, tw, dH, D, grad.Slice(lo.ReadInW, tw * D), D, accumulate: true);
        GptRowOps<T>.AddColumnSums(dH, rows, D, 0, grad.Slice(lo.ReadInB, D));
        var ge = grad.Slice(lo.QueryEmbedding, D);
        for (int p = 0; p < ws.Prompts; p++) TensorPrimitives.Add(dH.Slice(QueryRow(ws, p) * D, D), ge, ge);
        if (!inputGrad.IsEmpty)
        {
            var dq = dH.Slice(QueryRow(ws, 0) * D, D);
            for (int a = 0; a < d; a++) inputGrad[a] = double.CreateTruncating(SimdSpan.Dot<T>(dq, w.ReadInW.AsSpan(a * D, D)));
        }
    }
}
