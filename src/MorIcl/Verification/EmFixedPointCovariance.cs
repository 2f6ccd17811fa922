namespace MorIcl.Verification;

/// <summary>
/// The asymptotic covariance of the sample-EM fixed point of the symmetric two-component model (docs/math.md §10.2,
/// "In d"): gradient EM and exact EM share the estimating equation F_n(β) = (1/n) Σ x_i (w_i(β) y_i − ⟨x_i, β⟩) = 0 with
/// w_i = tanh(y_i⟨x_i, β⟩/σ² + ½ log(π/(1 − π))). Linearised at β*, β̂ − β* ≈ (I − J)⁻¹ F_n(β*), with
/// J = E[(1 − w²)(y²/σ²) x xᵀ] (the E-step's sensitivity) and Cov F_n(β*) = E[u² x xᵀ]/n, u = w y − ⟨x, β*⟩.
/// Both matrices are invariant under rotations fixing β*, so E‖β̂ − β*‖² ≈ ((d − 1)·a + b)/n with
/// a = B⊥/(1 − J⊥)² (each direction orthogonal to β*) and b = B∥/(1 − J∥)² (along β*). Misclassification noise is
/// largest where ⟨x, β*⟩ ≈ 0, so b &lt; a: the error grows faster in d than the known-label least squares' d/(n − d − 1).
/// The expectations are two-dimensional (x₁ = ⟨x, β*⟩/‖β*‖ and the noise ε, for each sign of the label) and computed by
/// the midpoint rule on [−8, 8]² (a Gaussian integrand: converged to 1e−15 at 1 000 points a side).
/// </summary>
public static class EmFixedPointCovariance
{
    private const int Points = 1000;
    private const double Half = 8.0;

    /// <summary>(a, b) for regression-vector norm <paramref name="norm"/>, noise σ and mixing π.</summary>
    public static (double Orthogonal, double Parallel) Constants(double norm, double sigma, double pi)
    {
        double h = 2 * Half / Points, logOdds = 0.5 * Math.Log(pi / (1 - pi));
        var node = new double[Points]; var weight = new double[Points];
        for (int i = 0; i < Points; i++) { node[i] = -Half + h * (i + 0.5); weight[i] = Math.Exp(-0.5 * node[i] * node[i]) / Math.Sqrt(2 * Math.PI) * h; }
        double jPar = 0, jOrth = 0, bPar = 0, bOrth = 0;
        foreach (var (sign, p) in new[] { (1.0, pi), (-1.0, 1 - pi) })
            for (int i = 0; i < Points; i++)
            {
                double x1 = node[i], signal = norm * x1;
                for (int j = 0; j < Points; j++)
                {
                    double y = sign * signal + sigma * node[j], w = Math.Tanh(y * signal / (sigma * sigma) + logOdds);
                    double mass = p * weight[i] * weight[j], u = w * y - signal, g = (1 - w * w) * y * y / (sigma * sigma);
                    jOrth += mass * g; jPar += mass * g * x1 * x1; bOrth += mass * u * u; bPar += mass * u * u * x1 * x1;
                }
            }
        return (bOrth / ((1 - jOrth) * (1 - jOrth)), bPar / ((1 - jPar) * (1 - jPar)));
    }

    /// <summary>
    /// The reference E‖β̂ − β*‖² at (n, d): ((d − 1)a + b)/(n − d − 1), the finite-n factor being the known-label least
    /// squares' inverse-Wishart mean (docs/math.md §10.2).
    /// </summary>
    public static double SquaredError((double Orthogonal, double Parallel) c, double n, double d) => ((d - 1) * c.Orthogonal + c.Parallel) / (n - d - 1);
}
