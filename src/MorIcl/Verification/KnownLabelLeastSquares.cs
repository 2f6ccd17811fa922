using MorIcl.Mixture;

namespace MorIcl.Verification;

/// <summary>
/// The least-squares estimate that knows every example's component (docs/math.md §10.2): per component k,
/// β̂_k = argmin Σ_{i: z_i = k} (y_i − ⟨x_i, b⟩)² (symmetric: regress s_i y_i on x_i over all examples). With
/// x ~ N(0, I_d), E‖β̂_k − β_k‖² = σ² E tr((X_kᵀX_k)⁻¹) = σ² d/(n_k − d − 1) exactly (inverse-Wishart mean), so
/// its error is a control variate with known mean for the error of any estimator on the same prompt.
/// </summary>
public static class KnownLabelLeastSquares
{
    /// <summary>β̂_k per component (symmetric: [β̂, −β̂]) and E‖β̂_k − β_k‖² given the component counts; null when a component has n_k ≤ d + 1.</summary>
    public static (double[][] Beta, double[] ExpectedSquaredError)? Fit(MixtureSpec truth, Prompt prompt)
    {
        int d = prompt.D, n = prompt.N, K = truth.Symmetric ? 1 : truth.K;
        var beta = new double[K][];
        var expected = new double[K];
        for (int k = 0; k < K; k++)
        {
            var gram = new double[d * d];
            var rhs = new double[d];
            int count = 0;
            for (int i = 0; i < n; i++)
            {
                double weight;
                if (truth.Symmetric) weight = prompt.Components[i] == 0 ? 1 : -1;
                else if (prompt.Components[i] == k) weight = 1;
                else continue;
                count++;
                for (int a = 0; a < d; a++)
                {
                    double xa = prompt.Examples.X(i, a);
                    rhs[a] += xa * weight * prompt.Examples.Y[i];
                    for (int b = 0; b <= a; b++) gram[a * d + b] += xa * prompt.Examples.X(i, b);
                }
            }
            if (count <= d + 1) return null;
            beta[k] = Em.WeightedLeastSquares.Solve(gram, rhs, d, "known-label least squares");
            expected[k] = truth.Sigma * truth.Sigma * d / (count - d - 1.0);
        }
        if (truth.Symmetric) return (new[] { beta[0], beta[0].Select(v => -v).ToArray() }, new[] { expected[0], expected[0] });
        return (beta, expected);
    }
}
