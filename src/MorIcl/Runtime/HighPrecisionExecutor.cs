using MorIcl.Construction.Model;
using MorIcl.Mixture;
using MorIcl.Numerics;

namespace MorIcl.Runtime;

/// <summary>
/// The same transformer in (nearly) exact arithmetic: docs/math.md §3's layer definitions evaluated in
/// double-double (~106 bits) on the model's double weights and the exact (double) embedding — the
/// reference "exact" value against which the rounding bounds of float and double passes are tested.
/// Why that is exact enough (docs/math.md §8.6): every double-double operation has relative error
/// ≤ 4·2^-106, 2^-49 times the unit roundoff of double, so the same running-error analysis that bounds
/// a double pass by B bounds this one by about 2^-49·B; for the passes tested (B ≤ 10^-9 relative) that
/// is below 10^-24, far under every observed double error. Scalar loops, O(N²) per head; for tests.
/// </summary>
public static class HighPrecisionExecutor
{
    /// <summary>The prediction, β̂ and (when traced) the residual stream after every layer (token-major, as double hi and lo parts).</summary>
    public sealed record Result(DoubleDouble Prediction, DoubleDouble[][] Beta, (double[] Hi, double[] Lo)[]? Trace);

    public static Result Forward(TransformerModel model, RegressionData examples, double[] query, bool trace = false)
    {
        var h0 = PromptTokens.Embed(model, examples, query);
        int n = examples.N, N = model.Embedding.TokenCount(n), D = model.Dimension;
        var h = h0.Select(v => (DoubleDouble)v).ToArray();
        var traces = trace ? new List<(double[], double[])> { Split(h) } : null;
        var roles = Enumerable.Range(0, N).Select(i => model.Embedding.RoleOf(i, n)).ToArray();
        foreach (var layer in model.Layers)
        {
            var delta = new DoubleDouble[h.Length];
            if (layer is AttentionLayer a) foreach (var head in a.Heads) Head(head, h, delta, N, D, roles);
            else Mlp((MlpLayer)layer, h, delta, N, D);
            for (int k = 0; k < h.Length; k++) h[k] += delta[k];
            traces?.Add(Split(h));
        }
        var q = n * D;
        var beta = model.ReadOut.Beta.Select(b => Enumerable.Range(0, b.Width).Select(a => h[q + b[a]]).ToArray()).ToArray();
        if (model.Spec.Symmetric) beta = new[] { beta[0], beta[0].Select(v => -v).ToArray() };
        return new Result(h[q + model.ReadOut.Prediction], beta, traces?.ToArray());
    }

    private static (double[], double[]) Split(DoubleDouble[] h) => (h.Select(v => v.Hi).ToArray(), h.Select(v => v.Lo).ToArray());

    /// <summary>Rows <paramref name="rows"/> of M·h_i for every token, as DD (token-major: [i · rows.Length + r]).</summary>
    private static DoubleDouble[] Apply(SparseMatrix m, DoubleDouble[] h, int N, int D, int[] rows)
    {
        var pos = new int[m.Rows];
        for (int r = 0; r < rows.Length; r++) pos[rows[r]] = r;
        int R = rows.Length;
        var result = new DoubleDouble[N * R];
        for (int i = 0; i < N; i++)
            for (int e = 0; e < m.NonZeros; e++)
            {
                int k = i * R + pos[m.RowIndex[e]];
                result[k] += (DoubleDouble)m.Values[e] * h[i * D + m.ColIndex[e]];
            }
        return result;
    }

    private static void Head(AttentionHead head, DoubleDouble[] h, DoubleDouble[] delta, int N, int D, int[] roles)
    {
        int dk = head.HeadDimension;
        var dims = Enumerable.Range(0, dk).ToArray();
        var outRows = head.Value.NonZeroRows();
        int dv = outRows.Length;
        var q = Apply(head.Query, h, N, D, dims);
        var k = Apply(head.Key, h, N, D, dims);
        var v = Apply(head.Value, h, N, D, outRows);
        var w = new DoubleDouble[N];
        var approx = new double[N];
        var skip = new bool[N];
        DoubleDouble invN = DoubleDouble.One / N;
        for (int i = 0; i < N; i++)
        {
            // A double pre-pass finds the pairs whose weight is certainly 0 (a ReLU score below −10^-9 of its
            // magnitude, a softmax score more than 800 below the row's largest: e^{−800} underflows); the
            // rest are computed in double-double.
            double maxApprox = double.NegativeInfinity;
            for (int j = 0; j < N; j++)
            {
                double acc = 0, mag = 0;
                for (int a = 0; a < dk; a++) { double t = q[i * dk + a].ToDouble() * k[j * dk + a].ToDouble(); acc += t; mag += Math.Abs(t); }
                approx[j] = acc;
                skip[j] = head.Activation == Activation.Relu && acc + 1e-9 * (1 + mag) < 0;
                maxApprox = Math.Max(maxApprox, acc);
            }
            for (int j = 0; j < N; j++)
            {
                if (head.Activation == Activation.Softmax) skip[j] = approx[j] < maxApprox - 800;
                if (skip[j]) { w[j] = DoubleDouble.Zero; continue; }
                DoubleDouble acc = DoubleDouble.Zero;
                for (int a = 0; a < dk; a++) acc += q[i * dk + a] * k[j * dk + a];
                w[j] = acc;
            }
            if (head.Activation == Activation.Softmax)
            {
                DoubleDouble max = DoubleDouble.Zero;
                bool first = true;
                for (int j = 0; j < N; j++) if (!skip[j]) { max = first ? w[j] : DoubleDouble.Max(max, w[j]); first = false; }
                DoubleDouble sum = DoubleDouble.Zero;
                for (int j = 0; j < N; j++) { w[j] = skip[j] ? DoubleDouble.Zero : DoubleDouble.Exp(w[j] - max); sum += w[j]; }
                for (int j = 0; j < N; j++) if (!skip[j]) w[j] /= sum;
            }
            else
                for (int j = 0; j < N; j++)
                    w[j] = (head.Activation == Activation.Relu ? (w[j] > DoubleDouble.Zero ? w[j] : DoubleDouble.Zero) : w[j]) * invN;
            for (int o = 0; o < dv; o++)
            {
                DoubleDouble acc = DoubleDouble.Zero;
                for (int j = 0; j < N; j++) if (w[j].Hi != 0) acc += w[j] * v[j * dv + o];
                delta[i * D + outRows[o]] += acc;
            }
        }
    }

    private static void Mlp(MlpLayer mlp, DoubleDouble[] h, DoubleDouble[] delta, int N, int D)
    {
        int H = mlp.Hidden;
        var z = Apply(mlp.W1, h, N, D, Enumerable.Range(0, H).ToArray());
        for (int i = 0; i < N; i++)
        {
            for (int u = 0; u < H; u++)
            {
                var x = z[i * H + u] + mlp.B1[u];
                z[i * H + u] = x > DoubleDouble.Zero ? x : DoubleDouble.Zero;
            }
            for (int e = 0; e < mlp.W2.NonZeros; e++) delta[i * D + mlp.W2.RowIndex[e]] += (DoubleDouble)mlp.W2.Values[e] * z[i * H + mlp.W2.ColIndex[e]];
            for (int c = 0; c < D; c++) if (mlp.B2[c] != 0) delta[i * D + c] += mlp.B2[c];
        }
    }
}
