using MathNet.Numerics.LinearAlgebra;
using MorIcl.Mixture;

namespace MorIcl.Em;

/// <summary>
/// A gradient EM step size that cannot diverge on a given prompt: α = 1/λ_max(XᵀX/n). The inner step
/// b ← b + α (1/n) Σ_i γ_ik x_i (y_i − ⟨x_i, b⟩) (docs/math.md §2) is gradient descent on a quadratic
/// with Hessian (1/n) Σ_i γ_ik x_i x_iᵀ ≼ XᵀX/n (0 ≤ γ_ik ≤ 1), so with this α every step is
/// non-expansive, whatever the responsibilities. Seed 000's α = 0.5 is not: when n ≤ d, λ_max(XᵀX/n)
/// is about (√d + √n)²/n (≈ 5.8 for d = 10, n = 5), α·λ_max exceeds 2 and the iterates grow geometrically.
/// </summary>
public static class StableStepSize
{
    public static double Of(RegressionData data)
    {
        int n = data.N, d = data.D;
        var gram = Matrix<double>.Build.Dense(d, d);
        for (int a = 0; a < d; a++)
            for (int b = 0; b <= a; b++)
            {
                ReadOnlySpan<double> u = data.Column(a), v = data.Column(b);
                double s = 0;
                for (int i = 0; i < n; i++) s += u[i] * v[i];   // index order: the same sum on every machine
                gram[a, b] = gram[b, a] = s / n;
            }
        double top = gram.Evd(Symmetricity.Symmetric).EigenValues.Max(e => e.Real);
        if (!(top > 0) || !double.IsFinite(top)) throw new NumericalException($"the examples' Gram matrix has no positive eigenvalue (λ_max = {top}): no gradient step is defined");
        return 1 / top;
    }
}
