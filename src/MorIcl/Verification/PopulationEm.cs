using MathNet.Numerics.LinearAlgebra;

namespace MorIcl.Verification;

/// <summary>
/// The population EM operator of the symmetric model, M(β) = E[tanh(y⟨x, β⟩/σ² + ½ log(π/(1 − π))) y x]
/// with y = s⟨x, β*⟩ + σε (docs/math.md §2; seed 000 eq. (19)), computed through the two-dimensional
/// reduction of Lemma B.1: M(β) lies in span{β, β*}, so only the two coordinates of x in that plane
/// matter. Integrals by Gauss–Hermite quadrature (nodes from the Golub–Welsch eigenproblem).
/// </summary>
public static class PopulationEm
{
    /// <summary>Nodes and weights for E f(Z), Z ~ N(0, 1) (probabilists' Hermite).</summary>
    public static (double[] Nodes, double[] Weights) GaussHermite(int m)
    {
        var j = Matrix<double>.Build.Dense(m, m);
        for (int k = 1; k < m; k++) { j[k, k - 1] = Math.Sqrt(k); j[k - 1, k] = Math.Sqrt(k); }
        var evd = j.Evd(Symmetricity.Symmetric);
        var nodes = evd.EigenValues.Select(c => c.Real).ToArray();
        var weights = Enumerable.Range(0, m).Select(i => evd.EigenVectors[0, i] * evd.EigenVectors[0, i]).ToArray();
        return (nodes, weights);
    }

    /// <summary>M(β) for β* and β in R^d: the result in R^d (in span{β, β*}).</summary>
    public static double[] Operator(double[] beta, double[] betaStar, double sigma, double pi, int nodes = 80)
    {
        int d = beta.Length;
        double r = Norm(betaStar);
        var e1 = betaStar.Select(v => v / r).ToArray();
        double b1 = Dot(beta, e1);
        var perp = beta.Select((v, a) => v - b1 * e1[a]).ToArray();
        double b2 = Norm(perp);
        var e2 = b2 > 1e-15 ? perp.Select(v => v / b2).ToArray() : new double[d];
        var (z, w) = GaussHermite(nodes);
        var (ze, we) = GaussHermite(Math.Max(20, nodes / 2));
        double c = 0.5 * Math.Log(pi / (1 - pi)), inv = 1 / (sigma * sigma);
        double m1 = 0, m2 = 0;
        for (int i = 0; i < z.Length; i++)
            for (int k = 0; k < z.Length; k++)
            {
                double x1 = z[i], x2 = z[k], wx = w[i] * w[k];
                double xb = b1 * x1 + b2 * x2;
                for (int e = 0; e < ze.Length; e++)
                    foreach (var (s, ps) in new[] { (1.0, pi), (-1.0, 1 - pi) })
                    {
                        double y = s * r * x1 + sigma * ze[e];
                        double f = Math.Tanh(y * xb * inv + c) * y * wx * we[e] * ps;
                        m1 += f * x1; m2 += f * x2;
                    }
            }
        return Enumerable.Range(0, d).Select(a => m1 * e1[a] + m2 * e2[a]).ToArray();
    }

    /// <summary>
    /// One outer iteration of population gradient EM with T inner steps of size α (seed 000 eq. (20)–(21)):
    /// since E[x xᵀ] = I, b ← b − α(b − M(β)) T times gives (1 − α)^T β + (1 − (1 − α)^T) M(β).
    /// </summary>
    public static double[] GradientEmStep(double[] beta, double[] betaStar, double sigma, double pi, int t, double alpha)
    {
        var m = Operator(beta, betaStar, sigma, pi);
        double keep = Math.Pow(1 - alpha, t);
        return beta.Select((v, a) => keep * v + (1 - keep) * m[a]).ToArray();
    }

    internal static double Dot(double[] a, double[] b) { double s = 0; for (int i = 0; i < a.Length; i++) s += a[i] * b[i]; return s; }
    internal static double Norm(double[] a) => Math.Sqrt(Dot(a, a));
}
