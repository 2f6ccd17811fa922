using MorIcl.Baselines;
using MorIcl.Comparison;
using MorIcl.Construction;
using MorIcl.Em;
using MorIcl.Mixture;

namespace MorIcl.Probing;

/// <summary>
/// The quantities a probe tries to read (docs/math.md §11), per prompt, each a vector:
/// <list type="bullet">
/// <item><c>beta_em_s1 … beta_em_sS</c> — gradient EM's β̂ = (β̂_1; …; β̂_K) after s outer iterations, by the
/// reference algorithm with <see cref="GradientEm"/>'s σ, π, S, T, α and β⁽⁰⁾ (for a constructed model:
/// its own specification, so the components keep their labels);</item>
/// <item><c>beta_em_exact</c> — exact EM's fixed point from the same β⁽⁰⁾ (same known σ and π), when n &gt; d;</item>
/// <item><c>beta_ols</c> — least squares on the prompt (minimum norm when n &lt; d);</item>
/// <item><c>beta_true</c> — the prompt's true β where it varies between prompts: β_z of its component
/// (per-prompt mode), or Σ_k π_k β_k when β is drawn per prompt (the components' order is arbitrary there);</item>
/// <item><c>oracle_responsibility</c> — the oracle's posterior p(k | prompt) (per-prompt mode), or its
/// mean per-example responsibility (1/n) Σ_i γ*_ik under the true parameters (per-sample mode).</item>
/// </list>
/// A prompt on which exact EM fails (a component loses all weight) has no <c>beta_em_exact</c>: its
/// entry is null and the probe of that target skips it.
/// </summary>
public sealed class ProbeTargets
{
    public ConstructionSpec GradientEm { get; }
    public MixtureSpec Truth { get; }
    public IReadOnlyList<string> Names { get; }

    public ProbeTargets(ConstructionSpec gradientEm, MixtureSpec truth, int promptLength)
    {
        if (gradientEm.Dimension != truth.D || gradientEm.Components != truth.K)
            throw new SpecificationException($"the gradient EM targets are for d = {gradientEm.Dimension}, K = {gradientEm.Components}; the prompts have d = {truth.D}, K = {truth.K}");
        GradientEm = gradientEm; Truth = truth;
        var names = Enumerable.Range(1, gradientEm.EmIterations).Select(Iterate).ToList();
        if (promptLength > truth.D) names.Add("beta_em_exact");
        names.Add("beta_ols");
        if (truth.Mode == MixtureMode.PerPrompt || truth.BetaPerPrompt) names.Add("beta_true");
        names.Add("oracle_responsibility");
        Names = names;
    }

    public static string Iterate(int s) => $"beta_em_s{s}";

    /// <summary>Every target of one prompt (null where undefined on it).</summary>
    public Dictionary<string, double[]?> Of(Prompt prompt)
    {
        var t = new Dictionary<string, double[]?>();
        var path = GradientEmPath.Of(GradientEm, prompt.Examples, prompt.Query);
        for (int s = 1; s <= path.Length; s++) t[Iterate(s)] = Flatten(path[s - 1]);
        if (Names.Contains("beta_em_exact")) t["beta_em_exact"] = ExactEm(prompt);
        t["beta_ols"] = LeastSquares.MinimumNorm(prompt.Examples);
        var truth = OraclePredictor.Truth(Truth, prompt);
        if (Names.Contains("beta_true"))
            t["beta_true"] = Truth.BetaPerPrompt ? MixtureMean(truth) : (double[])truth.Beta[prompt.Components[0]].Clone();
        t["oracle_responsibility"] = Truth.Mode == MixtureMode.PerPrompt ? OraclePredictor.PromptPosterior(truth, prompt.Examples) : MeanResponsibility(truth, prompt.Examples);
        return t;
    }

    private double[]? ExactEm(Prompt prompt)
    {
        var spec = GradientEm;
        var init = new MixtureParameters(spec.InitialBeta, spec.Mixing, Enumerable.Repeat(spec.Sigma, spec.Components).ToArray());
        var options = new EmOptions
        {
            Algorithm = EmAlgorithm.Exact, Variance = VarianceModel.Known, KnownSigma = spec.Sigma, FixedMixing = spec.EstimateMixing ? null : spec.Mixing,
            MaxIterations = 500, Tolerance = 1e-10,
        };
        try { return Flatten(ExpectationMaximisation.Fit(prompt.Examples, init, options).Parameters.Beta); }
        catch (MorIclException) { return null; }
    }

    /// <summary>(1/n) Σ_i γ_ik with γ_ik ∝ π_k φ_σ(y_i − ⟨x_i, β_k⟩) (docs/math.md §2's E-step at the truth).</summary>
    private static double[] MeanResponsibility(MixtureParameters truth, RegressionData data)
    {
        int K = truth.K;
        var mean = new double[K];
        var logit = new double[K];
        for (int i = 0; i < data.N; i++)
        {
            double max = double.NegativeInfinity;
            for (int k = 0; k < K; k++)
            {
                double r = data.Y[i];
                for (int a = 0; a < data.D; a++) r -= data.X(i, a) * truth.Beta[k][a];
                logit[k] = Math.Log(truth.Mixing[k]) - r * r / (2 * truth.Sigma[k] * truth.Sigma[k]);
                max = Math.Max(max, logit[k]);
            }
            double sum = 0;
            for (int k = 0; k < K; k++) { logit[k] = Math.Exp(logit[k] - max); sum += logit[k]; }
            for (int k = 0; k < K; k++) mean[k] += logit[k] / sum / data.N;
        }
        return mean;
    }

    /// <summary>Σ_k π_k β_k: what the Bayes predictor of a per-sample mixture needs, and free of the components' arbitrary order.</summary>
    private static double[] MixtureMean(MixtureParameters p)
    {
        var m = new double[p.D];
        for (int k = 0; k < p.K; k++) for (int a = 0; a < p.D; a++) m[a] += p.Mixing[k] * p.Beta[k][a];
        return m;
    }

    private static double[] Flatten(IReadOnlyList<double[]> beta) => beta.SelectMany(b => b).ToArray();
}
