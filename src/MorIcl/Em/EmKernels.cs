using System.Numerics.Tensors;
using MorIcl.Mixture;

namespace MorIcl.Em;

/// <summary>
/// The passes over the data that EM needs, each one read of X in blocks of rows (feature-major
/// columns, SIMD over examples through TensorPrimitives). One workspace per data set; no allocation
/// inside a pass.
/// </summary>
internal sealed class EmKernels
{
    /// <summary>Rows per block: d·Block doubles of X stay in L2 while every component uses them.</summary>
    internal const int Block = 1024;

    private static readonly double HalfLog2Pi = 0.5 * Math.Log(2 * Math.PI);

    private readonly RegressionData _data;
    private readonly int _k;
    private readonly double[] _residual;   // K × Block
    private readonly double[] _logit;      // K × Block
    private readonly double[] _max;        // Block
    private readonly double[] _sum;        // Block
    private readonly double[] _weighted;   // D × Block

    /// <summary>Responsibilities γ_ik, component-major: γ_k is [k·n, (k+1)·n).</summary>
    public double[] Gamma { get; }

    public EmKernels(RegressionData data, int k)
    {
        _data = data; _k = k;
        _residual = new double[k * Block];
        _logit = new double[k * Block];
        _max = new double[Block];
        _sum = new double[Block];
        _weighted = new double[data.D * Block];
        Gamma = new double[(long)k * data.N];
    }

    public ReadOnlySpan<double> GammaOf(int k) => new(Gamma, k * _data.N, _data.N);

    /// <summary>r = y − X b on rows [start, start + count).</summary>
    private void Residual(ReadOnlySpan<double> b, int start, int count, Span<double> r)
    {
        _data.Y.AsSpan(start, count).CopyTo(r);
        for (int a = 0; a < _data.D; a++)
            if (b[a] != 0) TensorPrimitives.MultiplyAdd(_data.Column(a, start, count), -b[a], r, r);
    }

    /// <summary>
    /// E-step (SPEC §2): γ_ik = softmax_k(log π_k − log σ_k − (y_i − ⟨x_i, β_k⟩)²/(2σ_k²)) by a stable
    /// log-sum-exp, written into <see cref="Gamma"/>. Returns the log-likelihood
    /// Σ_i log Σ_k π_k φ_{σ_k}(y_i − ⟨x_i, β_k⟩). When <paramref name="gram"/> is given, the same pass
    /// accumulates, per component, the weighted Gram G_k = Σ γ_ik x_i x_iᵀ (lower triangle, d×d
    /// row-major), h_k = Σ γ_ik y_i x_i and n_k = Σ γ_ik. When <paramref name="gradient"/> is given it
    /// accumulates g_k = Σ γ_ik r_ik x_i (r at the current β, the first inner gradient step) and n_k.
    /// </summary>
    public double EStep(MixtureParameters p, double[][]? gram, double[][]? h, double[][]? gradient, double[]? nk)
    {
        int n = _data.N, d = _data.D, K = _k;
        var c = new double[K];
        var scale = new double[K];
        for (int k = 0; k < K; k++)
        {
            c[k] = Math.Log(p.Mixing[k]) - Math.Log(p.Sigma[k]) - HalfLog2Pi;
            scale[k] = -0.5 / (p.Sigma[k] * p.Sigma[k]);
        }
        if (gram is not null) foreach (var g in gram) Array.Clear(g);
        if (h is not null) foreach (var v in h) Array.Clear(v);
        if (gradient is not null) foreach (var v in gradient) Array.Clear(v);
        if (nk is not null) Array.Clear(nk);

        double logLik = 0;
        for (int start = 0; start < n; start += Block)
        {
            int count = Math.Min(Block, n - start);
            var max = _max.AsSpan(0, count);
            var sum = _sum.AsSpan(0, count);
            for (int k = 0; k < K; k++)
            {
                var r = _residual.AsSpan(k * Block, count);
                var l = _logit.AsSpan(k * Block, count);
                Residual(p.Beta[k], start, count, r);
                TensorPrimitives.Multiply(r, r, l);
                TensorPrimitives.Multiply(l, scale[k], l);
                TensorPrimitives.Add(l, c[k], l);
                if (k == 0) l.CopyTo(max); else TensorPrimitives.Max(max, l, max);
            }
            sum.Clear();
            for (int k = 0; k < K; k++)
            {
                var l = _logit.AsSpan(k * Block, count);
                TensorPrimitives.Subtract(l, max, l);
                TensorPrimitives.Exp(l, l);
                TensorPrimitives.Add(sum, l, sum);
            }
            logLik += TensorPrimitives.Sum(max);
            for (int k = 0; k < K; k++)
            {
                var gk = Gamma.AsSpan(k * n + start, count);
                TensorPrimitives.Divide(_logit.AsSpan(k * Block, count), sum, gk);
            }
            TensorPrimitives.Log(sum, sum);
            logLik += TensorPrimitives.Sum(sum);

            for (int k = 0; k < K; k++)
            {
                ReadOnlySpan<double> gk = Gamma.AsSpan(k * n + start, count);
                if (nk is not null) nk[k] += TensorPrimitives.Sum(gk);
                if (gram is not null) AccumulateGram(gk, start, count, gram[k], h![k]);
                if (gradient is not null)
                {
                    var wr = _sum.AsSpan(0, count); // reuse: log-sum already consumed
                    TensorPrimitives.Multiply(gk, _residual.AsSpan(k * Block, count), wr);
                    for (int a = 0; a < d; a++) gradient[k][a] += TensorPrimitives.Dot(wr, _data.Column(a, start, count));
                }
            }
        }
        return logLik;
    }

    /// <summary>G += Σ γ_i x_i x_iᵀ (lower triangle), h += Σ γ_i y_i x_i over one block.</summary>
    private void AccumulateGram(ReadOnlySpan<double> gamma, int start, int count, double[] g, double[] h)
    {
        int d = _data.D;
        var y = _data.Y.AsSpan(start, count);
        for (int a = 0; a < d; a++)
        {
            var wa = _weighted.AsSpan(a * Block, count);
            TensorPrimitives.Multiply(gamma, _data.Column(a, start, count), wa);
            h[a] += TensorPrimitives.Dot(wa, y);
            for (int b = 0; b <= a; b++) g[a * d + b] += TensorPrimitives.Dot(wa, _data.Column(b, start, count));
        }
    }

    /// <summary>g = Σ_i γ_ik (y_i − ⟨x_i, b⟩) x_i for the current <see cref="Gamma"/> (one inner step's data pass).</summary>
    public void Gradient(int k, ReadOnlySpan<double> b, Span<double> g)
    {
        int n = _data.N, d = _data.D;
        g.Clear();
        for (int start = 0; start < n; start += Block)
        {
            int count = Math.Min(Block, n - start);
            var r = _residual.AsSpan(0, count);
            Residual(b, start, count, r);
            TensorPrimitives.Multiply(r, Gamma.AsSpan(k * n + start, count), r);
            for (int a = 0; a < d; a++) g[a] += TensorPrimitives.Dot(r, _data.Column(a, start, count));
        }
    }

    /// <summary>Σ_i γ_ik (y_i − ⟨x_i, b⟩)² for the current <see cref="Gamma"/>.</summary>
    public double WeightedSquaredResidual(int k, ReadOnlySpan<double> b)
    {
        int n = _data.N;
        double s = 0;
        for (int start = 0; start < n; start += Block)
        {
            int count = Math.Min(Block, n - start);
            var r = _residual.AsSpan(0, count);
            var w = _weighted.AsSpan(0, count);
            Residual(b, start, count, r);
            TensorPrimitives.Multiply(r, Gamma.AsSpan(k * n + start, count), w);
            s += TensorPrimitives.Dot(w, r);
        }
        return s;
    }
}
