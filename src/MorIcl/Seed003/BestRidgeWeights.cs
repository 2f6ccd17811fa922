using MathNet.Numerics.LinearAlgebra;

namespace MorIcl.Seed003;

/// <summary>
/// The best ridge predictor of seed 003 eq. (23)–(25) as attention weights, computed by a route independent
/// of <see cref="RidgeReference"/> and <see cref="PopulationLoss"/> (which both factor ZZᵀ + cI by Cholesky):
/// λ̂_τ(y) = argmin ‖Zᵀλ − y‖² + Nτ‖λ‖² is the least-squares solution of the stacked system [Zᵀ; √(Nτ) I] λ = [y; 0],
/// solved by Householder QR, so λ̂_τ = W y with W = R⁻¹Q₁ᵀ restricted to the first N rows. Then ŷ_best,k = ⟨y, a_k⟩ with
/// a_k = e_k for a given token (k ≤ N) and a_k = Wᵀẑ_k for an unseen one.
/// </summary>
public static class BestRidgeWeights
{
    /// <summary>The K columns a_k (each of length N).</summary>
    public static double[][] Compute(RepresentationTask task)
    {
        int n = task.N, m = task.M, k = task.K;
        var stacked = Matrix<double>.Build.Dense(n + m, m, (i, j) => i < n ? task.Features[i][j] : (i - n == j ? Math.Sqrt(n * task.Tau) : 0));
        var rhs = Matrix<double>.Build.Dense(n + m, n, (i, j) => i == j ? 1 : 0);
        var w = stacked.QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin).Solve(rhs);   // m × N: λ̂_τ = W y
        return Enumerable.Range(0, k).Select(c => c < n
            ? Enumerable.Range(0, n).Select(i => i == c ? 1.0 : 0.0).ToArray()
            : w.TransposeThisAndMultiply(Vector<double>.Build.DenseOfArray(task.Features[c])).ToArray()).ToArray();
    }

    /// <summary>E_{λ,ε} (1/K)‖Âᵀy − A_bestᵀy‖² = (1/K) Σ_k (â_k − a_k)ᵀ M (â_k − a_k), with E[yyᵀ] = M = ZᵀZ + mτI.</summary>
    public static double ExpectedGap(PopulationLoss loss, double[][] a, double[][] best)
    {
        var t = loss.Task;
        double sum = 0;
        var diff = new double[t.N];
        for (int c = 0; c < t.K; c++)
        {
            for (int i = 0; i < t.N; i++) diff[i] = a[c][i] - best[c][i];
            for (int i = 0; i < t.N; i++)
                for (int j = 0; j < t.N; j++) sum += diff[i] * loss.Gram[i, j] * diff[j];
        }
        return sum / t.K;
    }
}
