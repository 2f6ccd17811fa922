using MorIcl.Mixture;

namespace MorIcl.Baselines;

/// <summary>Error measures of docs/math.md §1: excess MSE and parameter error up to permutation (and sign).</summary>
public static class Metrics
{
    /// <summary>Largest K for which the permutation minimum is computed by enumeration (9! = 362 880).</summary>
    public const int MaxComponentsForPermutation = 9;

    /// <summary>Mean squared error of predictions against labels.</summary>
    public static double Mse(IReadOnlyList<double> predictions, IReadOnlyList<double> labels)
    {
        if (predictions.Count != labels.Count || predictions.Count == 0)
            throw new SpecificationException($"MSE needs equally many predictions and labels (got {predictions.Count} and {labels.Count})");
        double s = 0;
        for (int i = 0; i < labels.Count; i++) { double e = predictions[i] - labels[i]; s += e * e; }
        return s / labels.Count;
    }

    /// <summary>Excess MSE = MSE(predictor) − MSE(oracle), on the same prompts.</summary>
    public static double ExcessMse(IReadOnlyList<double> predictions, IReadOnlyList<double> oracle, IReadOnlyList<double> labels) =>
        Mse(predictions, labels) - Mse(oracle, labels);

    /// <summary>min over permutations of max_k ‖β̂_k − β_perm(k)‖ (docs/math.md §1).</summary>
    public static double ParameterError(IReadOnlyList<double[]> estimate, IReadOnlyList<double[]> truth)
    {
        int k = truth.Count;
        if (estimate.Count != k) throw new SpecificationException($"estimate has {estimate.Count} components, truth has {k}");
        if (k > MaxComponentsForPermutation) throw new SpecificationException($"parameter error up to permutation is computed for K ≤ {MaxComponentsForPermutation}, got K = {k}");
        var dist = new double[k, k];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
            {
                if (estimate[i].Length != truth[j].Length) throw new SpecificationException("estimate and truth differ in dimension");
                double s = 0;
                for (int a = 0; a < truth[j].Length; a++) { double t = estimate[i][a] - truth[j][a]; s += t * t; }
                dist[i, j] = Math.Sqrt(s);
            }
        var perm = Enumerable.Range(0, k).ToArray();
        double best = double.PositiveInfinity;
        Search(0);
        return best;

        void Search(int pos)
        {
            if (pos == k)
            {
                double m = 0;
                for (int i = 0; i < k; i++) m = Math.Max(m, dist[i, perm[i]]);
                best = Math.Min(best, m);
                return;
            }
            for (int j = pos; j < k; j++)
            {
                (perm[pos], perm[j]) = (perm[j], perm[pos]);
                Search(pos + 1);
                (perm[pos], perm[j]) = (perm[j], perm[pos]);
            }
        }
    }

    /// <summary>Symmetric model: min(‖β̂ − β*‖, ‖β̂ + β*‖).</summary>
    public static double ParameterErrorUpToSign(ReadOnlySpan<double> estimate, ReadOnlySpan<double> truth)
    {
        if (estimate.Length != truth.Length) throw new SpecificationException("estimate and truth differ in dimension");
        double plus = 0, minus = 0;
        for (int a = 0; a < truth.Length; a++)
        {
            double p = estimate[a] - truth[a], m = estimate[a] + truth[a];
            plus += p * p; minus += m * m;
        }
        return Math.Sqrt(Math.Min(plus, minus));
    }
}
