using MathNet.Numerics.LinearAlgebra;
using MorIcl.Em;
using MorIcl.Mixture;

namespace MorIcl.Tests.Support;

/// <summary>
/// Independent, deliberately naive re-derivations used as oracles: Bayes' rule with plain densities
/// (no log-sum-exp), weighted least squares by QR of √γ·X (not the normal equations), row-major loops.
/// </summary>
internal static class Direct
{
    public static double Normal(double r, double sigma) => Math.Exp(-r * r / (2 * sigma * sigma)) / (sigma * Math.Sqrt(2 * Math.PI));

    public static double Dot(double[] a, double[] b) { double s = 0; for (int i = 0; i < a.Length; i++) s += a[i] * b[i]; return s; }

    /// <summary>γ_ik = π_k φ(r_ik; σ_k) / Σ_j π_j φ(r_ij; σ_j) — Bayes' rule as written.</summary>
    public static double[,] Responsibilities(RegressionData data, MixtureParameters p, out double logLik)
    {
        var g = new double[data.N, p.K];
        logLik = 0;
        for (int i = 0; i < data.N; i++)
        {
            var x = data.Row(i);
            double total = 0;
            for (int k = 0; k < p.K; k++) { g[i, k] = p.Mixing[k] * Normal(data.Y[i] - Dot(x, p.Beta[k]), p.Sigma[k]); total += g[i, k]; }
            for (int k = 0; k < p.K; k++) g[i, k] /= total;
            logLik += Math.Log(total);
        }
        return g;
    }

    /// <summary>argmin Σ γ_i (y_i − ⟨x_i, b⟩)² by QR of the rows √γ_i x_i.</summary>
    public static double[] WeightedLeastSquaresQr(RegressionData data, Func<int, double> weight)
    {
        var a = Matrix<double>.Build.Dense(data.N, data.D);
        var rhs = Vector<double>.Build.Dense(data.N);
        for (int i = 0; i < data.N; i++)
        {
            double s = Math.Sqrt(weight(i));
            for (int j = 0; j < data.D; j++) a[i, j] = s * data.X(i, j);
            rhs[i] = s * data.Y[i];
        }
        return a.QR().Solve(rhs).ToArray();
    }

    public static double MaxAbs(double[] a, double[] b) { double m = 0; for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i])); return m; }

    public static double RelErr(double[] a, double[] b)
    {
        double num = 0, den = 0;
        for (int i = 0; i < a.Length; i++) { num = Math.Max(num, Math.Abs(a[i] - b[i])); den = Math.Max(den, Math.Abs(b[i])); }
        return num / Math.Max(den, 1e-300);
    }
}
