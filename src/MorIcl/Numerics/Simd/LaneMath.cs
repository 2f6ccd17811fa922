using System.Numerics;
using System.Runtime.CompilerServices;

namespace MorIcl.Numerics.Simd;

/// <summary>
/// exp, log and tanh per lane, written once over <see cref="ILanes{TSelf, T}"/> with products and sums
/// rounded separately (no fused multiply-add), so every realisation — Vector512, Vector256, Vector128 or
/// one scalar lane — returns the same bits for the same input. They replace TensorPrimitives.Exp, Log
/// and Tanh, whose results depend on the vector width and on whether the CPU has FMA. Accuracy (checked
/// against Math.Exp/Log/Tanh in the tests): within 2 ulp in double and float.
/// </summary>
internal static class LaneMath<TL, T> where TL : struct, ILanes<TL, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static bool IsDouble => typeof(T) == typeof(double);
    private static T C(double d, float f) => IsDouble ? T.CreateTruncating(d) : T.CreateTruncating(f);

    // Cody–Waite: x = k·ln 2 + r with ln 2 = hi + lo, hi with trailing zero bits so that k·hi is exact.
    private static readonly T Log2E = C(1.4426950408889634, 1.44269504f);
    private static readonly T Ln2Hi = C(6.93147180369123816490e-01, 0.693359375f);
    private static readonly T Ln2Lo = C(1.90821492927058770002e-10, -2.12194440e-4f);
    private static readonly T Magic = C(LaneBits.DoubleMagic, LaneBits.SingleMagic);
    private static readonly T ExpLow = C(-746.0, -104f), ExpHigh = C(710.0, 89f);
    /// <summary>1/j! for j = degree … 2 (Taylor polynomial of e^r, |r| ≤ ln 2 / 2; degree 13 double, 7 float).</summary>
    private static readonly T[] ExpTaylor = Enumerable.Range(2, IsDouble ? 12 : 6).Reverse().Select(j => T.CreateTruncating(1.0 / Factorial(j))).ToArray();

    // log: x = 2^e·m, m ∈ [√½, √2), f = m − 1, s = f/(2 + f), log m = f − (f²/2 − s(f²/2 + R(s²))) (fdlibm's form).
    private static readonly T LogLn2Hi = C(6.93147180369123816490e-01, 6.9313812256e-01f);
    private static readonly T LogLn2Lo = C(1.90821492927058770002e-10, 9.0580006145e-06f);
    private static readonly T Sqrt2 = C(Math.Sqrt(2), MathF.Sqrt(2));
    private static readonly T TwoTo54 = C(18014398509481984.0, 16777216f), MinNormal = C(2.2250738585072014E-308, 1.17549435E-38f);
    private static readonly T SubnormalShift = C(54, 24);
    /// <summary>R(z) = Σ_{j ≥ 1} 2 z^j/(2j + 1), coefficients from the highest (11 terms double, 6 float).</summary>
    private static readonly T[] LogSeries = Enumerable.Range(1, IsDouble ? 11 : 6).Reverse().Select(j => T.CreateTruncating(2.0 / (2 * j + 1))).ToArray();

    // tanh: the odd Taylor series below TanhSeriesEnd, else sign(x)(1 − 2/(e^{2|x|} + 1)).
    private static readonly T TanhSeriesEnd = C(0.55, 0.55f);
    private static readonly T[] TanhSeries = TanhCoefficients(IsDouble ? 19 : 9);

    /// <summary>e^x per lane (NaN stays NaN; overflow gives +∞, underflow 0, subnormal results rounded once).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TL Exp(TL x)
    {
        var xc = TL.Min(TL.Max(x, TL.Broadcast(ExpLow)), TL.Broadcast(ExpHigh));
        var magic = TL.Broadcast(Magic);
        var k = (xc * TL.Broadcast(Log2E) + magic) - magic;                 // round(x / ln 2)
        var r = (xc - k * TL.Broadcast(Ln2Hi)) - k * TL.Broadcast(Ln2Lo);
        var p = TL.Broadcast(ExpTaylor[0]);
        for (int j = 1; j < ExpTaylor.Length; j++) p = p * r + TL.Broadcast(ExpTaylor[j]);
        var one = TL.Broadcast(T.One);
        p = p * r + one;
        p = p * r + one;
        // 2^k in two normal factors, so a subnormal result is rounded once, by the last product.
        var k1 = (k * TL.Broadcast(C(0.5, 0.5f)) + magic) - magic;
        return (p * TL.Pow2(k1)) * TL.Pow2(k - k1);
    }

    /// <summary>log x per lane (log 0 = −∞, log of a negative number or NaN = NaN, log ∞ = ∞).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TL Log(TL x)
    {
        var zero = TL.Zero;
        var sub = TL.LessThan(x, TL.Broadcast(MinNormal));
        var xs = TL.Select(sub, x * TL.Broadcast(TwoTo54), x);
        var e = TL.Exponent(xs, out var m) - (sub & TL.Broadcast(SubnormalShift));
        var big = TL.LessThan(TL.Broadcast(Sqrt2), m);
        var half = TL.Broadcast(C(0.5, 0.5f));
        m = TL.Select(big, m * half, m);
        e = e + (big & TL.Broadcast(T.One));
        var f = m - TL.Broadcast(T.One);
        var s = f / (TL.Broadcast(C(2, 2f)) + f);
        var z = s * s;
        var R = TL.Broadcast(LogSeries[0]);
        for (int j = 1; j < LogSeries.Length; j++) R = R * z + TL.Broadcast(LogSeries[j]);
        R = R * z;
        var hfsq = half * f * f;
        var y = e * TL.Broadcast(LogLn2Hi) - ((hfsq - (s * (hfsq + R) + e * TL.Broadcast(LogLn2Lo))) - f);
        y = TL.Select(TL.Equal(x, TL.Broadcast(T.PositiveInfinity)), x, y);
        y = TL.Select(TL.Equal(x, zero), TL.Broadcast(T.NegativeInfinity), y);
        var invalid = TL.LessThan(x, zero) | ~TL.Equal(x, x);
        return TL.Select(invalid, TL.Broadcast(T.NaN), y);
    }

    /// <summary>tanh x per lane (odd: tanh(−x) = −tanh x; ±∞ give ±1; NaN stays NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TL Tanh(TL x)
    {
        var a = TL.Abs(x);
        var one = TL.Broadcast(T.One);
        var big = one - TL.Broadcast(C(2, 2f)) / (Exp(a + a) + one);
        var z = a * a;
        var p = TL.Broadcast(TanhSeries[0]);
        for (int j = 1; j < TanhSeries.Length; j++) p = p * z + TL.Broadcast(TanhSeries[j]);
        var small = a + a * (z * p);
        // tanh |x| ≥ 0, then x's sign bit (so tanh(−0) = −0).
        return TL.Select(TL.LessThan(a, TL.Broadcast(TanhSeriesEnd)), small, big) | (x & TL.Broadcast(T.NegativeZero));
    }

    private static double Factorial(int j) { double f = 1; for (int i = 2; i <= j; i++) f *= i; return f; }

    /// <summary>
    /// tanh x = x + Σ_{j ≥ 1} t_{2j+1} x^{2j+1}; returns t_{2·terms+1} … t_3 (highest first) from
    /// tanh' = 1 − tanh²: (n + 1) t_{n+1} = [n = 0] − Σ_{i+j=n} t_i t_j (the products of one n share a
    /// sign, so the recurrence does not cancel).
    /// </summary>
    private static T[] TanhCoefficients(int terms)
    {
        int top = 2 * terms + 1;
        var t = new double[top + 1];
        t[1] = 1;
        for (int n = 1; n < top; n++)
        {
            double s = 0;
            for (int i = 1; i < n; i++) s += t[i] * t[n - i];
            t[n + 1] = -s / (n + 1);
        }
        return Enumerable.Range(1, terms).Reverse().Select(j => T.CreateTruncating(t[2 * j + 1])).ToArray();
    }
}
