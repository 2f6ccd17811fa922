using MathNet.Numerics.LinearAlgebra;

namespace MorIcl.Seed001;

/// <summary>
/// The global optimum of the LSA population loss (<see cref="LsaPopulationLoss"/>). Setting
/// ∇_Γ L = 2SΓ − 2μM = 0 gives Γ* = μ S⁻¹ M = (μ m / s) I = g* I with
/// g* = μ² c / s = n μ² c / ((n − 1) μ² c + (d + 2) c + σ²), and
/// L* = L(Γ*) = s d g*² − 2μ m d g* + d c + σ² = d c + σ² − d μ⁴ c² / s.
/// Since L(p, Q) depends only on pQ and L(Γ) ≥ L* for every Γ, every (p, Q) with pQ = Γ* is a global minimiser of
/// L(p, Q) (a whole manifold of them; the balanced one p² = ‖Q‖_F² has p² = g*√d). For π = ½ (μ = 0) the examples
/// carry no linear information about the query label: Γ* = 0 and L* = d c + σ².
/// <para>The optimal layer predicts ŷ* = g* hᵀ x_q, i.e. g* times the one-step gradient-descent estimate h of
/// (the signed) β, shrunk by its prior as in Zhang et al.'s result for plain linear regression (μ = 1 there).</para>
/// </summary>
public sealed class LsaOptimum
{
    public LsaDistribution Distribution { get; }
    /// <summary>g* with Γ* = g* I.</summary>
    public double G { get; }
    /// <summary>L* = d c + σ² − d μ⁴ c² / s.</summary>
    public double Loss { get; }

    public LsaOptimum(LsaDistribution distribution)
    {
        Distribution = distribution;
        double mu = distribution.Mu, c = distribution.C, n = distribution.N, sigma2 = distribution.Sigma * distribution.Sigma;
        G = n * mu * mu * c / ((n - 1) * mu * mu * c + (distribution.D + 2) * c + sigma2);
        Loss = distribution.LabelSecondMoment - distribution.D * Math.Pow(mu, 4) * c * c / LsaPopulationLoss.S(distribution);
    }

    /// <summary>Γ* = g* I.</summary>
    public Matrix<double> Gamma => Matrix<double>.Build.DenseIdentity(Distribution.D) * G;

    /// <summary>The balanced global minimiser (p, Q) = (√(g*√d), (g*/p) I) for g* &gt; 0, and (0, 0) for g* = 0.</summary>
    public LsaLayer BalancedMinimiser()
    {
        int d = Distribution.D;
        if (G == 0) return new LsaLayer(0, Matrix<double>.Build.Dense(d, d));
        double p = Math.Sqrt(G * Math.Sqrt(d));
        return new LsaLayer(p, Matrix<double>.Build.DenseIdentity(d) * (G / p));
    }

    /// <summary>ŷ* = g* hᵀ x_q.</summary>
    public double Predict(LsaPrompt prompt)
    {
        double s = 0;
        for (int a = 0; a < prompt.D; a++) s += prompt.H[a] * prompt.Query[a];
        return G * s;
    }
}
