using MathNet.Numerics.LinearAlgebra;

namespace MorIcl.Seed003;

/// <summary>
/// The constants of seed 003 Theorem 1 at an initialisation θ(0): ζ₀ = min_k λ_min(B_k(0) B_k(0)ᵀ) with
/// B_k = Z̄ C_k, C_k = (s^1_k … s^H_k) ∈ R^{N×H} (eqs. (13)–(14)); f̄_max = max_i ‖z̄_i‖ (eq. (12));
/// Δ(0) = L(θ(0)) − inf L; γ at equality in eq. (15); the smoothness L and η_Q = 1/L, η_w = γ² η_Q
/// (eq. (16)); and the rate ρ = 1 − η_w ζ₀ / (2K) of eq. (18).
///
/// Eq. (15), reconstructed from its proof (eq. (48) with ᾱ and σ of eq. (44)):
///   γ² = 128√2/(√2 − 1) · ‖Z̄‖₂² √H f̄_max K^{3/2} Δ(0) / ζ₀^{5/2},   ᾱ = 4‖Z̄‖₂ √(2KΔ(0)) / (γ ζ₀).
/// The smoothness constant's source text (eqs. (17) and (61)) is partly garbled. Both readings are
/// computed — eq. (17) with ‖A‖₂ ≤ 1 + ‖ZᵀẐ‖₂/(mτ) and eq. (61) with an extra factor K² where the
/// prefactor is ambiguous — and the larger is used. A larger L only makes η_Q = 1/L smaller, which
/// Theorem 1 allows (η_Q ≤ 1/L), so the check runs inside the theorem's hypotheses either way.
/// </summary>
public sealed record TheoremOneConstants(
    double Zeta0, double FBarMax, double ZBarNorm, double ANorm, double InitialGap,
    double Gamma, double AlphaBar, double Smoothness17, double Smoothness61, double EtaQ, double EtaW, double Rate)
{
    public double Smoothness => Math.Max(Smoothness17, Smoothness61);

    /// <summary>Per k, the smallest and largest eigenvalue of B_k B_kᵀ with B_k = Z̄ C_k (eq. (13)) at the model's current parameters.</summary>
    public static (double Min, double Max)[] Spectra(SoftmaxAttentionModel model, PopulationLoss loss)
    {
        var t = model.Task;
        var s = model.AttentionWeights();
        var result = new (double, double)[t.K];
        for (int k = 0; k < t.K; k++)
        {
            var c = Matrix<double>.Build.Dense(t.N, model.H, (i, h) => s[(h * t.K + k) * t.N + i]);
            var b = loss.ZBar * c;
            var ev = b.TransposeAndMultiply(b).Evd(Symmetricity.Symmetric).EigenValues.Real();
            result[k] = (ev.Minimum(), ev.Maximum());
        }
        return result;
    }

    /// <summary>ζ₀ of eq. (14) at the model's current parameters.</summary>
    public static double Zeta(SoftmaxAttentionModel model, PopulationLoss loss) => Math.Max(Spectra(model, loss).Min(e => e.Min), 0);

    public static TheoremOneConstants At(SoftmaxAttentionModel model, PopulationLoss loss)
    {
        var t = model.Task;
        int K = t.K, N = t.N, H = model.H;
        double zeta = Zeta(model, loss);
        double fbar = Enumerable.Range(0, N).Max(i => loss.ZBar.Column(i).L2Norm());
        double zbar = loss.ZBar.L2Norm();
        double aNorm = loss.A.L2Norm();
        double delta = loss.Evaluate(model.EffectiveWeights()) - loss.Infimum;
        double gamma = Math.Sqrt(128 * Math.Sqrt(2) / (Math.Sqrt(2) - 1) * zbar * zbar * Math.Sqrt(H) * fbar * Math.Pow(K, 1.5) * delta / Math.Pow(zeta, 2.5));
        double alpha = 4 * zbar * Math.Sqrt(2 * K * delta) / (gamma * zeta);

        var z = Matrix<double>.Build.Dense(t.M, K, (i, k) => t.Features[k][i]);
        double ztzhat = z.SubMatrix(0, t.M, 0, N).TransposeThisAndMultiply(z).L2Norm();
        double aBound = 1 + ztzhat / (t.M * t.Tau);
        double z2 = zbar * zbar, z4 = z2 * z2;
        double first = 8 * Math.Sqrt(2) * H * Math.Sqrt(K) * z2 * Math.Sqrt(delta) / zeta + aBound;
        double l17sq = first * first * z4 * (8 * gamma * gamma / K + 4096.0 * K * K * N * delta / (gamma * zeta * zeta))
                       + 2.0 * H * H * z4 * (Math.Pow(gamma, 4) / (K * K) + 16384.0 * Math.Pow(K, 3) * z2 * delta * delta / (gamma * Math.Pow(zeta, 4)));
        double inner = 2 * gamma * z2 * (2 * gamma * H * alpha + aNorm);
        double ag = alpha * gamma * H;
        double l61sq = 2 * (inner * inner / K + Math.Pow(gamma, 4) * H * H * z4 / (K * K))
                       + 8 * Math.Pow(gamma * fbar * zbar, 2) * Math.Max(1, 4 * K * alpha * alpha) * (ag * ag + 4 * N * Math.Pow(ag + aNorm, 2));
        double l17 = Math.Sqrt(l17sq), l61 = Math.Sqrt(l61sq);
        double etaQ = 1 / Math.Max(l17, l61);
        double etaW = gamma * gamma * etaQ;
        return new TheoremOneConstants(zeta, fbar, zbar, aNorm, delta, gamma, alpha, l17, l61, etaQ, etaW, 1 - etaW * zeta / (2 * K));
    }
}
