using MorIcl.Mixture;

namespace MorIcl.Em;

/// <summary>
/// The symmetric two-component model's EM in its tanh form (docs/math.md §2; seed 000 §3, eqs. (13)–(16)):
/// w_i = tanh(y_i ⟨x_i, β⟩/σ² + ½ log(π/(1 − π))) = γ_i1 − γ_i2, one inner gradient step
/// b ← b − α (1/n) Σ_i x_i (⟨x_i, b⟩ − w_i y_i), the exact M-step β ← (XᵀX)⁻¹ Xᵀ(w ⊙ y).
/// σ and π are known.
/// </summary>
public static class SymmetricGradientEm
{
    /// <summary>E-step weights w_i = tanh(y_i ⟨x_i, β⟩/σ² + ½ log(π/(1−π))).</summary>
    public static double[] Weights(RegressionData data, ReadOnlySpan<double> beta, double sigma, double pi)
    {
        var w = new double[data.N];
        double offset = 0.5 * Math.Log(pi / (1 - pi));
        double inv = 1 / (sigma * sigma);
        for (int i = 0; i < data.N; i++)
        {
            double xb = 0;
            for (int a = 0; a < data.D; a++) xb += data.X(i, a) * beta[a];
            w[i] = Math.Tanh(data.Y[i] * xb * inv + offset);
        }
        return w;
    }

    /// <summary>One inner step b − α (1/n) Σ_i x_i (⟨x_i, b⟩ − w_i y_i).</summary>
    public static double[] GradientStep(RegressionData data, ReadOnlySpan<double> b, ReadOnlySpan<double> w, double alpha)
    {
        int n = data.N, d = data.D;
        var g = new double[d];
        for (int i = 0; i < n; i++)
        {
            double xb = 0;
            for (int a = 0; a < d; a++) xb += data.X(i, a) * b[a];
            double r = xb - w[i] * data.Y[i];
            for (int a = 0; a < d; a++) g[a] += data.X(i, a) * r;
        }
        var next = b.ToArray();
        for (int a = 0; a < d; a++) next[a] -= alpha * g[a] / n;
        return next;
    }

    /// <summary>Exact M-step β = (XᵀX)⁻¹ Xᵀ (w ⊙ y).</summary>
    public static double[] ExactMStep(RegressionData data, ReadOnlySpan<double> w)
    {
        int n = data.N, d = data.D;
        var gram = new double[d * d];
        var h = new double[d];
        for (int a = 0; a < d; a++)
        {
            var xa = data.Column(a);
            for (int i = 0; i < n; i++) h[a] += xa[i] * w[i] * data.Y[i];
            for (int b = 0; b <= a; b++) gram[a * d + b] = MorIcl.Numerics.Simd.SimdSpan.Dot(xa, data.Column(b));
        }
        return WeightedLeastSquares.Solve(gram, h, d, "symmetric M-step");
    }

    /// <summary>Log-likelihood Σ_i log(π φ_σ(y_i − ⟨x_i, β⟩) + (1 − π) φ_σ(y_i + ⟨x_i, β⟩)).</summary>
    public static double LogLikelihood(RegressionData data, ReadOnlySpan<double> beta, double sigma, double pi)
    {
        var p = new MixtureParameters(new[] { beta.ToArray(), beta.ToArray().Select(v => -v).ToArray() }, new[] { pi, 1 - pi }, new[] { sigma, sigma });
        return new EmKernels(data, 2).EStep(p, null, null, null, null);
    }

    /// <summary>
    /// S outer iterations of the symmetric gradient EM with T inner steps (the program the constructed
    /// transformer runs). Returns β after each outer iteration (index 0 is β⁽⁰⁾) and, if asked, every
    /// E-step's w and every inner step's b.
    /// </summary>
    public static SymmetricTrace Run(RegressionData data, double[] beta0, double sigma, double pi, int outer, int inner, double alpha)
    {
        if (beta0.Length != data.D) throw new SpecificationException($"initial beta has {beta0.Length} entries, expected d = {data.D}");
        var betas = new List<double[]> { (double[])beta0.Clone() };
        var weights = new List<double[]>();
        var innerSteps = new List<double[][]>();
        var b = (double[])beta0.Clone();
        for (int s = 0; s < outer; s++)
        {
            var w = Weights(data, b, sigma, pi);
            weights.Add(w);
            var steps = new double[inner][];
            for (int t = 0; t < inner; t++) { b = GradientStep(data, b, w, alpha); steps[t] = b; }
            innerSteps.Add(steps);
            betas.Add(b);
        }
        return new SymmetricTrace(betas, weights, innerSteps);
    }
}

/// <summary>β after each outer iteration, w of each E-step, b after each inner step.</summary>
public sealed record SymmetricTrace(IReadOnlyList<double[]> Betas, IReadOnlyList<double[]> Weights, IReadOnlyList<double[][]> InnerSteps);
