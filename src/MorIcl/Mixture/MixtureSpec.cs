using System.Globalization;

namespace MorIcl.Mixture;

/// <summary>
/// A mixture of linear regressions (docs/math.md §1): dimension d, K components with regression vectors
/// β_k, mixing weights π, noise level σ, and the mode (per-sample or per-prompt labels).
/// The symmetric two-component model (seed 000 §2–3) is K = 2 with β_2 = −β_1.
/// </summary>
public sealed class MixtureSpec
{
    /// <summary>Tolerance on Σ π_k = 1.</summary>
    public const double MixingSumTolerance = 1e-9;

    public int D { get; }
    public int K { get; }
    public IReadOnlyList<double[]> Beta { get; }
    public IReadOnlyList<double> Mixing { get; }
    public double Sigma { get; }
    public MixtureMode Mode { get; }
    public bool Symmetric { get; }
    /// <summary>
    /// β drawn afresh for every prompt from the prior (each β_k a normalised N(0, I_d) draw, as seed 000 §5
    /// draws its fixed β), so the context must be used to learn them; <see cref="Beta"/> is then only a
    /// placeholder of the right shape, and each <see cref="Prompt.Beta"/> holds the prompt's own.
    /// </summary>
    public bool BetaPerPrompt { get; }

    public MixtureSpec(IReadOnlyList<double[]> beta, IReadOnlyList<double> mixing, double sigma,
        MixtureMode mode = MixtureMode.PerSample, bool symmetric = false, bool betaPerPrompt = false)
    {
        int k = beta.Count;
        if (k < 1) throw new SpecificationException($"the number of components K must be at least 1, got {k}");
        int d = beta[0].Length;
        if (d < 1) throw new SpecificationException($"the dimension d must be at least 1, got {d}");
        for (int j = 0; j < k; j++)
        {
            if (beta[j].Length != d) throw new SpecificationException($"beta[{j}] has {beta[j].Length} entries, expected d = {d}");
            for (int a = 0; a < d; a++)
                if (!double.IsFinite(beta[j][a])) throw new SpecificationException($"beta[{j}][{a}] is {Fmt(beta[j][a])}, not a finite number");
        }
        ValidateMixing(mixing, k, "mixing");
        ValidateSigma(sigma, "sigma");
        if (symmetric)
        {
            if (k != 2) throw new SpecificationException($"the symmetric model has K = 2 components, got K = {k}");
            for (int a = 0; a < d; a++)
                if (beta[1][a] != -beta[0][a]) throw new SpecificationException("the symmetric model needs beta[1] = -beta[0]");
        }
        if (betaPerPrompt && symmetric) throw new SpecificationException("β drawn per prompt is not available for the symmetric model");
        D = d; K = k; Sigma = sigma; Mode = mode; Symmetric = symmetric; BetaPerPrompt = betaPerPrompt;
        Beta = beta.Select(b => (double[])b.Clone()).ToArray();
        Mixing = mixing.ToArray();
    }

    /// <summary>The symmetric two-component model y = s⟨x, β*⟩ + σε with P(s = +1) = π.</summary>
    public static MixtureSpec SymmetricTwoComponent(double[] betaStar, double pi, double sigma, MixtureMode mode = MixtureMode.PerSample)
    {
        if (!(pi > 0 && pi < 1)) throw new SpecificationException($"the symmetric model's mixing weight pi must lie in (0, 1), got {Fmt(pi)}");
        return new MixtureSpec(new[] { (double[])betaStar.Clone(), betaStar.Select(v => -v).ToArray() }, new[] { pi, 1 - pi }, sigma, mode, symmetric: true);
    }

    /// <summary>
    /// Signal-to-noise ratio (docs/math.md §1): η = ‖β*‖/σ in the symmetric model, η = min_{j≠k} ‖β_j − β_k‖/σ
    /// otherwise (K ≥ 2); for K = 1, ‖β_1‖/σ.
    /// </summary>
    public double Snr
    {
        get
        {
            if (Symmetric || K == 1) return Norm(Beta[0]) / Sigma;
            double min = double.PositiveInfinity;
            for (int j = 0; j < K; j++)
                for (int k = j + 1; k < K; k++)
                {
                    double s = 0;
                    for (int a = 0; a < D; a++) { double t = Beta[j][a] - Beta[k][a]; s += t * t; }
                    min = Math.Min(min, Math.Sqrt(s));
                }
            return min / Sigma;
        }
    }

    internal static double Norm(ReadOnlySpan<double> v)
    {
        double s = 0;
        foreach (var x in v) s += x * x;
        return Math.Sqrt(s);
    }

    /// <summary>Mixing weights must be K finite positive numbers summing to 1 (within 1e-9).</summary>
    public static void ValidateMixing(IReadOnlyList<double> mixing, int k, string what)
    {
        if (mixing.Count != k) throw new SpecificationException($"{what} has {mixing.Count} weights, expected K = {k}");
        double sum = 0;
        for (int j = 0; j < k; j++)
        {
            if (!double.IsFinite(mixing[j]) || mixing[j] <= 0)
                throw new SpecificationException($"{what}[{j}] is {Fmt(mixing[j])}; mixing weights must be positive");
            sum += mixing[j];
        }
        if (Math.Abs(sum - 1) > MixingSumTolerance)
            throw new SpecificationException($"{what} sums to {Fmt(sum)}; mixing weights must sum to 1");
    }

    public static void ValidateSigma(double sigma, string what)
    {
        if (!double.IsFinite(sigma) || sigma <= 0)
            throw new SpecificationException($"{what} is {Fmt(sigma)}; the noise level must be a finite number > 0");
    }

    internal static string Fmt(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
