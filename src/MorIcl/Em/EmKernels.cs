using MorIcl.Numerics.Simd;
using System.Numerics.Tensors;
using MorIcl.Mixture;
using MorIcl.Numerics;

namespace MorIcl.Em;

/// <summary>
/// The passes over the data that EM needs, each one read of X in blocks of rows (feature-major
/// columns, SIMD over examples: register-tiled kernels from <see cref="GramKernel"/> for the Gram,
/// the gradients and the residuals, TensorPrimitives for the rest). One workspace per data set; no
/// allocation inside a pass.
/// </summary>
internal sealed class EmKernels
{
    /// <summary>
    /// Rows per block: the block's d columns of X (d·Block doubles) stay in L2 while every component
    /// uses them, and a row strip of γ ⊙ x plus the columns a Gram tile sweeps stay in L1 (256 measured
    /// best of 128…1024 for the tiled Gram at d = 20).
    /// </summary>
    internal const int Block = 256;

    /// <summary>From this many rows on, the kernels' scratch is 64-byte aligned (see <see cref="AlignedBuffer"/>).</summary>
    private const int AlignedScratchRows = 32 * Block;

    private static readonly double HalfLog2Pi = 0.5 * Math.Log(2 * Math.PI);

    private readonly RegressionData _data;
    private readonly int _k;
    private readonly double[] _residual;   // K × Block
    private readonly AlignedBuffer _logit; // K × Block (after γ is formed: γ_k ⊙ r_k for the gradient)
    private readonly double[] _max;        // Block
    private readonly double[] _sum;        // Block
    private readonly AlignedBuffer _weighted; // StripRows × Block: a strip of γ ⊙ x_a (and γ ⊙ y)
    private TiledCrossProducts[]? _gram;   // per component: G_k and h_k (created at the first exact E-step)
    private TiledCrossProducts? _gradientAll; // K × D: Σ γ_ik r_ik x_i for every component at once
    private readonly TiledCrossProducts _gradientOne; // 1 × D: one component's gradient

    /// <summary>Responsibilities γ_ik, component-major: γ_k is [k·n, (k+1)·n).</summary>
    public double[] Gamma { get; }

    public EmKernels(RegressionData data, int k)
    {
        _data = data; _k = k;
        _residual = new double[k * Block];
        // Aligned (pinned) scratch only where the passes are long enough to repay its allocation.
        bool align = data.N >= AlignedScratchRows;
        _logit = new AlignedBuffer(k * Block, align);
        _max = new double[Block];
        _sum = new double[Block];
        _weighted = new AlignedBuffer(GramKernel.StripRows * Block, align);
        _gradientOne = new TiledCrossProducts(1, data.D, lowerTriangle: false);
        Gamma = new double[(long)k * data.N];
    }

    public ReadOnlySpan<double> GammaOf(int k) => new(Gamma, k * _data.N, _data.N);

    /// <summary>r = y − X b on rows [start, start + count).</summary>
    private void Residual(ReadOnlySpan<double> b, int start, int count, Span<double> r) =>
        LinearResidual.Compute(BlockColumns(start, count), _data.N, b, _data.Y.AsSpan(start, count), r);

    /// <summary>
    /// E-step (docs/math.md §2): γ_ik = softmax_k(log π_k − log σ_k − (y_i − ⟨x_i, β_k⟩)²/(2σ_k²)) by a stable
    /// log-sum-exp, written into <see cref="Gamma"/>. Returns the log-likelihood
    /// Σ_i log Σ_k π_k φ_{σ_k}(y_i − ⟨x_i, β_k⟩). When <paramref name="gram"/> is given, the same pass
    /// accumulates, per component, the weighted Gram G_k = Σ γ_ik x_i x_iᵀ (lower triangle, d×d
    /// row-major), h_k = Σ γ_ik y_i x_i and n_k = Σ γ_ik. When <paramref name="gradient"/> is given it
    /// accumulates g_k = Σ γ_ik r_ik x_i (r at the current β, the first inner gradient step) and n_k.
    /// </summary>
    /// <param name="logMixing">log π_k to use instead of log(p.Mixing[k]) (see <see cref="EmOptions.EstimatedMixingLog"/>).</param>
    public double EStep(MixtureParameters p, double[][]? gram, double[][]? h, double[][]? gradient, double[]? nk, double[]? logMixing = null)
    {
        int n = _data.N, d = _data.D, K = _k;
        var c = new double[K];
        var scale = new double[K];
        for (int k = 0; k < K; k++)
        {
            c[k] = (logMixing is null ? Math.Log(p.Mixing[k]) : logMixing[k]) - Math.Log(p.Sigma[k]) - HalfLog2Pi;
            scale[k] = -0.5 / (p.Sigma[k] * p.Sigma[k]);
        }
        if (gram is not null)
        {
            _gram ??= Enumerable.Range(0, K).Select(_ => GramKernel.CreateAccumulator(d)).ToArray();
            foreach (var g in gram) Array.Clear(g);
            foreach (var acc in _gram) acc.Clear();
        }
        if (gradient is not null)
        {
            _gradientAll ??= new TiledCrossProducts(K, d, lowerTriangle: false);
            _gradientAll.Clear();
        }
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
                var l = _logit.Slice(k * Block, count);
                Residual(p.Beta[k], start, count, r);
                TensorPrimitives.Multiply(r, r, l);
                TensorPrimitives.Multiply(l, scale[k], l);
                TensorPrimitives.Add(l, c[k], l);
                if (k == 0) l.CopyTo(max); else TensorPrimitives.Max(max, l, max);
            }
            sum.Clear();
            for (int k = 0; k < K; k++)
            {
                var l = _logit.Slice(k * Block, count);
                TensorPrimitives.Subtract(l, max, l);
                SimdSpan.Exp(l, l);
                TensorPrimitives.Add(sum, l, sum);
            }
            logLik += SimdSpan.Sum(max);
            for (int k = 0; k < K; k++)
            {
                var gk = Gamma.AsSpan(k * n + start, count);
                TensorPrimitives.Divide(_logit.Slice(k * Block, count), sum, gk);
            }
            SimdSpan.Log(sum, sum);
            logLik += SimdSpan.Sum(sum);

            var x = BlockColumns(start, count);
            for (int k = 0; k < K; k++)
            {
                ReadOnlySpan<double> gk = Gamma.AsSpan(k * n + start, count);
                if (nk is not null) nk[k] += SimdSpan.Sum(gk);
                // G_k += Σ γ_ik x_i x_iᵀ, h_k += Σ γ_ik y_i x_i over the block (docs/math.md §2, exact M-step).
                if (gram is not null) GramKernel.Accumulate(_gram![k], gk, x, n, _data.Y.AsSpan(start, count), _weighted.Span);
                // γ_k ⊙ r_k into the (consumed) logit rows, for all components' gradients at once below.
                if (gradient is not null) TensorPrimitives.Multiply(gk, _residual.AsSpan(k * Block, count), _logit.Slice(k * Block, count));
            }
            if (gradient is not null) _gradientAll!.Accumulate(_logit.Span, Block, x, n, count);
        }

        if (gram is not null)
            for (int k = 0; k < K; k++) GramKernel.Read(_gram![k], gram[k], h![k]);
        if (gradient is not null)
            for (int k = 0; k < K; k++)
                for (int a = 0; a < d; a++) gradient[k][a] = _gradientAll!.Sum(k, a);
        return logLik;
    }

    /// <summary>All d columns of rows [start, start + count): column a at [a·N, a·N + count).</summary>
    private ReadOnlySpan<double> BlockColumns(int start, int count) =>
        _data.Columns.AsSpan(start, (_data.D - 1) * _data.N + count);

    /// <summary>g = Σ_i γ_ik (y_i − ⟨x_i, b⟩) x_i for the current <see cref="Gamma"/> (one inner step's data pass).</summary>
    public void Gradient(int k, ReadOnlySpan<double> b, Span<double> g)
    {
        int n = _data.N, d = _data.D;
        _gradientOne.Clear();
        for (int start = 0; start < n; start += Block)
        {
            int count = Math.Min(Block, n - start);
            var r = _logit.Slice(0, count);
            Residual(b, start, count, r);
            TensorPrimitives.Multiply(r, Gamma.AsSpan(k * n + start, count), r);
            _gradientOne.Accumulate(r, count, BlockColumns(start, count), n, count);
        }
        for (int a = 0; a < d; a++) g[a] = _gradientOne.Sum(0, a);
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
            var w = _weighted.Slice(0, count);
            Residual(b, start, count, r);
            TensorPrimitives.Multiply(r, Gamma.AsSpan(k * n + start, count), w);
            s += SimdSpan.Dot(w, r);
        }
        return s;
    }
}
