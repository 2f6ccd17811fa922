using MathNet.Numerics.LinearAlgebra;

namespace MorIcl.Seed001;

/// <summary>
/// The population mean-square loss of the LSA layer on <see cref="LsaDistribution"/> in closed form, its gradient
/// in (p, Q), and a bound on its curvature. The loss is L(p, Q) = E[(ŷ − y_q)²] <b>without</b> a factor ½, and every
/// gradient and curvature here is of that L.
/// <para><b>Closed form</b> (after Zhang, Frei and Bartlett 2023, §5.1, which reduces their loss to a
/// quadratic in the product of the value and key-query blocks; here for MoR labels). Write Γ = pQ, so ŷ = hᵀΓx_q.</para>
/// <list type="number">
/// <item>Given (β, the examples, z_q, ε_q), x_q ~ N(0, I) is independent, so E[(hᵀΓx_q)²] = E[hᵀΓΓᵀh] = tr(ΓᵀSΓ)
/// with S := E[hhᵀ]; E[hᵀΓx_q · z_q x_qᵀβ] = E[z_q]·E[hᵀΓβ] = μ tr(Γ E[βhᵀ]) = μ tr(ΓᵀM) with M := E[hβᵀ];
/// the ε_q cross term vanishes; E[y_q²] = E‖β‖² + σ² = d c + σ². Hence
/// L = tr(ΓᵀSΓ) − 2μ tr(ΓᵀM) + d c + σ².</item>
/// <item>M: E[y_i x_i | β] = E[z_i]E[x_i x_iᵀ]β = μβ, so M = (1/n)Σ_i E[y_i x_i βᵀ] = μE[ββᵀ] = μ c I =: m I.</item>
/// <item>S = (1/n²) Σ_{i,j} E[y_i y_j x_i x_jᵀ]. For i ≠ j the two factors are independent given β:
/// E[μβ μβᵀ] = μ² c I; there are n(n − 1) such pairs. For i = j, with the Gaussian fourth moment
/// E[(xᵀb)² x xᵀ] = ‖b‖² I + 2 b bᵀ (z_i² = 1, cross terms with ε_i vanish):
/// E[y_i² x_i x_iᵀ] = E[‖β‖² I + 2ββᵀ] + σ² I = (d c + 2c + σ²) I; there are n such terms. So
/// S = s I with s = ((n − 1)/n) μ² c + ((d + 2) c + σ²)/n.</item>
/// </list>
/// <para>So L(Γ) = s‖Γ‖_F² − 2μm tr Γ + d c + σ², a strictly convex quadratic in Γ (s &gt; 0), with
/// ∇_Γ L = G(Γ) := 2sΓ − 2μm I and, by the chain rule through Γ = pQ, ∂L/∂p = ⟨G, Q⟩_F, ∇_Q L = p·G.
/// Its minimiser and minimum are in <see cref="LsaOptimum"/>; completing the square gives the exact identity
/// L(Γ) − L* = s‖Γ − Γ*‖_F² (<see cref="Excess(LsaDistribution, Matrix{double})"/>, free of the cancellation in L − L*).</para>
/// <para><b>Curvature.</b> Along a direction (δp, δQ) of unit norm, d²/dt² L((p + tδp)(Q + tδQ)) at t = 0 is
/// 2s‖δp Q + p δQ‖_F² + 2δp⟨G, δQ⟩ ≤ 2s(p² + ‖Q‖_F²) + ‖G‖_F (Cauchy–Schwarz and 2|δp|‖δQ‖ ≤ 1), which
/// <see cref="CurvatureBound"/> returns; a step η with η·bound ≤ 1 along the iterates is the usual descent-lemma step.</para>
/// </summary>
public static class LsaPopulationLoss
{
    /// <summary>s with S = E[hhᵀ] = s I: s = ((n − 1)/n) μ² c + ((d + 2) c + σ²)/n.</summary>
    public static double S(LsaDistribution q)
    {
        double mu = q.Mu, n = q.N;
        return (n - 1) / n * mu * mu * q.C + ((q.D + 2) * q.C + q.Sigma * q.Sigma) / n;
    }

    /// <summary>m with M = E[hβᵀ] = m I: m = μ c.</summary>
    public static double M(LsaDistribution q) => q.Mu * q.C;

    /// <summary>L(Γ) = s‖Γ‖_F² − 2μm tr Γ + d c + σ² (= tr(ΓᵀSΓ) − 2μ tr(ΓᵀM) + d c + σ² with S = sI, M = mI).</summary>
    public static double Loss(LsaDistribution q, Matrix<double> gamma)
    {
        Check(q, gamma);
        return S(q) * LsaLayer.SquaredFrobenius(gamma) - 2 * q.Mu * M(q) * gamma.Trace() + q.LabelSecondMoment;
    }

    /// <summary>L(p, Q) = L(pQ).</summary>
    public static double Loss(LsaDistribution q, LsaLayer layer) => Loss(q, layer.Gamma);

    /// <summary>G(Γ) = ∇_Γ L = 2sΓ − 2μm I.</summary>
    public static Matrix<double> GammaGradient(LsaDistribution q, Matrix<double> gamma)
    {
        Check(q, gamma);
        var g = gamma * (2 * S(q));
        double shift = 2 * q.Mu * M(q);
        for (int a = 0; a < q.D; a++) g[a, a] -= shift;
        return g;
    }

    /// <summary>(∂L/∂p, ∇_Q L) = (⟨G, Q⟩_F, p·G) with G = G(pQ).</summary>
    public static LsaGradient Gradient(LsaDistribution q, LsaLayer layer)
    {
        var g = GammaGradient(q, layer.Gamma);
        double dp = 0;
        for (int a = 0; a < q.D; a++)
            for (int b = 0; b < q.D; b++) dp += g.At(a, b) * layer.Q.At(a, b);
        return new LsaGradient(dp, g * layer.P);
    }

    /// <summary>L(Γ) − L* = s‖Γ − Γ*‖_F², computed without subtracting two O(1) numbers.</summary>
    public static double Excess(LsaDistribution q, Matrix<double> gamma)
    {
        Check(q, gamma);
        return S(q) * LsaLayer.SquaredFrobenius(gamma - new LsaOptimum(q).Gamma);
    }

    /// <summary>L(pQ) − L*.</summary>
    public static double Excess(LsaDistribution q, LsaLayer layer) => Excess(q, layer.Gamma);

    /// <summary>An upper bound on the largest eigenvalue of the Hessian of L in (p, Q) at <paramref name="layer"/>:
    /// 2s(p² + ‖Q‖_F²) + ‖G(pQ)‖_F.</summary>
    public static double CurvatureBound(LsaDistribution q, LsaLayer layer) =>
        2 * S(q) * (layer.P * layer.P + LsaLayer.SquaredFrobenius(layer.Q)) + GammaGradient(q, layer.Gamma).FrobeniusNorm();

    private static void Check(LsaDistribution q, Matrix<double> gamma)
    {
        if (gamma.RowCount != q.D || gamma.ColumnCount != q.D)
            throw new SpecificationException($"Γ is {gamma.RowCount}×{gamma.ColumnCount}, expected d×d with d = {q.D}");
    }
}
