using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using MorIcl.Numerics;
using MorIcl.Runtime.Bounds;
using MorIcl.Runtime.Kernels;
using Xunit.Abstractions;

namespace MorIcl.Tests.Bounds;

/// <summary>
/// The exponential's error that the softmax bound uses (<see cref="ExpErrorBound"/>, docs/math.md §8.4):
/// the derivation's numbers, the executor's exp (ExpCore, and TensorPrimitives.Exp on machines without
/// AVX-512) measured against a double-double exponential, Math.Exp (which the analysis pads by 8 ulps),
/// and a deliberately poor exponential that the same measurement must reject.
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
    public void TheDerivationsNumbersStayBelowFourUnitRoundoffs()
    {
        // c1 + c2 against ln 2 (the reduction constants of ExpDouble and ExpSingle).
        double dbl = Math.Abs(((DoubleDouble)(-6.93147180369123816490e-01) + (-1.90821492927058770002e-10) + Ln2).ToDouble());
        double sgl = Math.Abs(((DoubleDouble)(-(double)0.693359375f) + (double)2.12194440e-4f + Ln2).ToDouble());
        Assert.True(dbl <= 1.3e-26, $"double ln 2 split misses by {dbl:G3}");
        Assert.True(sgl <= 7.3e-12, $"float ln 2 split misses by {sgl:G3}");
        double d = ExpErrorBound.DerivedRelativeError(13, Rounding.DoubleUnit, 1.3e-26, 1022) / Rounding.DoubleUnit;
        double f = ExpErrorBound.DerivedRelativeError(7, Rounding.SingleUnit, 7.3e-12, 126) / Rounding.SingleUnit;
        output.WriteLine($"derived: double {d:F2}u, float {f:F2}u");
        Assert.InRange(d, 3.5, 4); Assert.InRange(f, 3.5, 4);
        Assert.Equal(4 * Rounding.DoubleUnit, ExpErrorBound.RelativeError<double>());
        Assert.Equal(4 * Rounding.SingleUnit, ExpErrorBound.RelativeError<float>());
    }

    [Fact]
    public void TheExecutorsExponentialsStayWithinTheBound()
    {
        var xd = Arguments(-708, 20000);
        var xf = Arguments(-87, 20000).Select(v => (double)(float)v).ToArray();
        double tpd = WorstRelative(xd, v => { Span<double> s = stackalloc double[] { v }; TensorPrimitives.Exp(s, s); return s[0]; });
        double tpf = WorstRelative(xf, v => { Span<float> s = stackalloc float[] { (float)v }; TensorPrimitives.Exp(s, s); return s[0]; });
        output.WriteLine($"TensorPrimitives.Exp: double {tpd / Rounding.DoubleUnit:F2}u, float {tpf / Rounding.SingleUnit:F2}u");
        Assert.True(tpd <= ExpErrorBound.RelativeError<double>(), $"TensorPrimitives.Exp (double) {tpd:G3}");
        Assert.True(tpf <= ExpErrorBound.RelativeError<float>(), $"TensorPrimitives.Exp (float) {tpf:G3}");
        double math = WorstRelative(xd, Math.Exp);
        Assert.True(math <= 4 * Rounding.DoubleUnit, $"Math.Exp {math / Rounding.DoubleUnit:F2}u (the analysis pads it by 8u)");
        foreach (double v in xd.Take(2000))
        {
            var e = DoubleDouble.Exp(v);
            Assert.True(ExpErrorBound.Upper(v) >= e.Hi && ExpErrorBound.Lower(v) <= e.Hi, $"enclosure of e^{v}");
        }
        if (!Rows512<double>.Supported) { output.WriteLine("no AVX-512: ExpCore is not used on this machine"); return; }
        double cd = WorstRelative(xd, v => Rows512<double>.ExpCore(Vector512.Create(v), out _).GetElement(0));
        double cf = WorstRelative(xf, v => (double)Rows512<float>.ExpCore(Vector512.Create((float)v), out _).GetElement(0));
        output.WriteLine($"ExpCore: double {cd / Rounding.DoubleUnit:F2}u, float {cf / Rounding.SingleUnit:F2}u");
        Assert.True(cd <= ExpErrorBound.RelativeError<double>(), $"ExpCore (double) {cd:G3}");
        Assert.True(cf <= ExpErrorBound.RelativeError<float>(), $"ExpCore (float) {cf:G3}");
        Assert.Equal(1.0, Rows512<double>.ExpCore(Vector512.Create(0.0, -1, -1, -1, -1, -1, -1, -1), out _).GetElement(0));
        Assert.Equal(1f, Rows512<float>.ExpCore(Vector512.Create(0f, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1), out _).GetElement(0));
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
