using MorIcl.Numerics.Simd;
using System.Numerics.Tensors;
using MathNet.Numerics.Distributions;
using MorIcl.Numerics;

namespace MorIcl.Seed003;

/// <summary>
/// Seed 003's one-layer transformer with H softmax heads (eqs. (5)–(8), docs/math.md §4):
/// ŷ_k = ⟨y, Σ_h w_{h,k} softmax(Vᵀ Q_h v_k)⟩ with trainable Q_h ∈ R^{d×d} and w_h ∈ R^K. Because the
/// prompt always holds the same N tokens, the attention part is one N×K matrix
/// Â(θ) = (Σ_h w_{h,1} s_1^h, …, Σ_h w_{h,K} s_K^h) (eq. (35)) and ŷ = Âᵀ y.
/// Parameters are one flat vector θ = (Q_1, …, Q_H row-major, w_{1,1…K}, …, w_{H,1…K}) so optimisers
/// and checkpoints treat them uniformly.
/// </summary>
public sealed class SoftmaxAttentionModel
{
    public RepresentationTask Task { get; }
    public int H { get; }
    public double[] Parameters { get; }

    public SoftmaxAttentionModel(RepresentationTask task, int heads, double[]? parameters = null)
    {
        if (heads < 1) throw new SpecificationException($"the number of heads H must be at least 1, got {heads}");
        Task = task; H = heads;
        Parameters = parameters ?? new double[Count(task, heads)];
        if (Parameters.Length != Count(task, heads)) throw new SpecificationException($"parameter vector has length {Parameters.Length}, expected {Count(task, heads)}");
    }

    public static int Count(RepresentationTask task, int heads) => heads * (task.D * task.D + task.K);

    /// <summary>Seed 003's initialisation (Theorem 1, Proposition 1): Q_h(0) entries iid N(0, β²), w_h(0) = 0.</summary>
    public static SoftmaxAttentionModel Initialise(RepresentationTask task, int heads, double beta, int seed)
    {
        if (!(beta > 0)) throw new SpecificationException($"initial scale β must be > 0, got {beta}");
        var m = new SoftmaxAttentionModel(task, heads);
        var rng = SeedSequence.Create(seed, 0, 0x3A11);
        var q = new double[heads * task.D * task.D];
        Normal.Samples(rng, q, 0, beta);
        q.CopyTo(m.Parameters, 0);
        return m;
    }

    public int QOffset(int h) => h * Task.D * Task.D;
    public int WOffset(int h) => H * Task.D * Task.D + h * Task.K;
    public double W(int h, int k) => Parameters[WOffset(h) + k];

    /// <summary>
    /// Attention weights s[(h·K + k)·N + i] = softmax_i(v_iᵀ Q_h v_k), i &lt; N (the max is subtracted).
    /// </summary>
    public double[] AttentionWeights()
    {
        var t = Task;
        int d = t.D, K = t.K, N = t.N;
        var s = new double[H * K * N];
        Parallel.For(0, H, Numerics.Parallelism.Options(), h =>
        {
            var q = Parameters.AsSpan(QOffset(h), d * d);
            var p = new double[d];
            for (int k = 0; k < K; k++)
            {
                for (int a = 0; a < d; a++) p[a] = SimdSpan.Dot(q.Slice(a * d, d), t.Tokens[k]);
                var row = s.AsSpan((h * K + k) * N, N);
                for (int i = 0; i < N; i++) row[i] = SimdSpan.Dot<double>(t.Tokens[i], p);
                double max = SimdSpan.Max<double>(row);
                TensorPrimitives.Subtract(row, max, row);
                SimdSpan.Exp(row, row);
                TensorPrimitives.Divide(row, SimdSpan.Sum<double>(row), row);
            }
        });
        return s;
    }

    /// <summary>Â as K columns of length N: Â[k][i] = Σ_h w_{h,k} s^h_{ik} (eq. (35)).</summary>
    public double[][] EffectiveWeights(double[] s)
    {
        int K = Task.K, N = Task.N;
        var a = new double[K][];
        for (int k = 0; k < K; k++)
        {
            a[k] = new double[N];
            for (int h = 0; h < H; h++) TensorPrimitives.MultiplyAdd(s.AsSpan((h * K + k) * N, N), W(h, k), a[k], a[k]);
        }
        return a;
    }

    public double[][] EffectiveWeights() => EffectiveWeights(AttentionWeights());

    /// <summary>ŷ_k = ⟨y, Â_{:,k}⟩ for every k (eq. (8)).</summary>
    public static double[] Predict(double[][] a, double[] labels) => a.Select(col => SimdSpan.Dot<double>(col, labels)).ToArray();

    public double[] Predict(double[] labels) => Predict(EffectiveWeights(), labels);

    /// <summary>
    /// Back-propagates G = ∂L/∂Â (K columns of length N) to ∂L/∂θ:
    /// ∂L/∂w_{h,k} = ⟨s^h_k, g_k⟩; with r^h_{ik} = w_{h,k} s^h_{ik} (g_{ik} − ⟨s^h_k, g_k⟩) (the softmax
    /// Jacobian), ∂L/∂Q_h = Σ_k (Σ_i r^h_{ik} v_i) v_kᵀ, since ∂(v_iᵀ Q v_k)/∂Q = v_i v_kᵀ.
    /// </summary>
    public double[] Backward(double[] s, double[][] g)
    {
        var t = Task;
        int d = t.D, K = t.K, N = t.N;
        var grad = new double[Parameters.Length];
        Parallel.For(0, H, Numerics.Parallelism.Options(), h =>
        {
            var dq = grad.AsSpan(QOffset(h), d * d);
            var u = new double[d];
            var r = new double[N];
            for (int k = 0; k < K; k++)
            {
                var sk = s.AsSpan((h * K + k) * N, N);
                double dw = SimdSpan.Dot<double>(sk, g[k]);
                grad[WOffset(h) + k] = dw;
                double w = W(h, k);
                if (w == 0) continue;
                TensorPrimitives.Subtract(g[k], dw, r);
                TensorPrimitives.Multiply(r, sk, r);
                TensorPrimitives.Multiply(r, w, r);
                Array.Clear(u);
                for (int i = 0; i < N; i++) TensorPrimitives.MultiplyAdd(t.Tokens[i], r[i], u, u);
                var vk = t.Tokens[k];
                for (int a = 0; a < d; a++) TensorPrimitives.MultiplyAdd(vk, u[a], dq.Slice(a * d, d), dq.Slice(a * d, d));
            }
        });
        return grad;
    }
}
