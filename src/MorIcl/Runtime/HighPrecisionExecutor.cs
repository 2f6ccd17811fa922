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

    /// <summary>Rows r of M·h_i for every token (only the rows M has), as DD.</summary>
    private static DoubleDouble[][] Apply(SparseMatrix m, DoubleDouble[] h, int N, int D, int[] rows)
    {
        var pos = new Dictionary<int, int>();
        for (int r = 0; r < rows.Length; r++) pos[rows[r]] = r;
        var result = new DoubleDouble[N][];
        for (int i = 0; i < N; i++)
        {
            var v = new DoubleDouble[rows.Length];
            for (int e = 0; e < m.NonZeros; e++) v[pos[m.RowIndex[e]]] += (DoubleDouble)m.Values[e] * h[i * D + m.ColIndex[e]];
            result[i] = v;
        }
        return result;
    }

    private static void Head(AttentionHead head, DoubleDouble[] h, DoubleDouble[] delta, int N, int D, int[] roles)
    {
        var dims = Enumerable.Range(0, head.HeadDimension).ToArray();
        var outRows = head.Value.NonZeroRows();
        var q = Apply(head.Query, h, N, D, dims);
        var k = Apply(head.Key, h, N, D, dims);
        var v = Apply(head.Value, h, N, D, outRows);
        var s = new DoubleDouble[N];
        for (int i = 0; i < N; i++)
        {
            for (int j = 0; j < N; j++)
            {
                DoubleDouble acc = DoubleDouble.Zero;
                for (int a = 0; a < dims.Length; a++) acc += q[i][a] * k[j][a];
                s[j] = acc;
            }
            DoubleDouble[] w;
            if (head.Activation == Activation.Softmax)
            {
                var max = s.Aggregate(DoubleDouble.Max);
                w = s.Select(x => DoubleDouble.Exp(x - max)).ToArray();
                var sum = w.Aggregate(DoubleDouble.Zero, (x, y) => x + y);
                for (int j = 0; j < N; j++) w[j] /= sum;
            }
            else
            {
                DoubleDouble invN = DoubleDouble.One / N;
                w = s.Select(x => (head.Activation == Activation.Relu ? (x > DoubleDouble.Zero ? x : DoubleDouble.Zero) : x) * invN).ToArray();
            }
            for (int o = 0; o < outRows.Length; o++)
            {
                DoubleDouble acc = DoubleDouble.Zero;
                for (int j = 0; j < N; j++) acc += w[j] * v[j][o];
                delta[i * D + outRows[o]] += acc;
            }
        }
    }

    private static void Mlp(MlpLayer mlp, DoubleDouble[] h, DoubleDouble[] delta, int N, int D)
    {
        var units = Enumerable.Range(0, mlp.Hidden).ToArray();
        var z = Apply(mlp.W1, h, N, D, units);
        for (int i = 0; i < N; i++)
        {
            var zi = z[i].Select((x, u) => x + mlp.B1[u]).Select(x => x > DoubleDouble.Zero ? x : DoubleDouble.Zero).ToArray();
            for (int e = 0; e < mlp.W2.NonZeros; e++) delta[i * D + mlp.W2.RowIndex[e]] += (DoubleDouble)mlp.W2.Values[e] * zi[mlp.W2.ColIndex[e]];
            for (int c = 0; c < D; c++) if (mlp.B2[c] != 0) delta[i * D + c] += mlp.B2[c];
        }
    }
}
