using System.Numerics;
using MorIcl.Numerics.Simd;

namespace MorIcl.Tests.Simd;

/// <summary>
/// exp, log and tanh of <see cref="LaneMath{TL, T}"/>: accurate against the C runtime's functions
/// (an independent implementation), and the same bits from every realisation (one scalar lane,
/// Vector128, Vector256, Vector512 — the wider ones in software where the CPU lacks them).
/// </summary>
public sealed class LaneMathTests
{
    private static double[] Inputs(double lo, double hi, int count, int seed)
    {
        var rng = new Random(seed);
        var x = new double[count];
        for (int i = 0; i < count; i++) x[i] = lo + (hi - lo) * rng.NextDouble();
        return x;
    }

    private static double UlpError(double got, double want)
    {
        if (double.IsNaN(want)) return double.IsNaN(got) ? 0 : double.PositiveInfinity;
        if (double.IsInfinity(want) || want == 0) return got == want ? 0 : Math.Abs(got - want) / double.Epsilon;
        return Math.Abs(got - want) / (Math.BitIncrement(Math.Abs(want)) - Math.Abs(want));
    }

    private static double UlpErrorF(float got, double want)
    {
        if (double.IsNaN(want)) return float.IsNaN(got) ? 0 : double.PositiveInfinity;
        float w = (float)want;
        if (float.IsInfinity(w) || w == 0) return got == w ? 0 : Math.Abs(got - want) / float.Epsilon;
        return Math.Abs(got - want) / (MathF.BitIncrement(Math.Abs(w)) - Math.Abs(w));
    }

    [Fact]
    public void Double_functions_are_within_two_ulp_of_the_runtime_library()
    {
        var cases = new (string Name, Action<double[], double[]> F, Func<double, double> Ref, double[] X)[]
        {
            ("exp", (x, d) => SimdSpan.Exp<double>(x, d), Math.Exp, Inputs(-745, 709.7, 20000, 1).Concat(Inputs(-1, 1, 20000, 2)).ToArray()),
            ("log", (x, d) => SimdSpan.Log<double>(x, d), Math.Log, Inputs(1e-300, 1e300, 5000, 3).Concat(Inputs(0.5, 2, 20000, 4)).Concat(Inputs(0, 1e-310, 100, 5)).ToArray()),
            ("tanh", (x, d) => SimdSpan.Tanh<double>(x, d), Math.Tanh, Inputs(-20, 20, 20000, 6).Concat(Inputs(-0.7, 0.7, 20000, 7)).ToArray()),
        };
        foreach (var (name, f, reference, x) in cases)
        {
            var d = new double[x.Length];
            f(x, d);
            double worst = 0; int at = 0;
            for (int i = 0; i < x.Length; i++) { double e = UlpError(d[i], reference(x[i])); if (e > worst) { worst = e; at = i; } }
            Assert.True(worst <= 2, $"{name}: {worst:G3} ulp at x = {x[at]:R} (got {d[at]:R}, want {reference(x[at]):R})");
        }
    }

    [Fact]
    public void Float_functions_are_within_two_ulp_of_the_double_library()
    {
        var cases = new (string Name, Action<float[], float[]> F, Func<double, double> Ref, float[] X)[]
        {
            ("exp", (x, d) => SimdSpan.Exp<float>(x, d), Math.Exp, Inputs(-103, 88.7, 20000, 1).Concat(Inputs(-1, 1, 20000, 2)).Select(v => (float)v).ToArray()),
            ("log", (x, d) => SimdSpan.Log<float>(x, d), Math.Log, Inputs(1e-37, 1e37, 5000, 3).Concat(Inputs(0.5, 2, 20000, 4)).Concat(Inputs(0, 1e-39, 100, 5)).Select(v => (float)v).ToArray()),
            ("tanh", (x, d) => SimdSpan.Tanh<float>(x, d), Math.Tanh, Inputs(-12, 12, 20000, 6).Concat(Inputs(-0.7, 0.7, 20000, 7)).Select(v => (float)v).ToArray()),
        };
        foreach (var (name, f, reference, x) in cases)
        {
            var d = new float[x.Length];
            f(x, d);
            double worst = 0; int at = 0;
            for (int i = 0; i < x.Length; i++) { double e = UlpErrorF(d[i], reference(x[i])); if (e > worst) { worst = e; at = i; } }
            Assert.True(worst <= 2, $"{name}: {worst:G3} ulp at x = {x[at]:R} (got {d[at]:R}, want {reference(x[at]):R})");
        }
    }

    [Fact]
    public void Special_values_follow_IEEE_conventions()
    {
        double[] x = { 0, -0.0, double.PositiveInfinity, double.NegativeInfinity, double.NaN, -1, 1000, -1000 };
        var e = new double[x.Length]; SimdSpan.Exp<double>(x, e);
        Assert.Equal(new[] { 1, 1, double.PositiveInfinity, 0, double.NaN, Math.Exp(-1), double.PositiveInfinity, 0 }, e);
        var l = new double[x.Length]; SimdSpan.Log<double>(x, l);
        Assert.Equal(new[] { double.NegativeInfinity, double.NegativeInfinity, double.PositiveInfinity, double.NaN, double.NaN, double.NaN, Math.Log(1000), double.NaN }, l);
        var t = new double[x.Length]; SimdSpan.Tanh<double>(x, t);
        Assert.Equal(new[] { 0, -0.0, 1, -1, double.NaN, Math.Tanh(-1), 1, -1 }, t);
        Assert.True(double.IsNegative(t[1]));
    }

    [Fact]
    public void Every_realisation_gives_the_same_bits()
    {
        Same<double>(Inputs(-800, 800, 1024, 11));
        Same<float>(Inputs(-120, 120, 1024, 12).Select(v => (float)v).ToArray());
        Same<double>(Inputs(-1, 1, 1024, 13));
        Same<float>(Inputs(-1, 1, 1024, 14).Select(v => (float)v).ToArray());
    }

    [Fact]
    public void The_span_forms_give_each_elements_scalar_bits_at_every_length()
    {
        // SimdSpan takes whole wide steps, then one register, then scalars: every split of a short span must give the bits
        // of the one-lane function, element for element, in place as well as into another span.
        var x = Inputs(-30, 30, 40, 15);
        for (int n = 0; n <= x.Length; n++)
        {
            var src = x[..n];
            var d = new double[n];
            SimdSpan.Exp<double>(src, d);
            Assert.Equal(src.Select(v => Bits.Of(SimdSpan.Exp(v))), d.Select(Bits.Of));
            var f = src.Select(v => (float)v).ToArray();
            var want = f.Select(v => Bits.Of(SimdSpan.Exp(v))).ToArray();
            SimdSpan.Exp<float>(f, f);
            Assert.Equal(want, f.Select(Bits.Of));
        }
    }

    private static void Same<T>(T[] x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var abs = x.Select(T.Abs).ToArray();
        foreach (var (name, input) in new[] { ("exp", x), ("log", abs), ("tanh", x) })
        {
            var want = Run<Lanes1<T>, T>(name, input);
            Assert.Equal(want, Run<Lanes128<T>, T>(name, input));
            Assert.Equal(want, Run<Lanes256<T>, T>(name, input));
            Assert.Equal(want, Run<Lanes512<T>, T>(name, input));
            Assert.Equal(want, Run<Lanes256x2<T>, T>(name, input));
            Assert.Equal(want, Run<Lanes128x4<T>, T>(name, input));
        }
    }

    /// <summary>The function through realisation TL, as raw bits (so NaN and −0 compare exactly).</summary>
    private static ulong[] Run<TL, T>(string name, T[] x) where TL : struct, ILanes<TL, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        var d = new T[x.Length];
        switch (name)
        {
            case "exp": Elementwise<TL, T>.Map<ExpFunction<T>>(x, d); break;
            case "log": Elementwise<TL, T>.Map<LogFunction<T>>(x, d); break;
            default: Elementwise<TL, T>.Map<TanhFunction<T>>(x, d); break;
        }
        return d.Select(Bits.Of).ToArray();
    }
}

internal static class Bits
{
    public static ulong Of<T>(T v) where T : unmanaged => typeof(T) == typeof(double)
        ? (ulong)BitConverter.DoubleToInt64Bits((double)(object)v) : BitConverter.SingleToUInt32Bits((float)(object)v);
}
