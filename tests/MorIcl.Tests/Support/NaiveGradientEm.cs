using MorIcl.Mixture;

namespace MorIcl.Tests.Support;

/// <summary>
/// Gradient EM (docs/math.md §2, known σ and π) as plain row-major loops, independent of the library's
/// EM kernels: for s = 1 … S, γ_ik = π_k e^{−(y_i − ⟨x_i, β_k⟩)²/(2σ²)} / Σ_c (…) with the largest
/// exponent subtracted, then T steps b_k ← b_k + (α/n) Σ_i γ_ik (y_i − ⟨x_i, b_k⟩) x_i; the prediction
/// is Σ_k π_k ⟨x_query, β_k⟩.
/// </summary>
internal static class NaiveGradientEm
{
    public static (double[][] Beta, double Prediction) Run(RegressionData data, double[] query, double[][] beta0, double[] pi, double sigma, int s, int t, double alpha)
    {
        int n = data.N, d = data.D, K = beta0.Length;
        var beta = beta0.Select(b => (double[])b.Clone()).ToArray();
        var x = Enumerable.Range(0, n).Select(data.Row).ToArray();
        var gamma = new double[n, K];
        for (int iteration = 0; iteration < s; iteration++)
        {
            for (int i = 0; i < n; i++)
            {
                var logit = new double[K];
                for (int k = 0; k < K; k++)
                {
                    double r = data.Y[i] - Direct.Dot(x[i], beta[k]);
                    logit[k] = Math.Log(pi[k]) - r * r / (2 * sigma * sigma);
                }
                double max = logit.Max(), total = 0;
                for (int k = 0; k < K; k++) total += Math.Exp(logit[k] - max);
                for (int k = 0; k < K; k++) gamma[i, k] = Math.Exp(logit[k] - max) / total;
            }
            for (int step = 0; step < t; step++)
                for (int k = 0; k < K; k++)
                {
                    var g = new double[d];
                    for (int i = 0; i < n; i++)
                    {
                        double r = data.Y[i] - Direct.Dot(x[i], beta[k]);
                        for (int a = 0; a < d; a++) g[a] += gamma[i, k] * r * x[i][a];
                    }
                    for (int a = 0; a < d; a++) beta[k][a] += alpha / n * g[a];
                }
        }
        double prediction = 0;
        for (int k = 0; k < K; k++) prediction += pi[k] * Direct.Dot(query, beta[k]);
        return (beta, prediction);
    }
}
