namespace MorIcl.Verification;

/// <summary>Least-squares fits on log–log axes and empirical quantiles (docs/math.md §2: checks measure exponents).</summary>
public static class RateFit
{
    /// <summary>Slope, intercept and R² of log y = a + b log x.</summary>
    public static (double Slope, double Intercept, double R2) LogLog(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        int n = x.Count;
        var lx = x.Select(v => Math.Log(v)).ToArray(); var ly = y.Select(v => Math.Log(v)).ToArray();
        double mx = lx.Average(), my = ly.Average(), sxx = 0, sxy = 0, syy = 0;
        for (int i = 0; i < n; i++) { sxx += (lx[i] - mx) * (lx[i] - mx); sxy += (lx[i] - mx) * (ly[i] - my); syy += (ly[i] - my) * (ly[i] - my); }
        double b = sxy / sxx, a = my - b * mx;
        double r2 = syy == 0 ? 1 : sxy * sxy / (sxx * syy);
        return (b, a, r2);
    }

    /// <summary>Empirical quantile (linear interpolation between order statistics).</summary>
    public static double Quantile(IEnumerable<double> values, double q)
    {
        var s = values.OrderBy(v => v).ToArray();
        if (s.Length == 0) return double.NaN;
        double pos = q * (s.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, s.Length - 1);
        return s[lo] + (pos - lo) * (s[hi] - s[lo]);
    }

    public static double Median(IEnumerable<double> values) => Quantile(values, 0.5);

    /// <summary>√(mean of squares).</summary>
    public static double RootMeanSquare(IEnumerable<double> values) => Math.Sqrt(values.Average(v => v * v));
}
