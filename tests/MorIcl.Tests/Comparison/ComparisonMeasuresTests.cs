using MorIcl.Baselines;
using MorIcl.Comparison;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Comparison;

/// <summary>
/// docs/math.md §5's measures against what they must be for predictors linear in the query, where everything
/// has a direct form: OLS's implicit weights are its β̂, the per-sample oracle's are Σ_k π_k β_k, and
/// the query gradient of a linear predictor is its weight vector.
/// </summary>
public class ComparisonMeasuresTests
{
    private static readonly Mixture.MixtureSpec Truth = Fixtures.Spec(4, 2, 0.3, 3, new[] { 0.7, 0.3 });
    private static readonly ComparisonMeasures.EvaluationSet Set = ComparisonMeasures.Draw(Truth, 30, 12, 5, 10, 9);

    private static double[] PooledBeta() => Enumerable.Range(0, Truth.D).Select(a => Truth.Mixing[0] * Truth.Beta[0][a] + Truth.Mixing[1] * Truth.Beta[1][a]).ToArray();

    [Fact]
    public void AnAlgorithmAgainstItselfHasNoDifference()
    {
        var ols = new OlsPredictor();
        Assert.Equal(0, ComparisonMeasures.Spd(ols, ols, Set));
        Assert.Equal(0, ComparisonMeasures.Ilwd(ols, ols, Set));
        var (cos, l2) = ComparisonMeasures.Sensitivity(ols, ols, Set);
        Assert.Equal(1, cos, 12);
        Assert.Equal(0, l2);
    }

    [Fact]
    public void LinearPredictorsHaveTheirWeightsAsImplicitWeightsAndGradients()
    {
        IPromptPredictor ols = new OlsPredictor(), oracle = new OraclePromptPredictor(Truth);
        var pooled = PooledBeta();
        double ilwd = 0, spd = 0, l2 = 0, cos = 0;
        foreach (var (p, i) in Set.Prompts.Select((p, i) => (p, i)))
        {
            var w = OrdinaryLeastSquares.Fit(p.Examples);
            var diff = w.Zip(pooled, (a, b) => a - b).ToArray();
            ilwd += diff.Sum(v => v * v) / Set.Prompts.Length;
            spd += Set.Queries[i].Average(q => Math.Pow(Direct.Dot(q, diff), 2)) / Set.Prompts.Length / Truth.D;
            l2 += Math.Sqrt(diff.Sum(v => v * v)) / Set.Prompts.Length;
            cos += Direct.Dot(w, pooled) / Math.Sqrt(Direct.Dot(w, w) * Direct.Dot(pooled, pooled)) / Set.Prompts.Length;
            Assert.True(Direct.MaxAbs(ComparisonMeasures.ImplicitWeights(ols, p.Examples, Set.Probes[i]), w) <= 1e-10);
            Assert.True(Direct.MaxAbs(ComparisonMeasures.QueryGradient(ols, p.Examples, p.Query), w) <= 1e-9);
        }
        Assert.Equal(ilwd, ComparisonMeasures.Ilwd(ols, oracle, Set), 10);
        Assert.Equal(spd, ComparisonMeasures.Spd(ols, oracle, Set), 10);
        var s = ComparisonMeasures.Sensitivity(ols, oracle, Set);
        Assert.Equal(l2, s.L2, 8);
        Assert.Equal(cos, s.Cosine, 8);
    }

    [Fact]
    public void ProfilesGiveTheSameMeasuresAsTheDirectMethods()
    {
        IPromptPredictor ols = new OlsPredictor(), oracle = new OraclePromptPredictor(Truth);
        var c = ComparisonMeasures.Compare(ComparisonMeasures.ProfileOf(ols, Set), ComparisonMeasures.ProfileOf(oracle, Set));
        Assert.Equal(ComparisonMeasures.Spd(ols, oracle, Set), c.Spd, 12);
        Assert.Equal(ComparisonMeasures.Ilwd(ols, oracle, Set), c.Ilwd, 12);
        var s = ComparisonMeasures.Sensitivity(ols, oracle, Set);
        Assert.Equal(s.Cosine, c.Cosine, 12);
        Assert.Equal(s.L2, c.L2, 12);
    }

    [Fact]
    public void OracleHasZeroExcessMseAndOlsPositive()
    {
        var oracle = ComparisonMeasures.QueryPredictions(new OraclePromptPredictor(Truth), Set);
        Assert.Equal(0, ComparisonMeasures.ExcessMse(oracle, oracle, Set));
        var big = ComparisonMeasures.Draw(Truth, 30, 400, 1, 4, 11);
        var o = ComparisonMeasures.QueryPredictions(new OraclePromptPredictor(Truth), big);
        // OLS fits the pooled line with error ~ d/n: its excess MSE over 400 prompts is positive.
        Assert.True(ComparisonMeasures.ExcessMse(ComparisonMeasures.QueryPredictions(new OlsPredictor(), big), o, big) > 0);
    }
}
