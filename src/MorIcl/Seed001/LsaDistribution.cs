using System.Globalization;

namespace MorIcl.Seed001;

/// <summary>
/// The prompt distribution on which seed 001 (Jin, Balasubramanian, Lai 2024, v2 abstract) trains one linear
/// self-attention (LSA) layer: the symmetric two-component mixture of linear regressions with per-sample signs
/// and a fresh regression vector per prompt.
/// <list type="bullet">
/// <item>n examples (x_i, y_i) and a query x_q; x_1 … x_n, x_q ~ N(0, I_d) i.i.d.</item>
/// <item>per prompt β ~ N(0, c·I_d), c &gt; 0 (default c = 1/d, so E‖β‖² = d·c = 1);</item>
/// <item>y_i = z_i ⟨x_i, β⟩ + σ ε_i with z_i = +1 with probability π and −1 with probability 1 − π, ε_i ~ N(0, 1),
/// all independent; the query label y_q = z_q ⟨x_q, β⟩ + σ ε_q likewise (its own sign z_q and noise ε_q).</item>
/// </list>
/// μ := E z = 2π − 1. Given β this is <see cref="Mixture.MixtureSpec.SymmetricTwoComponent"/> in per-sample mode
/// (component 1 = +β, component 2 = −β), so prompts are drawn by the project's <see cref="Mixture.PromptSampler"/>
/// (see <see cref="LsaPromptSampler"/>). π must lie in (0, 1) and σ must be &gt; 0, as for every MixtureSpec.
/// </summary>
public sealed class LsaDistribution
{
    /// <summary>Dimension d of x and β.</summary>
    public int D { get; }
    /// <summary>Number n of labelled examples per prompt.</summary>
    public int N { get; }
    /// <summary>P(z = +1).</summary>
    public double Pi { get; }
    /// <summary>Noise level σ.</summary>
    public double Sigma { get; }
    /// <summary>Prior variance c of each coordinate of β: β ~ N(0, c·I_d).</summary>
    public double C { get; }

    public LsaDistribution(int d, int n, double pi, double sigma, double? c = null)
    {
        if (d < 1) throw new SpecificationException($"the dimension d must be at least 1, got {d}");
        if (n < 1) throw new SpecificationException($"the prompt length n must be at least 1, got {n}");
        if (!(pi > 0 && pi < 1)) throw new SpecificationException($"the mixing weight pi must lie in (0, 1), got {Fmt(pi)}");
        Mixture.MixtureSpec.ValidateSigma(sigma, "sigma");
        double cv = c ?? 1.0 / d;
        if (!double.IsFinite(cv) || cv <= 0) throw new SpecificationException($"the prior variance c must be a finite number > 0, got {Fmt(cv)}");
        D = d; N = n; Pi = pi; Sigma = sigma; C = cv;
    }

    /// <summary>μ = E z = 2π − 1.</summary>
    public double Mu => 2 * Pi - 1;

    /// <summary>E y_q² = E‖β‖² + σ² = d·c + σ² (E[z²] = 1, E[x_q x_qᵀ] = I): the loss of the zero predictor.</summary>
    public double LabelSecondMoment => D * C + Sigma * Sigma;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"d = {D}, n = {N}, π = {Pi}, σ = {Sigma}, c = {C:G4}");

    private static string Fmt(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
