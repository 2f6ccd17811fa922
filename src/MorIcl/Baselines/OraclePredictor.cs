using MorIcl.Em;
using MorIcl.Mixture;

namespace MorIcl.Baselines;

/// <summary>
/// The Bayes-optimal predictor of the query label given the true mixture (docs/math.md §1):
/// per-sample ŷ* = ⟨x_{n+1}, Σ_k π_k β_k⟩; per-prompt ŷ* = Σ_k p(k | prompt) ⟨x_{n+1}, β_k⟩ with
/// p(k | prompt) ∝ π_k Π_i φ_σ(y_i − ⟨x_i, β_k⟩).
/// </summary>
public static class OraclePredictor
{
    /// <summary>The oracle with the true parameters; with β drawn per prompt, the prompt's own β (an oracle that knows them).</summary>
    public static double Predict(MixtureSpec spec, Prompt prompt) =>
        Predict(Truth(spec, prompt), spec.Mode, prompt);

    /// <summary>The true parameters behind a prompt: the mixture's, with the prompt's own β when it has them.</summary>
    public static MixtureParameters Truth(MixtureSpec spec, Prompt prompt) =>
        prompt.Beta is { } b ? new MixtureParameters(b.Select(v => (double[])v.Clone()).ToArray(), spec.Mixing.ToArray(), Enumerable.Repeat(spec.Sigma, spec.K).ToArray())
            : MixtureParameters.FromSpec(spec);

    /// <summary>The same oracle form evaluated at any parameters (e.g. the estimate β̂).</summary>
    public static double Predict(MixtureParameters p, MixtureMode mode, Prompt prompt)
    {
        var weights = mode == MixtureMode.PerSample ? p.Mixing : PromptPosterior(p, prompt.Examples);
        double pred = 0;
        for (int k = 0; k < p.K; k++) pred += weights[k] * OrdinaryLeastSquares.Dot(prompt.Query, p.Beta[k]);
        return pred;
    }

    /// <summary>p(k | prompt) ∝ π_k Π_i φ_{σ_k}(y_i − ⟨x_i, β_k⟩), by a stable log-sum-exp.</summary>
    public static double[] PromptPosterior(MixtureParameters p, RegressionData data)
    {
        var logPost = new double[p.K];
        for (int k = 0; k < p.K; k++)
        {
            double ss = 0;
            for (int i = 0; i < data.N; i++)
            {
                double r = data.Y[i];
                for (int a = 0; a < data.D; a++) r -= data.X(i, a) * p.Beta[k][a];
                ss += r * r;
            }
            logPost[k] = Math.Log(p.Mixing[k]) - data.N * Math.Log(p.Sigma[k]) - ss / (2 * p.Sigma[k] * p.Sigma[k]);
        }
        double max = logPost.Max();
        double sum = 0;
        for (int k = 0; k < p.K; k++) { logPost[k] = Math.Exp(logPost[k] - max); sum += logPost[k]; }
        for (int k = 0; k < p.K; k++) logPost[k] /= sum;
        return logPost;
    }
}
