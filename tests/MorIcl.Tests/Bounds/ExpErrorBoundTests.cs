using MorIcl.Numerics;
using MorIcl.Numerics.Simd;
using MorIcl.Runtime.Bounds;
using Xunit.Abstractions;

namespace MorIcl.Tests.Bounds;

/// <summary>
/// The exponential's error that the softmax bound uses (<see cref="ExpErrorBound"/>, docs/math.md §8.4):
/// the derivation's numbers, the executor's exp (LaneMath.Exp, the same bits on every SIMD width)
/// measured against a double-double exponential, Math.Exp (which the analysis pads by 8 ulps), and a
/// deliberately poor exponential that the same measurement must reject.
/// </summary>
public class ExpErrorBoundTests(ITestOutputHelper output)
{
    private static readonly DoubleDouble Ln2 = new(0.6931471805599453, 2.3190468138462996e-17);

    /// <summary>Arguments in [lo, 0]: a uniform grid plus small and integer-ln 2 neighbourhoods.</summary>
    private static double[] Arguments(double lo, int count)
    {
        var rng = new Random(7);
        var x = new List<double> { 0, -1e-300, -1e-12, -0.5 * Math.Log(2), -Math.Log(2) };
        for (int i = 0; i < count; i++) x.Add(lo * rng.NextDouble());
        for (int k = 1; k < 100; k++) x.Add(-k * Math.Log(2) * (1 + 1e-9 * (rng.NextDouble() - 0.5)));
        return x.Where(v => v >= lo).ToArray();
    }

    /// <summary>max over x of |ê(x) − e^x| / e^x, e^x in double-double.</summary>
    private static double WorstRelative(double[] x, Func<double, double> exp)
    {
        double worst = 0;
        foreach (double v in x)
        {
            var e = DoubleDouble.Exp(v);
            double got = exp(v);
            worst = Math.Max(worst, Math.Abs((got - e.Hi) - e.Lo) / e.Hi);
        }
        return worst;
    }

    [Fact]
    public void TheDerivationsNumbersStayBelowTheBound()
    {
        // c1 + c2 against ln 2 (the reduction constants of ExpDouble and ExpSingle).
        double dbl = Math.Abs(((DoubleDouble)(-6.93147180369123816490e-01) + (-1.90821492927058770002e-10) + Ln2).ToDouble());
        double sgl = Math.Abs(((DoubleDouble)(-(double)0.693359375f) + (double)2.12194440e-4f + Ln2).ToDouble());
        Assert.True(dbl <= 1.3e-26, $"double ln 2 split misses by {dbl:G3}");
        Assert.True(sgl <= 7.3e-12, $"float ln 2 split misses by {sgl:G3}");
        double d = ExpErrorBound.DerivedRelativeError(13, Rounding.DoubleUnit, 1.3e-26, 1075) / Rounding.DoubleUnit;
        double f = ExpErrorBound.DerivedRelativeError(7, Rounding.SingleUnit, 7.3e-12, 150) / Rounding.SingleUnit;
        output.WriteLine($"derived: double {d:F2}u, float {f:F2}u");
        Assert.InRange(d, 6, ExpErrorBound.RelativeUnits); Assert.InRange(f, 6, ExpErrorBound.RelativeUnits);
        Assert.Equal(ExpErrorBound.RelativeUnits * Rounding.DoubleUnit, ExpErrorBound.RelativeError<double>());
        Assert.Equal(ExpErrorBound.RelativeUnits * Rounding.SingleUnit, ExpErrorBound.RelativeError<float>());
    }

    [Fact]
    public void TheExecutorsExponentialStaysWithinTheBound()
    {
        var xd = Arguments(-708, 20000);
        var xf = Arguments(-87, 20000).Select(v => (double)(float)v).ToArray();
        double ed = WorstRelative(xd, v => SimdSpan.Exp(v));
        double ef = WorstRelative(xf, v => SimdSpan.Exp((float)v));
        output.WriteLine($"LaneMath.Exp: double {ed / Rounding.DoubleUnit:F2}u, float {ef / Rounding.SingleUnit:F2}u (bound {ExpErrorBound.RelativeUnits}u)");
        Assert.True(ed <= ExpErrorBound.RelativeError<double>(), $"LaneMath.Exp (double) {ed:G3}");
        Assert.True(ef <= ExpErrorBound.RelativeError<float>(), $"LaneMath.Exp (float) {ef:G3}");
        Assert.Equal(1.0, SimdSpan.Exp(0.0));
        Assert.Equal(1f, SimdSpan.Exp(0f));
        Assert.Equal(0.0, SimdSpan.Exp(ExpErrorBound.ZeroBelow<double>() - 0.1));
        Assert.Equal(0f, SimdSpan.Exp((float)ExpErrorBound.ZeroBelow<float>() - 0.1f));
        double math = WorstRelative(xd, Math.Exp);
        Assert.True(math <= 4 * Rounding.DoubleUnit, $"Math.Exp {math / Rounding.DoubleUnit:F2}u (the analysis pads it by 8u)");
        foreach (double v in xd.Take(2000))
        {
            var e = DoubleDouble.Exp(v);
            Assert.True(ExpErrorBound.Upper(v) >= e.Hi && ExpErrorBound.Lower(v) <= e.Hi, $"enclosure of e^{v}");
        }
    }

    /// <summary>The measurement rejects an exponential that is worse than its bound: a Taylor polynomial of degree 5.</summary>
    [Fact]
    public void APoorExponentialIsRejected()
    {
        static double Poor(double x)
        {
            double n = Math.Round(x / Math.Log(2)), r = x - n * Math.Log(2), p = 1, t = 1;
            for (int k = 1; k <= 5; k++) { t *= r / k; p += t; }
            return Math.ScaleB(p, (int)n);
        }
        double worst = WorstRelative(Arguments(-700, 2000), Poor);
        Assert.True(worst > ExpErrorBound.RelativeError<double>(), $"a degree-5 exp ({worst:G3}) exceeds 4u");
    }

    [Fact]
    public void TheDoubleDoubleExponentialIsAccurate()
    {
        var e = DoubleDouble.Exp(1);
        Assert.True(Math.Abs((e.Hi - 2.718281828459045) + (e.Lo - 1.4456468917292502e-16)) < 1e-29, $"e = {e}");
        var rng = new Random(3);
        for (int i = 0; i < 200; i++)
        {
            double a = -50 * rng.NextDouble(), b = -50 * rng.NextDouble();
            var lhs = DoubleDouble.Exp(a) * DoubleDouble.Exp(b); var rhs = DoubleDouble.Exp((DoubleDouble)a + b);
            Assert.True(Math.Abs(((lhs - rhs) / rhs).ToDouble()) < 1e-28, $"exp({a})·exp({b})");
        }
    }
}
