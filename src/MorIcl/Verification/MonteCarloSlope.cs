namespace MorIcl.Verification;

/// <summary>
/// A log–log slope of a Monte-Carlo statistic over a grid, with its standard error (docs/math.md §10).
/// <see cref="Values"/> holds the statistic at each grid point and <see cref="LogStandardErrors"/> the
/// standard error of its logarithm.
/// </summary>
public sealed record SlopeFit(double Slope, double Intercept, double StandardError, double[] Values, double[] LogStandardErrors);

/// <summary>
/// Slopes of log s_j on log x_j where s_j is a statistic of the Monte-Carlo sample at grid point j
/// (docs/math.md §10). The samples at different grid points are independent, and the least-squares slope
/// is linear in the log s_j: slope = Σ_j w_j log s_j with w_j = (log x_j − mean)/Σ(log x − mean)², so
/// Var(slope) = Σ_j w_j² Var(log s_j). Var(log s_j) is the delete-one jackknife variance for smooth
/// statistics (mean, root mean square), and a seeded bootstrap variance for quantiles (the jackknife is
/// inconsistent for quantiles).
/// </summary>
public static class MonteCarloSlope
{
    public const int BootstrapResamples = 400;

    /// <summary>Slope of the mean of positive values (e.g. a squared error).</summary>
    public static SlopeFit OfMean(IReadOnlyList<double> x, IReadOnlyList<double[]> samples) =>
        Combine(x, samples.Select(s => JackknifeLog(s, squared: false)).ToArray());

    /// <summary>
    /// Slope of a mean (<paramref name="power"/> = 1) or of its square root (½: a root mean square when the
    /// samples are squares), each mean estimated with zero-mean control variates Z (docs/math.md §10.2):
    /// m̂ = Ȳ − ĉᵀZ̄ with ĉ = Σ_ZZ⁻¹ Σ_ZY fitted at each grid point; the jackknife refits ĉ.
    /// </summary>
    public static SlopeFit OfControlledMean(IReadOnlyList<double> x, IReadOnlyList<double[]> samples, IReadOnlyList<double[][]> controls, double power) =>
        Combine(x, samples.Select((s, j) => JackknifeControlled(s, controls[j], power)).ToArray());

    /// <summary>Slope of the root mean square √(mean v²).</summary>
    public static SlopeFit OfRootMeanSquare(IReadOnlyList<double> x, IReadOnlyList<double[]> samples) =>
        Combine(x, samples.Select(s => JackknifeLog(s, squared: true)).ToArray());

    /// <summary>Slope of the empirical q-quantile, bootstrap standard errors from <paramref name="seed"/>.</summary>
    public static SlopeFit OfQuantile(IReadOnlyList<double> x, IReadOnlyList<double[]> samples, double q, int seed) =>
        Combine(x, samples.Select((s, j) => BootstrapLogQuantile(s, q, seed * 7919 + j)).ToArray());

    private static SlopeFit Combine(IReadOnlyList<double> x, (double Value, double LogSe)[] points)
    {
        var fit = RateFit.LogLog(x, points.Select(p => p.Value).ToArray());
        var w = Weights(x);
        double variance = 0;
        for (int j = 0; j < w.Length; j++) variance += w[j] * w[j] * points[j].LogSe * points[j].LogSe;
        return new SlopeFit(fit.Slope, fit.Intercept, Math.Sqrt(variance), points.Select(p => p.Value).ToArray(), points.Select(p => p.LogSe).ToArray());
    }

    /// <summary>w_j of slope = Σ_j w_j log y_j.</summary>
    public static double[] Weights(IReadOnlyList<double> x)
    {
        var lx = x.Select(v => Math.Log(v)).ToArray();
        double mean = lx.Average(), sxx = lx.Sum(v => (v - mean) * (v - mean));
        return lx.Select(v => (v - mean) / sxx).ToArray();
    }

    /// <summary>log of the mean (or RMS) and the jackknife standard error of that log.</summary>
    public static (double Value, double LogSe) JackknifeLog(double[] sample, bool squared)
    {
        int r = sample.Length;
        var v = squared ? sample.Select(a => a * a).ToArray() : sample;
        double sum = v.Sum(), mean = sum / r;
        double power = squared ? 0.5 : 1;
        if (r < 2 || !(mean > 0)) return (Math.Pow(mean, power), double.PositiveInfinity);
        var loo = v.Select(a => power * Math.Log(Math.Max((sum - a) / (r - 1), 1e-300))).ToArray();
        double looMean = loo.Average();
        double variance = (r - 1.0) / r * loo.Sum(l => (l - looMean) * (l - looMean));
        return (Math.Pow(mean, power), Math.Sqrt(variance));
    }

    /// <summary>m̂^power and the delete-one jackknife standard error of power·log m̂, m̂ = Ȳ − ĉᵀZ̄ (controls: one array per control variate).</summary>
    public static (double Value, double LogSe) JackknifeControlled(double[] y, double[][] z, double power)
    {
        int r = y.Length, k = z.Length;
        var sz = new double[k]; var szy = new double[k]; var szz = new double[k, k];
        double sy = 0;
        for (int i = 0; i < r; i++)
        {
            sy += y[i];
            for (int a = 0; a < k; a++) { sz[a] += z[a][i]; szy[a] += z[a][i] * y[i]; for (int b = 0; b < k; b++) szz[a, b] += z[a][i] * z[b][i]; }
        }
        double Estimate(int leave)
        {
            int m = leave < 0 ? r : r - 1;
            double my = (sy - (leave < 0 ? 0 : y[leave])) / m;
            var mz = new double[k]; var cov = new double[k, k]; var czy = new double[k];
            for (int a = 0; a < k; a++) mz[a] = (sz[a] - (leave < 0 ? 0 : z[a][leave])) / m;
            for (int a = 0; a < k; a++)
            {
                czy[a] = (szy[a] - (leave < 0 ? 0 : z[a][leave] * y[leave])) / m - mz[a] * my;
                for (int b = 0; b < k; b++) cov[a, b] = (szz[a, b] - (leave < 0 ? 0 : z[a][leave] * z[b][leave])) / m - mz[a] * mz[b];
            }
            var c = SolveSymmetric(cov, czy);
            double est = my;
            for (int a = 0; a < k; a++) est -= c[a] * mz[a];
            return est;
        }
        double full = Estimate(-1);
        if (r < k + 3 || !(full > 0)) return (Math.Pow(Math.Max(full, 0), power), double.PositiveInfinity);
        var loo = new double[r];
        for (int i = 0; i < r; i++) loo[i] = power * Math.Log(Math.Max(Estimate(i), 1e-300));
        double mean = loo.Average();
        return (Math.Pow(full, power), Math.Sqrt((r - 1.0) / r * loo.Sum(l => (l - mean) * (l - mean))));
    }

    /// <summary>Solves A c = b for a small symmetric positive semi-definite A (ridge 1e−12·trace for a degenerate control).</summary>
    private static double[] SolveSymmetric(double[,] a, double[] b)
    {
        int k = b.Length;
        if (k == 0) return Array.Empty<double>();
        double trace = 0;
        for (int i = 0; i < k; i++) trace += a[i, i];
        var m = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(k, k, (i, j) => a[i, j] + (i == j ? 1e-12 * trace + 1e-300 : 0));
        return m.Solve(MathNet.Numerics.LinearAlgebra.Vector<double>.Build.DenseOfArray(b)).ToArray();
    }

    /// <summary>The q-quantile and the bootstrap standard error of its logarithm.</summary>
    public static (double Value, double LogSe) BootstrapLogQuantile(double[] sample, double q, int seed)
    {
        double value = RateFit.Quantile(sample, q);
        if (sample.Length < 2 || !(value > 0)) return (value, double.PositiveInfinity);
        var rng = Numerics.SeedSequence.Create(seed, 0, 0xB007);
        var resample = new double[sample.Length];
        var logs = new double[BootstrapResamples];
        for (int b = 0; b < BootstrapResamples; b++)
        {
            for (int i = 0; i < resample.Length; i++) resample[i] = sample[rng.Next(sample.Length)];
            logs[b] = Math.Log(Math.Max(RateFit.Quantile(resample, q), 1e-300));
        }
        double m = logs.Average();
        return (value, Math.Sqrt(logs.Sum(l => (l - m) * (l - m)) / (BootstrapResamples - 1)));
    }
}
