namespace MorIcl.Runtime.Bounds;

/// <summary>
/// The error of the exponential the executor's softmax uses, and safe enclosures of e^y for the
/// analysis itself (docs/math.md §8.4).
/// <para>
/// <b>The executor's exp</b> is <c>LaneMath.Exp</c> (the same bits on every SIMD width), for an argument
/// x ≤ 0: k = round(x·L) with L ≈ 1/ln 2 (the product rounded, then a 1.5·2^p magic constant added, so
/// |x/ln 2 − k| ≤ 1/2 + |x|·(u/ln 2 + |L − 1/ln 2|)); r = (x − k·c₁) − k·c₂ (c₁ has enough trailing
/// zeros for k·c₁ to be exact, and the first difference is exact by Sterbenz's lemma); then a Taylor
/// polynomial of degree m (13 in double, 7 in float) by Horner's rule with every product and every sum
/// rounded (no fused multiply-add, so that every width computes the same), and the scaling by 2^k as two
/// exact powers of two, so a result below the smallest normal is rounded once. With |r| ≤ ρ = ln 2 · (1/2 + 1.2·10^-5) (the rounded product x·L adds |x|·u/ln 2 ≤ 9·10^-6 in float):
/// </para>
/// <list type="bullet">
/// <item>reduction: |r̂ − r| ≤ u(|r₁| + |r|) + |k|·|ln 2 − (c₁ + c₂)| ≤ 0.70u (c₁ + c₂ misses ln 2 by
/// ≤ 1.3·10^-26 in double and 7.3·10^-12 in float, with |k| ≤ 1075 resp. 150);</item>
/// <item>Horner, unfused (Higham §5.1, running error form): each step p ← fl(fl(p·r) + c) rounds twice, so
/// |p̂ − p| ≤ u Σ_k (|h_{k+1}(r)|·|r| + |h_k(r)|)·|r|^k (1 + O(u)), where h_k is the k-th Horner partial
/// value; |h_k(r)| ≤ e^{|r|}/k!, so each of the two sums is ≤ e^{2|r|} ≤ 2, and relative to
/// p(r) ≥ e^{−|r|} ≥ 1/√2 this is ≤ 4√2·u;</item>
/// <item>coefficients: 1, 1, 1/2 are exact, the others rounded to nearest: ≤ u Σ_{k≥3} |r|^k/k! · √2 ≤ 0.011u;</item>
/// <item>truncation: |r|^{m+1}/(m+1)! · e^{2|r|}: 8.3·10^-18 = 0.075u (double), 1.03·10^-8 = 0.173u (float).</item>
/// </list>
/// <para>
/// In total |ê − e^x| ≤ 6.5u · e^x (double 6.45u, float 6.55u); the bound used is
/// <see cref="RelativeError{T}"/> = 7u (measured: within 2 ulp of the C runtime's exp, LaneMathTests).
/// A result below the smallest normal is the rounded product of a normal number and a power of two, so
/// it is within <see cref="AbsoluteError{T}"/>, the smallest normal number, of e^x; arguments below the
/// underflow threshold give 0. e^0 = 1 exactly (k = 0, r = 0, every Horner step returns its constant).
/// </para>
/// </summary>
public static class ExpErrorBound
{
    /// <summary>|ê − e^x| ≤ RelativeError·e^x + AbsoluteError for the executor's exp at x ≤ 0.</summary>
    public static double RelativeError<T>() => RelativeUnits * Rounding.Unit<T>();

    /// <summary>The relative error bound in units of u (7).</summary>
    public const double RelativeUnits = 7;

    /// <summary>The absolute slack of underflowing results: the smallest normal of T.</summary>
    public static double AbsoluteError<T>() => Rounding.SmallestNormal<T>();

    /// <summary>
    /// Arguments below which the executor's exp returns exactly 0 (LaneMath.Exp rounds e^x below half the smallest subnormal to 0;
    /// IEEE exp also rounds to 0 there: e^{−745.2} &lt; 2^-1075, e^{−104} &lt; 2^-150).
    /// </summary>
    public static double ZeroBelow<T>() => typeof(T) == typeof(float) ? -104.0 : -745.2;

    /// <summary>
    /// The Horner and reduction bound above, evaluated (for the doc comment's numbers and a test):
    /// reduction 2ρu, unfused Horner 4√2·u, coefficients, truncation, for Taylor degree m and unit roundoff u.
    /// </summary>
    public static double DerivedRelativeError(int degree, double u, double lnTwoError, int maxExponent)
    {
        double rho = Math.Log(2) * (0.5 + 1.2e-5);
        double reduction = 2 * rho * u + maxExponent * lnTwoError;
        double horner = 4 * Math.Sqrt(2) * u * (1 + (2 * degree + 2) * u);
        double coefficients = u * (Math.Exp(rho) - 1 - rho - rho * rho / 2) * Math.Sqrt(2);
        double factorial = 1;
        for (int k = 2; k <= degree + 1; k++) factorial *= k;
        double truncation = Math.Pow(rho, degree + 1) / factorial * Math.Exp(2 * rho);
        return reduction + horner + coefficients + truncation;
    }

    /// <summary>
    /// Math.Exp (the C runtime's exp, within 1 ulp) padded to a certain upper bound of e^y:
    /// e^y·(1 + 8·2^-53) plus two subnormal ulps (underflowing results); +∞ stays +∞.
    /// </summary>
    public static double Upper(double y)
    {
        if (double.IsNaN(y)) return double.NaN;
        double e = Math.Exp(y);
        return e * (1 + 8 * Rounding.DoubleUnit) + 2 * double.Epsilon;
    }

    /// <summary>A certain lower bound of e^y (0 when it underflows).</summary>
    public static double Lower(double y)
    {
        if (double.IsNaN(y)) return double.NaN;
        double e = Math.Exp(y) * (1 - 8 * Rounding.DoubleUnit) - 2 * double.Epsilon;
        return e > 0 ? e : 0;
    }
}
