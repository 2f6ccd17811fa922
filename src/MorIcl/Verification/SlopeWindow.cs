namespace MorIcl.Verification;

/// <summary>
/// The pass window of a measured log–log slope (docs/math.md §10.2): [lower − z·SE, upper + z·SE], where lower and
/// upper are the slopes, fitted on the same grid by the same least squares, of two reference functions — a derived
/// fast edge (the known-label least-squares error, or where the theorems' setting makes it exceed that, the sample-EM
/// fixed point's asymptotic covariance) and the stated bound with its logarithms — and SE is the measured slope's
/// Monte-Carlo standard error (combined in quadrature with a Monte-Carlo reference's own, when the edge is simulated).
/// No allowance is added: z = 3 is fixed for every rate check, so a slope whose expectation lies in [lower, upper]
/// falls outside with probability at most 2Φ(−3) = 0.27 % (normal approximation; one-sided 0.13 %).
/// </summary>
public sealed record SlopeWindow(double Lower, double Upper, double ReferenceStandardError = 0)
{
    /// <summary>z of every rate window.</summary>
    public const double Z = 3;
    /// <summary>Largest standard error of a measured slope that a check accepts (enough prompts).</summary>
    public const double MaxStandardError = 0.03;
    /// <summary>
    /// The same for a quantile's slope in a fast version (inside <c>dotnet test</c>): quantiles need about ten times the
    /// prompts of a controlled mean for the same SE, so the fast versions accept ≤ 0.08 there and the full versions ≤ 0.03.
    /// </summary>
    public const double MaxFastQuantileStandardError = 0.08;

    /// <summary>The window between the grid slopes of <paramref name="fastest"/> and <paramref name="slowest"/> (in either order).</summary>
    public static SlopeWindow Between(IReadOnlyList<double> x, Func<double, double> fastest, Func<double, double> slowest)
    {
        double a = GridSlope(x, fastest), b = GridSlope(x, slowest);
        return new SlopeWindow(Math.Min(a, b), Math.Max(a, b));
    }

    /// <summary>The window between a simulated reference slope (with its standard error) and the grid slope of <paramref name="slowest"/>.</summary>
    public static SlopeWindow Between(SlopeFit reference, IReadOnlyList<double> x, Func<double, double> slowest)
    {
        double b = GridSlope(x, slowest);
        return new SlopeWindow(Math.Min(reference.Slope, b), Math.Max(reference.Slope, b), reference.StandardError);
    }

    private double Spread(double se) => Z * Math.Sqrt(se * se + ReferenceStandardError * ReferenceStandardError);

    public double Low(double se) => Lower - Spread(se);
    public double High(double se) => Upper + Spread(se);

    /// <summary>The least-squares slope of log f(x_j) on log x_j over the grid: the bound's own finite-grid exponent.</summary>
    public static double GridSlope(IReadOnlyList<double> x, Func<double, double> f) => RateFit.LogLog(x, x.Select(f).ToArray()).Slope;

    public bool Contains(SlopeFit fit) =>
        double.IsFinite(fit.Slope) && double.IsFinite(fit.StandardError) && fit.Slope >= Low(fit.StandardError) && fit.Slope <= High(fit.StandardError);

    public string Criterion(SlopeFit fit) =>
        $"∈ [{Lower:F3}, {Upper:F3}] ± {Z}·{(ReferenceStandardError > 0 ? $"√(SE² + {ReferenceStandardError:F3}²)" : "SE")} = [{Low(fit.StandardError):F3}, {High(fit.StandardError):F3}]";

    /// <summary>The slope measurement against this window.</summary>
    public Measurement Measure(string name, SlopeFit fit) => new(name, fit.Slope, Criterion(fit), Contains(fit), fit.StandardError);

    /// <summary>The measurement that the slope's standard error is small enough for the window to mean something.</summary>
    public static Measurement Precision(string name, SlopeFit fit, double limit = MaxStandardError) =>
        new($"standard error of the {name}", fit.StandardError, $"≤ {limit} (enough prompts)", fit.StandardError <= limit);

    /// <summary>The one-sided "one constant C for every n" test: the slope may not exceed the bound's grid slope + z·SE.</summary>
    public static Measurement NoSlowerThan(string name, SlopeFit fit, IReadOnlyList<double> x, Func<double, double> bound)
    {
        double sb = GridSlope(x, bound), upper = sb + Z * fit.StandardError;
        return new(name, fit.Slope, $"≤ bound's {sb:F3} + {Z}·SE = {upper:F3}", fit.Slope <= upper, fit.StandardError);
    }
}
