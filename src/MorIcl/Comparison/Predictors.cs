using MorIcl.Baselines;
using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Em;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Runtime;
using MorIcl.Training;

namespace MorIcl.Comparison;

/// <summary>An in-context algorithm: a prompt (n examples) and a query give a prediction (docs/math.md §5's A(P)(x')).</summary>
public interface IPromptPredictor
{
    string Name { get; }
    double Predict(RegressionData examples, double[] query);
}

/// <summary>A trained model (<see cref="ITrainableModel"/>).</summary>
public sealed class TrainedPredictor(ITrainableModel model, string name = "trained") : IPromptPredictor
{
    public string Name => name;
    public ITrainableModel Model => model;
    public double Predict(RegressionData examples, double[] query) => model.Predict(new[] { (examples, query) })[0];
}

/// <summary>The constructed transformer run by the fast executor (double).</summary>
public sealed class ConstructedPredictor(TransformerModel model, string name = "constructed") : IPromptPredictor
{
    private readonly ModelExecutor<double> _executor = new(model);
    public string Name => name;
    public double Predict(RegressionData examples, double[] query) => _executor.Forward(examples, query).Prediction;
}

/// <summary>Reference gradient EM with a construction's S, T, α and β⁽⁰⁾ (what the constructed transformer must equal).</summary>
public sealed class GradientEmPredictor(ConstructionSpec spec, string name = "gradient EM") : IPromptPredictor
{
    public string Name => name;
    public double Predict(RegressionData examples, double[] query) => ReferenceRun.Of(spec, examples, query).Prediction;
}

/// <summary>
/// Exact EM (known σ, estimated π) from a random initialisation — β_k⁽⁰⁾ ~ N(0, I/d) from
/// (seed, restart) — predicting with docs/math.md §1's oracle form at the estimate. Different
/// <paramref name="restart"/> values give EM's spread over initialisations.
/// </summary>
public sealed class ExactEmPredictor(int k, double sigma, MixtureMode mode, int seed, int restart = 0, int maxIterations = 200, string? name = null) : IPromptPredictor
{
    public string Name => name ?? (restart == 0 ? "exact EM" : $"exact EM (init {restart})");
    public double Predict(RegressionData examples, double[] query) => FromStart(examples, query, RandomStart(k, examples.D, sigma, seed, restart), sigma, mode, maxIterations);

    /// <summary>The random start of (seed, restart): β_k⁽⁰⁾ ~ N(0, I/d), π⁽⁰⁾ = 1/K, σ known. It does not depend on the prompt.</summary>
    public static MixtureParameters RandomStart(int k, int d, double sigma, int seed, int restart = 0)
    {
        var rng = SeedSequence.Create(seed, restart, 0xE3);
        var beta = Enumerable.Range(0, k).Select(_ => Enumerable.Range(0, d).Select(_ => MathNet.Numerics.Distributions.Normal.Sample(rng, 0, 1 / Math.Sqrt(d))).ToArray()).ToArray();
        return new MixtureParameters(beta, Enumerable.Repeat(1.0 / k, k).ToArray(), Enumerable.Repeat(sigma, k).ToArray());
    }

    /// <summary>
    /// Exact EM (known σ, estimated π) from <paramref name="init"/>, and docs/math.md §1's oracle form at
    /// its estimate. When n ≤ d the exact M-step is singular: gradient EM instead, with the step size
    /// that cannot diverge on this prompt (<see cref="StableStepSize"/>; seed 000's α = 0.5 does diverge there).
    /// </summary>
    public static double FromStart(RegressionData examples, double[] query, MixtureParameters init, double sigma, MixtureMode mode, int maxIterations = 200)
    {
        bool exact = examples.N > examples.D;
        var options = new EmOptions
        {
            Algorithm = exact ? EmAlgorithm.Exact : EmAlgorithm.Gradient, StepSize = exact ? 0.5 : StableStepSize.Of(examples),
            Variance = VarianceModel.Known, KnownSigma = sigma, MaxIterations = maxIterations, Tolerance = 1e-8,
        };
        MixtureParameters fit;
        try { fit = ExpectationMaximisation.Fit(examples, init, options).Parameters; }
        catch (MorIclException) { fit = init; }   // a component lost all weight: predict from the start, as a failed run would
        return OraclePredictor.Predict(fit, mode, new Prompt(examples, query, 0, new int[examples.N + 1]));
    }
}

/// <summary>Ordinary least squares on the prompt's examples.</summary>
public sealed class OlsPredictor : IPromptPredictor
{
    public string Name => "OLS";
    public double Predict(RegressionData examples, double[] query) => OrdinaryLeastSquares.Dot(query, OrdinaryLeastSquares.Fit(examples));
}

/// <summary>The Bayes-optimal predictor with the true mixture (docs/math.md §1).</summary>
public sealed class OraclePromptPredictor : IPromptPredictor
{
    private readonly MixtureSpec truth;

    public OraclePromptPredictor(MixtureSpec truth)
    {
        // With β drawn per prompt the oracle needs each prompt's own β, which (examples, query) does not carry.
        if (truth.BetaPerPrompt) throw new SpecificationException("the oracle of a mixture with β drawn per prompt needs each prompt's β: use OraclePredictor.Predict(spec, prompt)");
        this.truth = truth;
    }

    public string Name => "oracle";
    public double Predict(RegressionData examples, double[] query) =>
        OraclePredictor.Predict(MixtureParameters.FromSpec(truth), truth.Mode, new Prompt(examples, query, 0, new int[examples.N + 1]));
}
