using MathNet.Numerics.LinearAlgebra;
using MorIcl.Mixture;
using MorIcl.Numerics;

namespace MorIcl.Comparison;

/// <summary>
/// The field's measures for comparing two in-context algorithms (docs/math.md §5), on fresh prompts from a
/// mixture, each averaged over prompts:
/// excess MSE against the oracle; SPD(A₁, A₂) = E(A₁(P)(x') − A₂(P)(x'))²/d over fresh queries x'
/// (Akyürek et al. 2023); ILWD = E‖ŵ_{A₁} − ŵ_{A₂}‖² with ŵ_A the least-squares fit of A's predictions on
/// probe inputs for the same prompt (Akyürek et al.); sensitivity agreement — cosine and L2 distance of
/// ∂ŷ/∂x_query (von Oswald et al. 2023), by central differences (h = 1e−4, exact for predictors linear
/// in the query up to rounding).
/// </summary>
public static class ComparisonMeasures
{
    /// <summary>Evaluation prompts and, per prompt, fresh queries and probe inputs, all from one seed.</summary>
    public sealed record EvaluationSet(Prompt[] Prompts, double[][][] Queries, double[][][] Probes);

    public static EvaluationSet Draw(MixtureSpec truth, int n, int prompts, int queriesPerPrompt, int probesPerPrompt, int seed)
    {
        var ps = PromptSampler.SampleBatch(truth, n, prompts, seed);
        var rng = SeedSequence.Create(seed, 0, 0xC0);
        double[][] Gaussians(int count) => Enumerable.Range(0, count).Select(_ =>
        {
            var x = new double[truth.D];
            MathNet.Numerics.Distributions.Normal.Samples(rng, x, 0, 1);
            return x;
        }).ToArray();
        return new EvaluationSet(ps, ps.Select(_ => Gaussians(queriesPerPrompt)).ToArray(), ps.Select(_ => Gaussians(probesPerPrompt)).ToArray());
    }

    /// <summary>Predictions on each prompt's own query (the labelled one).</summary>
    public static double[] QueryPredictions(IPromptPredictor a, EvaluationSet set) =>
        Parallel(set.Prompts.Length, i => a.Predict(set.Prompts[i].Examples, set.Prompts[i].Query));

    public static double ExcessMse(double[] predictions, double[] oracle, EvaluationSet set) =>
        Baselines.Metrics.ExcessMse(predictions, oracle, set.Prompts.Select(p => p.QueryLabel).ToArray());

    /// <summary>SPD(A₁, A₂) over the fresh queries, divided by d.</summary>
    public static double Spd(IPromptPredictor a, IPromptPredictor b, EvaluationSet set)
    {
        var per = Parallel(set.Prompts.Length, i =>
        {
            var ex = set.Prompts[i].Examples;
            return set.Queries[i].Average(q => { double e = a.Predict(ex, q) - b.Predict(ex, q); return e * e; });
        });
        return per.Average() / set.Prompts[0].D;
    }

    /// <summary>ŵ_A for one prompt: least squares of A's predictions on the probes (needs ≥ d probes).</summary>
    public static double[] ImplicitWeights(IPromptPredictor a, RegressionData examples, double[][] probes)
    {
        int d = examples.D;
        var x = Matrix<double>.Build.Dense(probes.Length, d, (r, c) => probes[r][c]);
        var y = Vector<double>.Build.DenseOfArray(probes.Select(p => a.Predict(examples, p)).ToArray());
        return x.QR().Solve(y).ToArray();
    }

    public static double Ilwd(IPromptPredictor a, IPromptPredictor b, EvaluationSet set) =>
        Parallel(set.Prompts.Length, i =>
        {
            var ex = set.Prompts[i].Examples;
            var wa = ImplicitWeights(a, ex, set.Probes[i]); var wb = ImplicitWeights(b, ex, set.Probes[i]);
            return wa.Zip(wb, (u, v) => (u - v) * (u - v)).Sum();
        }).Average();

    /// <summary>
    /// Everything the pairwise measures need from one algorithm on one evaluation set, computed once:
    /// predictions on each prompt's fresh queries, implicit weights ŵ_A per prompt, and ∂ŷ/∂x_query per
    /// prompt. Pairwise SPD, ILWD and sensitivity between any two algorithms then cost nothing more.
    /// </summary>
    public sealed record Profile(string Name, double[][] QueryPredictions, double[][] ImplicitWeights, double[][] Gradients);

    public static Profile ProfileOf(IPromptPredictor a, EvaluationSet set)
    {
        var preds = new double[set.Prompts.Length][];
        var weights = new double[set.Prompts.Length][];
        var grads = new double[set.Prompts.Length][];
        System.Threading.Tasks.Parallel.For(0, set.Prompts.Length, Numerics.Parallelism.Options(), i =>
        {
            var p = set.Prompts[i];
            preds[i] = set.Queries[i].Select(q => a.Predict(p.Examples, q)).ToArray();
            weights[i] = ImplicitWeights(a, p.Examples, set.Probes[i]);
            grads[i] = QueryGradient(a, p.Examples, p.Query);
        });
        return new Profile(a.Name, preds, weights, grads);
    }

    /// <summary>SPD, ILWD and sensitivity (cosine, L2) between two profiled algorithms (same definitions as the direct methods).</summary>
    public static (double Spd, double Ilwd, double Cosine, double L2) Compare(Profile a, Profile b)
    {
        int m = a.QueryPredictions.Length, d = a.ImplicitWeights[0].Length;
        double spd = 0, ilwd = 0, cos = 0, l2 = 0;
        for (int i = 0; i < m; i++)
        {
            spd += a.QueryPredictions[i].Zip(b.QueryPredictions[i], (u, v) => (u - v) * (u - v)).Average();
            ilwd += a.ImplicitWeights[i].Zip(b.ImplicitWeights[i], (u, v) => (u - v) * (u - v)).Sum();
            var ga = a.Gradients[i]; var gb = b.Gradients[i];
            double dot = 0, na = 0, nb = 0, dist = 0;
            for (int j = 0; j < ga.Length; j++) { dot += ga[j] * gb[j]; na += ga[j] * ga[j]; nb += gb[j] * gb[j]; dist += (ga[j] - gb[j]) * (ga[j] - gb[j]); }
            cos += na > 0 && nb > 0 ? dot / Math.Sqrt(na * nb) : 0;
            l2 += Math.Sqrt(dist);
        }
        return (spd / m / d, ilwd / m, cos / m, l2 / m);
    }

    /// <summary>∂ŷ/∂x_query by central differences.</summary>
    public static double[] QueryGradient(IPromptPredictor a, RegressionData examples, double[] query, double h = 1e-4)
    {
        var g = new double[query.Length];
        var q = (double[])query.Clone();
        for (int j = 0; j < q.Length; j++)
        {
            double keep = q[j];
            q[j] = keep + h; double up = a.Predict(examples, q);
            q[j] = keep - h; double down = a.Predict(examples, q);
            q[j] = keep;
            g[j] = (up - down) / (2 * h);
        }
        return g;
    }

    /// <summary>Mean cosine similarity and mean L2 distance of the two query gradients.</summary>
    public static (double Cosine, double L2) Sensitivity(IPromptPredictor a, IPromptPredictor b, EvaluationSet set)
    {
        var per = Parallel(set.Prompts.Length, i =>
        {
            var p = set.Prompts[i];
            var ga = QueryGradient(a, p.Examples, p.Query); var gb = QueryGradient(b, p.Examples, p.Query);
            double dot = 0, na = 0, nb = 0, dist = 0;
            for (int j = 0; j < ga.Length; j++) { dot += ga[j] * gb[j]; na += ga[j] * ga[j]; nb += gb[j] * gb[j]; dist += (ga[j] - gb[j]) * (ga[j] - gb[j]); }
            double cos = na > 0 && nb > 0 ? dot / Math.Sqrt(na * nb) : 0;
            return (cos, Math.Sqrt(dist));
        });
        return (per.Average(x => x.Item1), per.Average(x => x.Item2));
    }

    private static T[] Parallel<T>(int count, Func<int, T> f)
    {
        var r = new T[count];
        System.Threading.Tasks.Parallel.For(0, count, Numerics.Parallelism.Options(), i => r[i] = f(i));
        return r;
    }
}
