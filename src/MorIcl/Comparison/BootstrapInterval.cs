using MorIcl.Numerics;

namespace MorIcl.Comparison;

/// <summary>A mean over repeats with its bootstrap confidence interval.</summary>
public readonly record struct MeanInterval(double Mean, double Low, double High, int Count);

/// <summary>
/// The percentile bootstrap interval of a mean (Efron &amp; Tibshirani 1993, §13.3; docs/math.md §11):
/// draw <see cref="Resamples"/> resamples of the R values with replacement, take each resample's mean,
/// and report the 2.5 % and 97.5 % quantiles of those means. Resampling is seeded, so the interval is a
/// deterministic function of the values. For R = 20 normal values its coverage is about 93 % rather
/// than 95 % (the percentile interval ignores the t correction, a factor √(R/(R−1))·t/z ≈ 1.10 in
/// width); a test measures it. NaN values (a measure undefined in a setting) give a NaN interval.
/// </summary>
public static class BootstrapInterval
{
    public const int Resamples = 2000;
    public const double Level = 0.95;

    public static MeanInterval Of(IReadOnlyList<double> values, int seed = 20240)
    {
        int r = values.Count;
        if (r == 0) throw new SpecificationException("a bootstrap interval needs at least one value");
        double mean = values.Average();
        if (!double.IsFinite(mean)) return new MeanInterval(mean, double.NaN, double.NaN, r);
        if (r == 1) return new MeanInterval(mean, mean, mean, 1);
        var rng = SeedSequence.Create(seed, r, 0xB007);
        var means = new double[Resamples];
        for (int b = 0; b < Resamples; b++)
        {
            double s = 0;
            for (int i = 0; i < r; i++) s += values[rng.Next(r)];
            means[b] = s / r;
        }
        Array.Sort(means);
        double alpha = (1 - Level) / 2;
        return new MeanInterval(mean, Quantile(means, alpha), Quantile(means, 1 - alpha), r);
    }

    /// <summary>Linear interpolation between order statistics (type 7 of Hyndman &amp; Fan 1996) of sorted values.</summary>
    public static double Quantile(double[] sorted, double p)
    {
        double h = (sorted.Length - 1) * p;
        int lo = (int)Math.Floor(h);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }
}
