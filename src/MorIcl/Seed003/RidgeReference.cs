using MathNet.Numerics.LinearAlgebra;

namespace MorIcl.Seed003;

/// <summary>
/// The two ridge regressions of seed 003 §3.2. λ̂ (eq. (20)) minimises (1/2N) Σ_i (y_i − λᵀ f(v_i))² +
/// (mτ/2N)‖λ‖², i.e. (ZZᵀ + mτ I) λ̂ = Z y — what the trained transformer implements (Theorem 2,
/// ŷ* = (y; (Z^Q)ᵀ λ̂), eq. (22)). λ̂_τ (eq. (25)) has penalty τ/2, i.e. (ZZᵀ + Nτ I) λ̂_τ = Z y — the best
/// possible (eq. (23), ŷ_best). The two coincide when N = m.
/// </summary>
public sealed class RidgeReference
{
    public RepresentationTask Task { get; }
    private readonly MathNet.Numerics.LinearAlgebra.Factorization.Cholesky<double> _transformer, _best;
    private readonly Matrix<double> _z;

    public RidgeReference(RepresentationTask task)
    {
        Task = task;
        _z = Matrix<double>.Build.Dense(task.M, task.N, (i, k) => task.Features[k][i]);
        var zzt = _z.TransposeAndMultiply(_z);
        var id = Matrix<double>.Build.DenseIdentity(task.M);
        _transformer = (zzt + task.M * task.Tau * id).Cholesky();
        _best = (zzt + task.N * task.Tau * id).Cholesky();
    }

    /// <summary>ŷ* of eq. (22): the prompt's labels, then ẑ_kᵀ λ̂ for the K − N unseen tokens.</summary>
    public double[] TransformerTarget(double[] labels) => Predict(labels, _transformer);

    /// <summary>ŷ_best of eq. (23): the labels, then ẑ_kᵀ λ̂_τ.</summary>
    public double[] Best(double[] labels) => Predict(labels, _best);

    private double[] Predict(double[] labels, MathNet.Numerics.LinearAlgebra.Factorization.Cholesky<double> chol)
    {
        var lambda = chol.Solve(_z * Vector<double>.Build.DenseOfArray(labels));
        var t = Task;
        var y = new double[t.K];
        for (int k = 0; k < t.K; k++)
            y[k] = k < t.N ? labels[k] : Enumerable.Range(0, t.M).Sum(i => t.Features[k][i] * lambda[i]);
        return y;
    }

    /// <summary>
    /// E_{λ,ε} (1/K)‖ŷ* − ŷ_best‖² in closed form (Figure 3's gap): with D = (Z^Q)ᵀ(R₁ − R₂),
    /// R₁ = (ZZᵀ + mτI)⁻¹Z, R₂ = (ZZᵀ + NτI)⁻¹Z, and E[yyᵀ] = ZᵀZ + mτ I_N (Assumption 1; the noise of
    /// different tokens is independent), the gap is (1/K) tr(D (ZᵀZ + mτ I) Dᵀ).
    /// </summary>
    public double ExpectedGap()
    {
        var t = Task;
        if (t.N == t.K) return 0;
        var zq = Matrix<double>.Build.Dense(t.M, t.K - t.N, (i, k) => t.Features[t.N + k][i]);
        var r = _transformer.Solve(_z) - _best.Solve(_z);
        var d = zq.TransposeThisAndMultiply(r);
        var cov = _z.TransposeThisAndMultiply(_z) + t.M * t.Tau * Matrix<double>.Build.DenseIdentity(t.N);
        return (d * cov).TransposeAndMultiply(d).Trace() / t.K;
    }
}
