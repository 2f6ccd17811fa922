using MorIcl.Construction.Model;
using MorIcl.Mixture;

namespace MorIcl.Runtime;

/// <summary>
/// The test oracle for <see cref="ModelExecutor{T}"/>: docs/math.md §3's layer definitions as plain loops in
/// double over the model's own sparse matrices, with the certificate computed pair by pair.
/// Slow and obviously correct; not for production use.
/// </summary>
public static class ScalarExecutor
{
    public static ForwardResult Forward(TransformerModel model, RegressionData examples, double[] query, bool trace = false)
    {
        var h = PromptTokens.Embed(model, examples, query);
        int n = examples.N, N = model.Embedding.TokenCount(n), D = model.Dimension;
        var traces = trace ? new List<double[]> { (double[])h.Clone() } : null;
        var certs = new List<LayerCertificate>();
        for (int l = 0; l < model.Layers.Count; l++)
        {
            var next = (double[])h.Clone();
            double minMargin = double.PositiveInfinity, maxLeak = 0, slack = double.PositiveInfinity, declared = 0;
            bool hasSoftmax = false;
            if (model.Layers[l] is AttentionLayer att)
            {
                foreach (var head in att.Heads)
                {
                    var q = new double[N][]; var k = new double[N][]; var v = new double[N][];
                    for (int i = 0; i < N; i++)
                    {
                        q[i] = Apply(head.Query, h, i * D);
                        k[i] = Apply(head.Key, h, i * D);
                        v[i] = Apply(head.Value, h, i * D);
                    }
                    for (int i = 0; i < N; i++)
                    {
                        var s = new double[N];
                        for (int j = 0; j < N; j++)
                            for (int a = 0; a < head.HeadDimension; a++) s[j] += q[i][a] * k[j][a];
                        int qr = model.Embedding.RoleOf(i, n);
                        bool Admitted(int j)
                        {
                            var adm = head.Admission[qr, model.Embedding.RoleOf(j, n)];
                            return adm == Admit.Yes || (adm == Admit.Self && j == i);
                        }
                        if (head.Activation == Activation.Linear)
                        {
                            // Every pair is admitted (the head's constructor requires it): no margin, no leakage.
                            for (int j = 0; j < N; j++)
                                for (int c = 0; c < D; c++) next[i * D + c] += s[j] * v[j][c] / N;
                        }
                        else if (head.Activation == Activation.Relu)
                        {
                            for (int j = 0; j < N; j++)
                            {
                                if (!Admitted(j)) minMargin = Math.Min(minMargin, -s[j]);
                                double r = Math.Max(s[j], 0);
                                if (double.IsNaN(s[j])) r = double.NaN;
                                for (int c = 0; c < D; c++) next[i * D + c] += r * v[j][c] / N;
                            }
                        }
                        else
                        {
                            hasSoftmax = true;
                            double max = s.Max(), sum = 0, bestIn = double.NegativeInfinity, bestOut = double.NegativeInfinity;
                            var w = new double[N];
                            for (int j = 0; j < N; j++) { w[j] = Math.Exp(s[j] - max); sum += w[j]; }
                            double leak = 0;
                            for (int j = 0; j < N; j++)
                            {
                                w[j] /= sum;
                                if (Admitted(j)) bestIn = Math.Max(bestIn, s[j]);
                                else { bestOut = Math.Max(bestOut, s[j]); leak += w[j]; }
                                for (int c = 0; c < D; c++) next[i * D + c] += w[j] * v[j][c];
                            }
                            if (bestIn == double.NegativeInfinity) { leak = 1; minMargin = double.NegativeInfinity; }
                            else if (bestOut > double.NegativeInfinity) minMargin = Math.Min(minMargin, bestIn - bestOut);
                            maxLeak = Math.Max(maxLeak, leak);
                        }
                    }
                }
            }
            else if (model.Layers[l] is MlpLayer mlp)
            {
                var input = h;
                slack = LayerCertificate.SlackOf(mlp, (i, row) => input[i * D + row], N);
                declared = mlp.DeclaredError;
                for (int i = 0; i < N; i++)
                {
                    var z = Apply(mlp.W1, h, i * D);
                    for (int u = 0; u < z.Length; u++) z[u] = Math.Max(z[u] + mlp.B1[u], 0);
                    var o = Apply(mlp.W2, z, 0);
                    for (int c = 0; c < D; c++) next[i * D + c] += o[c] + mlp.B2[c];
                }
            }
            h = next;
            bool finite = h.All(double.IsFinite);
            certs.Add(new LayerCertificate(l, minMargin, maxLeak, finite && minMargin >= 0 && slack >= 0 && (!hasSoftmax || maxLeak <= Certificate.LeakageTolerance), finite, slack, declared));
            traces?.Add((double[])h.Clone());
        }
        var cert = new Certificate(certs, n <= model.MaxPromptLength, n, model.MaxPromptLength);
        return new ForwardResult(h[n * D + model.ReadOut.Prediction], PromptTokens.ReadBeta(model, h, n), cert, traces?.ToArray(), PromptTokens.ReadMixing(model, h, n));
    }

    /// <summary>M · u where u is the vector starting at u[offset] (length M.Cols).</summary>
    private static double[] Apply(SparseMatrix m, double[] u, int offset)
    {
        var r = new double[m.Rows];
        for (int e = 0; e < m.NonZeros; e++) r[m.RowIndex[e]] += m.Values[e] * u[offset + m.ColIndex[e]];
        return r;
    }
}
