using System.Numerics;
using System.Numerics.Tensors;
using MorIcl.Construction.Model;
using MorIcl.Mixture;

namespace MorIcl.Runtime;

/// <summary>
/// The fast executor: runs any constructed (or trained) model on a batch of prompts in precision T
/// (double or float). SIMD kernels over tokens (System.Numerics.Tensors), prompts in parallel, one
/// workspace per prompt reused by every layer; without a trace it holds O(N·D) numbers per prompt.
/// Scores are accumulated over head dimensions in order (positional dimensions first), as the model
/// requires for exact positional cancellation. Softmax subtracts the maximum.
/// </summary>
public sealed class ModelExecutor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly CompiledModel<T> _model;
    public TransformerModel Model => _model.Source;

    public ModelExecutor(TransformerModel model) { _model = new CompiledModel<T>(model); }

    /// <summary>Runs every prompt (in parallel; results do not depend on the thread count).</summary>
    public ForwardResult[] Forward(IReadOnlyList<(RegressionData Examples, double[] Query)> prompts, bool trace = false, int? maxDegreeOfParallelism = null)
    {
        var results = new ForwardResult[prompts.Count];
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism ?? Environment.ProcessorCount };
        Parallel.For(0, prompts.Count, options, b => results[b] = Forward(prompts[b].Examples, prompts[b].Query, trace));
        return results;
    }

    public ForwardResult Forward(RegressionData examples, double[] query, bool trace = false)
    {
        var model = _model.Source;
        var h0 = PromptTokens.Embed(model, examples, query);
        int n = examples.N, N = model.Embedding.TokenCount(n), D = model.Dimension;
        var ws = new Workspace(_model, N, D);
        for (int i = 0; i < h0.Length; i++) ws.H[i] = T.CreateChecked(h0[i]);
        var traces = trace ? new List<double[]> { h0 } : null;
        var layers = new LayerCertificate[_model.Layers.Length];
        int[] roles = Enumerable.Range(0, N).Select(i => model.Embedding.RoleOf(i, n)).ToArray();
        for (int l = 0; l < _model.Layers.Length; l++)
        {
            layers[l] = _model.Layers[l] switch
            {
                CompiledModel<T>.Attention a => RunAttention(a, ws, N, D, n, roles, l),
                CompiledModel<T>.Mlp m => RunMlp(m, ws, N, D, l),
                _ => throw new InvalidOperationException(),
            };
            if (traces is not null) traces.Add(ws.H.Select(v => double.CreateChecked(v)).ToArray());
        }
        var hd = ws.H.Select(v => double.CreateChecked(v)).ToArray();
        var cert = new Certificate(layers, n <= model.Embedding.MaxPromptLength, n, model.Embedding.MaxPromptLength);
        return new ForwardResult(hd[n * D + model.ReadOut.Prediction], PromptTokens.ReadBeta(model, hd, n), cert, traces?.ToArray());
    }

    private sealed class Workspace
    {
        public readonly T[] H, Delta, Qh, KhT, VhT, Scores, Out;
        public readonly int[] Positive;
        public Workspace(CompiledModel<T> m, int n, int d)
        {
            H = new T[n * d]; Delta = new T[n * d];
            Qh = new T[n * m.MaxDk]; KhT = new T[m.MaxDk * n]; VhT = new T[Math.Max(m.MaxDv, m.MaxHidden) * n];
            Scores = new T[n]; Out = new T[Math.Max(m.MaxDv, m.MaxHidden)];
            Positive = new int[n];
        }
    }

    private LayerCertificate RunAttention(CompiledModel<T>.Attention layer, Workspace ws, int N, int D, int n, int[] roles, int index)
    {
        double minMargin = double.PositiveInfinity, maxLeak = 0;
        T invN = T.One / T.CreateChecked(N);
        var delta = ws.Delta;
        foreach (var head in layer.Heads)
        {
            int dk = head.Dk, dv = head.OutRows.Length;
            Project(ws.H, N, D, head.QCols, head.Q, dk, ws.Qh, transposed: false);
            Project(ws.H, N, D, head.KCols, head.K, dk, ws.KhT, transposed: true);
            Project(ws.H, N, D, head.VCols, head.V, dv, ws.VhT, transposed: true);
            var s = ws.Scores.AsSpan(0, N);
            var outv = ws.Out.AsSpan(0, dv);
            for (int i = 0; i < N; i++)
            {
                // s_j = Σ_a q_ia k_ja, accumulated in dimension order.
                T q0 = ws.Qh[i * dk];
                TensorPrimitives.Multiply(ws.KhT.AsSpan(0, N), q0, s);
                for (int a = 1; a < dk; a++)
                    TensorPrimitives.MultiplyAdd(ws.KhT.AsSpan(a * N, N), ws.Qh[i * dk + a], s, s);

                if (head.Activation == Activation.Relu)
                {
                    if (!head.AdmitsAll) minMargin = Math.Min(minMargin, ReluMargin(head, s, i, n, roles));
                    TensorPrimitives.Max(s, T.Zero, s);      // NaN stays NaN and is caught by the finiteness check
                    int count = 0;
                    for (int j = 0; j < N; j++) if (s[j] != T.Zero) { if (count < N / 16) ws.Positive[count] = j; count++; }
                    if (count == 0) continue;
                    if (count <= N / 16)
                    {
                        outv.Clear();
                        for (int c = 0; c < count; c++)
                        {
                            int j = ws.Positive[c];
                            for (int v = 0; v < dv; v++) outv[v] += s[j] * ws.VhT[v * N + j];
                        }
                    }
                    else for (int v = 0; v < dv; v++) outv[v] = TensorPrimitives.Dot(s, ws.VhT.AsSpan(v * N, N));
                    for (int v = 0; v < dv; v++) delta[i * D + head.OutRows[v]] += outv[v] * invN;
                }
                else
                {
                    var (margin, admittedAny) = SoftmaxMargin(head, s, i, n, roles);
                    minMargin = Math.Min(minMargin, margin);
                    T max = TensorPrimitives.Max(s);
                    TensorPrimitives.Subtract(s, max, s);
                    TensorPrimitives.Exp(s, s);
                    T sum = TensorPrimitives.Sum(s);
                    TensorPrimitives.Divide(s, sum, s);
                    maxLeak = Math.Max(maxLeak, admittedAny ? Leakage(head, s, i, n, roles) : 1.0);
                    for (int v = 0; v < dv; v++) delta[i * D + head.OutRows[v]] += TensorPrimitives.Dot(s, ws.VhT.AsSpan(v * N, N));
                }
            }
        }
        TensorPrimitives.Add(ws.H, delta, ws.H);
        Array.Clear(delta);
        bool finite = IsFinite(ws.H);
        bool hasSoftmax = layer.Heads.Any(h => h.Activation == Activation.Softmax);
        bool inDomain = finite && minMargin >= 0 && (!hasSoftmax || maxLeak <= Certificate.LeakageTolerance);
        return new LayerCertificate(index, minMargin, maxLeak, inDomain, finite);
    }

    /// <summary>rows(dst) = W · H[:, cols] per token; transposed: dst is dims × N.</summary>
    private static void Project(T[] h, int n, int d, int[] cols, T[] w, int dims, T[] dst, bool transposed)
    {
        int c = cols.Length;
        for (int i = 0; i < n; i++)
        {
            int hi = i * d;
            for (int a = 0; a < dims; a++)
            {
                T acc = T.Zero;
                int wa = a * c;
                for (int k = 0; k < c; k++) acc += w[wa + k] * h[hi + cols[k]];
                if (transposed) dst[a * n + i] = acc; else dst[i * dims + a] = acc;
            }
        }
    }

    /// <summary>Key ranges of each role for a prompt of n examples: examples [0, n), query n, auxiliary n+1+a.</summary>
    private static (int Start, int End) Range(int role, int n) =>
        role == TokenRoles.Example ? (0, n) : role == TokenRoles.Query ? (n, n + 1) : (n + 1 + role - 2, n + 2 + role - 2);

    private double ReluMargin(CompiledModel<T>.Head head, ReadOnlySpan<T> s, int i, int n, int[] roles)
    {
        double worst = double.NegativeInfinity;
        int qr = roles[i];
        for (int kr = 0; kr < _model.Roles; kr++)
        {
            var admit = head.Admission[qr * _model.Roles + kr];
            if (admit == Admit.Yes) continue;
            var (start, end) = Range(kr, n);
            worst = Math.Max(worst, MaxExcluding(s, start, end, admit == Admit.Self ? i : -1));
        }
        return worst == double.NegativeInfinity ? double.PositiveInfinity : -worst;
    }

    private (double Margin, bool AdmittedAny) SoftmaxMargin(CompiledModel<T>.Head head, ReadOnlySpan<T> s, int i, int n, int[] roles)
    {
        double bestIn = double.NegativeInfinity, bestOut = double.NegativeInfinity;
        int qr = roles[i];
        for (int kr = 0; kr < _model.Roles; kr++)
        {
            var admit = head.Admission[qr * _model.Roles + kr];
            var (start, end) = Range(kr, n);
            if (start >= end) continue;
            if (admit == Admit.Yes) bestIn = Math.Max(bestIn, double.CreateChecked(TensorPrimitives.Max(s[start..end])));
            else if (admit == Admit.No) bestOut = Math.Max(bestOut, double.CreateChecked(TensorPrimitives.Max(s[start..end])));
            else
            {
                if (i >= start && i < end) bestIn = Math.Max(bestIn, double.CreateChecked(s[i]));
                bestOut = Math.Max(bestOut, MaxExcluding(s, start, end, i));
            }
        }
        bool any = bestIn > double.NegativeInfinity;
        return (!any ? double.NegativeInfinity : bestOut == double.NegativeInfinity ? double.PositiveInfinity : bestIn - bestOut, any);
    }

    private double Leakage(CompiledModel<T>.Head head, ReadOnlySpan<T> w, int i, int n, int[] roles)
    {
        double leak = 0;
        int qr = roles[i];
        for (int kr = 0; kr < _model.Roles; kr++)
        {
            var admit = head.Admission[qr * _model.Roles + kr];
            if (admit == Admit.Yes) continue;
            var (start, end) = Range(kr, n);
            if (start >= end) continue;
            double part = double.CreateChecked(TensorPrimitives.Sum(w[start..end]));
            if (admit == Admit.Self && i >= start && i < end) part -= double.CreateChecked(w[i]);
            leak += part;
        }
        return Math.Max(leak, 0);
    }

    private static double MaxExcluding(ReadOnlySpan<T> s, int start, int end, int skip)
    {
        double m = double.NegativeInfinity;
        if (skip >= start && skip < end)
        {
            if (skip > start) m = Math.Max(m, double.CreateChecked(TensorPrimitives.Max(s[start..skip])));
            if (skip + 1 < end) m = Math.Max(m, double.CreateChecked(TensorPrimitives.Max(s[(skip + 1)..end])));
        }
        else if (start < end) m = double.CreateChecked(TensorPrimitives.Max(s[start..end]));
        return m;
    }

    private static LayerCertificate RunMlp(CompiledModel<T>.Mlp mlp, Workspace ws, int N, int D, int index)
    {
        int hidden = mlp.Hidden, c = mlp.InCols.Length, o = mlp.OutRows.Length;
        var z = ws.Out.AsSpan(0, hidden);
        for (int i = 0; i < N; i++)
        {
            int hi = i * D;
            for (int u = 0; u < hidden; u++)
            {
                T acc = mlp.B1[u];
                for (int k = 0; k < c; k++) acc += mlp.W1[u * c + k] * ws.H[hi + mlp.InCols[k]];
                z[u] = T.Max(acc, T.Zero);
            }
            // The MLP reads h_i before it writes: outputs go through Delta.
            for (int r = 0; r < o; r++)
            {
                T acc = T.Zero;
                for (int u = 0; u < hidden; u++) acc += mlp.W2[r * hidden + u] * z[u];
                ws.Delta[hi + mlp.OutRows[r]] += acc;
            }
            for (int b = 0; b < mlp.BiasRows.Length; b++) ws.Delta[hi + mlp.BiasRows[b]] += mlp.Bias[b];
        }
        TensorPrimitives.Add(ws.H, ws.Delta, ws.H);
        Array.Clear(ws.Delta);
        bool finite = IsFinite(ws.H);
        return new LayerCertificate(index, double.PositiveInfinity, 0, finite, finite);
    }

    private static bool IsFinite(ReadOnlySpan<T> h)
    {
        foreach (var v in h) if (!T.IsFinite(v)) return false;
        return true;
    }
}
