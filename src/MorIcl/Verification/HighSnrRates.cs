namespace MorIcl.Verification;

/// <summary>
/// The slope measurements shared by the high-SNR rate checks (docs/math.md §10): a statistic of the
/// sweep's per-prompt values over n, d and σ, each against its window, with the standard-error requirement.
/// </summary>
internal static class HighSnrRates
{
    /// <summary>
    /// Which statistic of a grid point's sample is fitted: the root mean square of a per-prompt value
    /// (given its squares and their control variate), a controlled mean, or the 90 % quantile of the values.
    /// </summary>
    public enum Statistic { RootMeanSquare, Mean, Quantile90 }

    /// <summary>Per grid point, the sample (squares for a root mean square) and its zero-mean control variates.</summary>
    public delegate (double[] Sample, double[][] Controls) Values(HighSnrSweep.Point p);

    public static SlopeFit Fit(IReadOnlyList<HighSnrSweep.Point> points, Func<HighSnrSweep.Point, double> x, Values values, Statistic statistic, int seed)
    {
        var xs = points.Select(x).ToArray();
        var samples = points.Select(p => values(p)).ToArray();
        return statistic switch
        {
            Statistic.RootMeanSquare => MonteCarloSlope.OfControlledMean(xs, samples.Select(s => s.Sample).ToArray(), samples.Select(s => s.Controls).ToArray(), 0.5),
            Statistic.Mean => MonteCarloSlope.OfControlledMean(xs, samples.Select(s => s.Sample).ToArray(), samples.Select(s => s.Controls).ToArray(), 1),
            _ => MonteCarloSlope.OfQuantile(xs, samples.Select(s => s.Sample).ToArray(), 0.9, seed),
        };
    }

    /// <summary>Slope in n against [known-label rate, bound] (both given as functions of n), plus its precision.</summary>
    public static SlopeFit OverN(List<Measurement> m, HighSnrSweep sweep, string what, Values values, Statistic statistic, int seed,
        Func<double, double> fastest, Func<double, double> bound)
    {
        var fit = Fit(sweep.OverN, p => p.N, values, statistic, seed);
        var window = SlopeWindow.Between(sweep.OverN.Select(p => (double)p.N).ToArray(), fastest, bound);
        m.Add(window.Measure($"slope of {what} in n", fit));
        m.Add(SlopeWindow.Precision($"slope in n", fit, Limit(statistic, sweep)));
        return fit;
    }

    public static SlopeFit? OverD(List<Measurement> m, HighSnrSweep sweep, string what, Values values, Statistic statistic, int seed,
        Func<double, double> fastest, Func<double, double> bound)
    {
        if (sweep.OverD.Length == 0) return null;
        var fit = Fit(sweep.OverD, p => p.D, values, statistic, seed + 1);
        var window = SlopeWindow.Between(sweep.OverD.Select(p => (double)p.D).ToArray(), fastest, bound);
        m.Add(window.Measure($"slope of {what} in d", fit));
        m.Add(SlopeWindow.Precision($"slope in d", fit, Limit(statistic, sweep)));
        return fit;
    }

    /// <summary>Slope in σ, one-sided: the bound is ∝ σ^power, and the error must fall at least as fast as σ ↓ (docs/math.md §10).</summary>
    public static SlopeFit? OverSigma(List<Measurement> m, HighSnrSweep sweep, string what, Values values, Statistic statistic, int seed, double power)
    {
        if (sweep.OverSigma.Length == 0) return null;
        var fit = Fit(sweep.OverSigma, p => p.Sigma, values, statistic, seed + 2);
        double lower = power - SlopeWindow.Z * fit.StandardError;
        m.Add(new Measurement($"slope of {what} in σ", fit.Slope, $"≥ {power:F3} − {SlopeWindow.Z}·SE = {lower:F3} (bound ∝ σ^{power:G2})", fit.Slope >= lower, fit.StandardError));
        m.Add(SlopeWindow.Precision("slope in σ", fit, Limit(statistic, sweep)));
        return fit;
    }

    /// <summary>The w.h.p. part: the 90 % quantile may not decay slower than the bound (C uniform in n); one-sided.</summary>
    public static SlopeFit Uniformity(List<Measurement> m, HighSnrSweep sweep, string what, Values values, int seed, Func<double, double> bound)
    {
        var fit = Fit(sweep.OverN, p => p.N, values, Statistic.Quantile90, seed + 3);
        var xs = sweep.OverN.Select(p => (double)p.N).ToArray();
        m.Add(SlopeWindow.NoSlowerThan($"slope of the 90 % quantile of {what} in n (one constant C for every n)", fit, xs, bound));
        var ratios = sweep.OverN.Select((p, j) => fit.Values[j] / bound(p.N)).ToArray();
        m.Add(new Measurement("C = max over n of q90 / bound", ratios.Max(), "reported", true));
        return fit;
    }

    private static double Limit(Statistic statistic, HighSnrSweep sweep) =>
        statistic == Statistic.Quantile90 && !sweep.Full ? SlopeWindow.MaxFastQuantileStandardError : SlopeWindow.MaxStandardError;

    public static Measurement Domain(HighSnrSweep sweep)
    {
        int outside = sweep.OverN.Concat(sweep.OverD).Concat(sweep.OverSigma).Sum(p => p.OutOfDomain);
        return new Measurement("prompts outside the certified domain", outside, "= 0", outside == 0);
    }

    public static double[] Xs(IEnumerable<HighSnrSweep.Point> points, Func<HighSnrSweep.Point, double> x) => points.Select(x).ToArray();
}
