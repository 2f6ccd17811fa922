namespace MorIcl.Verification;

/// <summary>
/// The pass window of a measured log–log slope (docs/math.md §10.2): [lower − Δ − z·SE, upper + Δ + z·SE],
/// where lower and upper are the slopes, fitted on the same grid by the same least squares, of two
/// reference functions — the known-label least-squares error (no logarithms, the parametric rate) and
/// the stated bound with its logarithms — Δ = 1/(2√x_min) allows for the lower-order terms the theorems
/// do not control (an error C·b(x)(1 + c/√x) with |c| ≤ 1 has a slope within 1/(2√x) of b's), and SE is
/// the measured slope's Monte-Carlo standard error. z = 3 is fixed for every rate check: a slope whose
/// expectation lies in the widened window falls outside with probability at most 2Φ(−3) = 0.27 %.
/// </summary>
public sealed record SlopeWindow(double Lower, double Upper, double Allowance = 0)
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

    /// <summary>The window between the grid slopes of <paramref name="fastest"/> and <paramref name="slowest"/> (in either order), widened by Δ = 1/(2√n_min).</summary>
    public static SlopeWindow Between(IReadOnlyList<double> x, Func<double, double> fastest, Func<double, double> slowest, double? allowance = null)
    {
        double a = GridSlope(x, fastest), b = GridSlope(x, slowest);
        return new SlopeWindow(Math.Min(a, b), Math.Max(a, b), allowance ?? LowerOrder(x));
    }

    /// <summary>A single reference slope (both edges equal), widened by Δ.</summary>
    public static SlopeWindow At(IReadOnlyList<double> x, Func<double, double> reference, double? allowance = null)
    {
        double a = GridSlope(x, reference);
        return new SlopeWindow(a, a, allowance ?? LowerOrder(x));
    }

    /// <summary>Δ = 1/(2√x_min): the largest slope change of a relative correction c/√x, |c| ≤ 1, at the grid's smallest x.</summary>
    public static double LowerOrder(IReadOnlyList<double> x) => 0.5 / Math.Sqrt(x.Min());

    public double Low(double se) => Lower - Allowance - Z * se;
    public double High(double se) => Upper + Allowance + Z * se;

    /// <summary>The least-squares slope of log f(x_j) on log x_j over the grid: the bound's own finite-grid exponent.</summary>
    public static double GridSlope(IReadOnlyList<double> x, Func<double, double> f) => RateFit.LogLog(x, x.Select(f).ToArray()).Slope;

    public bool Contains(SlopeFit fit) =>
        double.IsFinite(fit.Slope) && double.IsFinite(fit.StandardError) && fit.Slope >= Low(fit.StandardError) && fit.Slope <= High(fit.StandardError);

    public string Criterion(SlopeFit fit) =>
        (Lower == Upper ? $"∈ {Lower:F3}" : $"∈ [{Lower:F3}, {Upper:F3}]") + $" ± ({Allowance:F3} + {Z}·SE) = [{Low(fit.StandardError):F3}, {High(fit.StandardError):F3}]";

    /// <summary>The slope measurement against this window.</summary>
    public Measurement Measure(string name, SlopeFit fit) => new(name, fit.Slope, Criterion(fit), Contains(fit), fit.StandardError);

    /// <summary>The measurement that the slope's standard error is small enough for the window to mean something.</summary>
    public static Measurement Precision(string name, SlopeFit fit, double limit = MaxStandardError) =>
        new($"standard error of the {name}", fit.StandardError, $"≤ {limit} (enough prompts)", fit.StandardError <= limit);
}
