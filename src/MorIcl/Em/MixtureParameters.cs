using System.Globalization;

namespace MorIcl.Em;

/// <summary>
/// The parameters EM estimates: β_k (K arrays of d numbers), mixing weights π_k and noise levels
/// σ_k (K numbers; equal when σ is known or shared). The same shape is read from and written to
/// init/truth JSON files.
/// </summary>
public sealed class MixtureParameters
{
    public double[][] Beta { get; }
    public double[] Mixing { get; }
    public double[] Sigma { get; }

    public int K => Beta.Length;
    public int D => Beta[0].Length;

    public MixtureParameters(double[][] beta, double[] mixing, double[] sigma)
    {
        if (beta.Length < 1) throw new SpecificationException("parameters need at least one component (beta is empty)");
        int d = beta[0].Length;
        if (d < 1) throw new SpecificationException("beta[0] is empty; the dimension d must be at least 1");
        for (int k = 0; k < beta.Length; k++)
        {
            if (beta[k].Length != d) throw new SpecificationException($"beta[{k}] has {beta[k].Length} entries, expected {d}");
            for (int a = 0; a < d; a++)
                if (!double.IsFinite(beta[k][a])) throw new SpecificationException($"beta[{k}][{a}] is {Fmt(beta[k][a])}, not a finite number");
        }
        Mixture.MixtureSpec.ValidateMixing(mixing, beta.Length, "mixing");
        if (sigma.Length != beta.Length) throw new SpecificationException($"sigma has {sigma.Length} entries, expected K = {beta.Length}");
        for (int k = 0; k < sigma.Length; k++) Mixture.MixtureSpec.ValidateSigma(sigma[k], $"sigma[{k}]");
        Beta = beta.Select(b => (double[])b.Clone()).ToArray();
        Mixing = (double[])mixing.Clone();
        Sigma = (double[])sigma.Clone();
    }

    /// <summary>Equal mixing weights 1/K and a common σ.</summary>
    public static MixtureParameters Uniform(double[][] beta, double sigma) =>
        new(beta, Enumerable.Repeat(1.0 / beta.Length, beta.Length).ToArray(), Enumerable.Repeat(sigma, beta.Length).ToArray());

    /// <summary>The true parameters of a mixture specification.</summary>
    public static MixtureParameters FromSpec(Mixture.MixtureSpec spec) =>
        new(spec.Beta.Select(b => (double[])b.Clone()).ToArray(), spec.Mixing.ToArray(), Enumerable.Repeat(spec.Sigma, spec.K).ToArray());

    /// <summary>Throws unless these parameters have K components in dimension d.</summary>
    public void RequireShape(int d, int k, string source)
    {
        if (K != k) throw new SpecificationException($"{source}: has {K} components, expected K = {k}");
        if (D != d) throw new SpecificationException($"{source}: beta has {D} entries per component, expected d = {d}");
    }

    /// <summary>Largest absolute difference over β, π and σ.</summary>
    public double MaxAbsDifference(MixtureParameters other)
    {
        double m = 0;
        for (int k = 0; k < K; k++)
        {
            for (int a = 0; a < D; a++) m = Math.Max(m, Math.Abs(Beta[k][a] - other.Beta[k][a]));
            m = Math.Max(m, Math.Abs(Mixing[k] - other.Mixing[k]));
            m = Math.Max(m, Math.Abs(Sigma[k] - other.Sigma[k]));
        }
        return m;
    }

    private static string Fmt(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
