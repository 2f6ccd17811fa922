namespace MorIcl.Runtime.Bounds;

/// <summary>
/// The error of the exponential the executor's softmax uses, and safe enclosures of e^y for the
/// analysis itself (docs/math.md §8.4).
/// <para>
/// <b>The executor's exp</b> (the exponential of <c>RowPasses.ExpRow</c> (before the SIMD work it was <c>Rows512.ExpCore</c>; the analysis below is of that polynomial and must be re-derived for <c>LaneMath.Exp</c>)), for an argument x ≤ 0 whose
/// result is normal: n = round(x·L) with L ≈ 1/ln 2 (one FMA against a 1.5·2^p magic constant, so
/// |x·L − n| ≤ 1/2 and |x/ln 2 − n| ≤ 1/2 + |x|·|L − 1/ln 2|); r = x − n·(c₁ + c₂) by two FMAs (c₁ has
/// enough trailing zeros for n·c₁ to be exact); then a Taylor polynomial of degree m (13 in double,
/// 7 in float) by Horner's rule with FMA, and the exact scaling by 2^n. With |r| ≤ ρ = ln 2 · (1/2 + 2·10^-6):
/// </para>
/// <list type="bullet">
/// <item>reduction: |r̂ − r| ≤ u(|r₁| + |r|) + |n|·|ln 2 − (c₁ + c₂)| ≤ 0.70u (c₁ + c₂ misses ln 2 by
/// ≤ 1.3·10^-26 in double and 7.3·10^-12 in float, with |n| ≤ 1022 resp. 126);</item>
/// <item>Horner (Higham §5.1, running error form): |p̂ − p| ≤ u Σ_k |h_k(r)|·|r|^k (1 + O(u)), where
/// h_k is the k-th Horner partial value; |h_k(r)| ≤ e^{|r|}/k!, so Σ_k |h_k||r|^k ≤ e^{2|r|} ≤ 2, and
/// relative to p(r) ≥ e^{−|r|} ≥ 1/√2 this is ≤ 2√2·u;</item>
/// <item>coefficients: 1, 1, 1/2 are exact, the others rounded to nearest: ≤ u Σ_{k≥3} |r|^k/k! · √2 ≤ 0.011u;</item>
/// <item>truncation: |r|^{m+1}/(m+1)! · e^{2|r|}: 8.3·10^-18 = 0.075u (double), 1.03·10^-8 = 0.173u (float).</item>
/// </list>
/// <para>
/// In total |ê − e^x| ≤ 3.72u · e^x (double 3.62u, float 3.72u); the bound used is
/// <see cref="RelativeError{T}"/> = 4u. Results that would be subnormal are computed by T.Exp and
/// arguments below the underflow threshold give 0; both are within <see cref="AbsoluteError{T}"/> of
/// e^x, the smallest normal number. e^0 = 1 exactly (r = 0, every Horner step returns its constant).
/// Without AVX-512 the executor calls TensorPrimitives.Exp instead; its accuracy is not derived here
/// but measured (a test compares it with a double-double exponential and requires the same 4u).
/// </para>
/// </summary>
public static class ExpErrorBound
{
    /// <summary>|ê − e^x| ≤ RelativeError·e^x + AbsoluteError for the executor's exp at x ≤ 0.</summary>
    public static double RelativeError<T>() => 4 * Rounding.Unit<T>();

    /// <summary>The absolute slack of underflowing results: the smallest normal of T.</summary>
    public static double AbsoluteError<T>() => Rounding.SmallestNormal<T>();

    /// <summary>
    /// Arguments below which the executor's exp returns exactly 0 (ExpCore's underflow threshold;
    /// IEEE exp also rounds to 0 there: e^{−745.2} &lt; 2^-1075, e^{−104} &lt; 2^-150).
    /// </summary>
    public static double ZeroBelow<T>() => typeof(T) == typeof(float) ? -104.0 : -745.2;

    /// <summary>
    /// The Horner and reduction bound above, evaluated (for the doc comment's numbers and a test):
    /// reduction 2ρu, Horner 2√2·u, coefficients, truncation, for Taylor degree m and unit roundoff u.
    /// </summary>
    public static double DerivedRelativeError(int degree, double u, double lnTwoError, int maxExponent)
    {
        double rho = Math.Log(2) * (0.5 + 2e-6);
        double reduction = 2 * rho * u + maxExponent * lnTwoError;
        double horner = 2 * Math.Sqrt(2) * u * (1 + (degree + 1) * u);
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
