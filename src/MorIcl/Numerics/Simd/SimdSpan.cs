using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MorIcl.Numerics.Simd;

/// <summary>The register width the kernels run on: the widest the runtime accelerates.</summary>
public enum SimdWidth { Vector128 = 128, Vector256 = 256, Vector512 = 512 }

/// <summary>
/// Span reductions and functions whose results are bit-identical on every SIMD width (the one place
/// for them; TensorPrimitives' Sum, Dot, Max, Exp, Log and Tanh are not, and are not used elsewhere).
/// Reductions add element i into lane i mod L of a 64-byte virtual vector (L = 8 doubles or 16 floats,
/// realised by one 512-bit, two 256-bit or four 128-bit registers), then reduce the lanes by one fixed
/// tree. The r = n mod L elements after the last whole chunk are added as one more chunk: the last L
/// elements read again with the first L − r lanes set to the neutral element (0, or −∞ for Max), or,
/// when n &lt; L, the elements padded with it. exp, log and tanh are <see cref="LaneMath{TL, T}"/>.
/// Element-wise TensorPrimitives calls (Add, Multiply, Subtract, Divide, element-wise Max, MultiplyAdd,
/// which rounds the product and the sum separately) are width-independent and stay as they are.
/// </summary>
public static class SimdSpan
{
    /// <summary>The width this process runs on (Vector512, else Vector256, else Vector128 — ARM64's NEON).</summary>
    public static SimdWidth Width { get; } =
        Vector512.IsHardwareAccelerated ? SimdWidth.Vector512 : Vector256.IsHardwareAccelerated ? SimdWidth.Vector256 : SimdWidth.Vector128;

    /// <summary>Σ x_i in the fixed virtual-lane order (0 for an empty span).</summary>
    public static T Sum<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T> => Width switch
    {
        SimdWidth.Vector512 => Reductions<Lanes512<T>, T>.Sum(x),
        SimdWidth.Vector256 => Reductions<Lanes256x2<T>, T>.Sum(x),
        _ => Reductions<Lanes128x4<T>, T>.Sum(x),
    };

    /// <summary>Σ a_i b_i (each product rounded, then added) in the fixed virtual-lane order.</summary>
    public static T Dot<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.Length != b.Length) throw new ArgumentException("spans differ in length");
        return Width switch
        {
            SimdWidth.Vector512 => Reductions<Lanes512<T>, T>.Dot(a, b),
            SimdWidth.Vector256 => Reductions<Lanes256x2<T>, T>.Dot(a, b),
            _ => Reductions<Lanes128x4<T>, T>.Dot(a, b),
        };
    }

    /// <summary>max x_i (IEEE maximum: NaN propagates, +0 &gt; −0); −∞ for an empty span.</summary>
    public static T Max<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T> => Width switch
    {
        SimdWidth.Vector512 => Reductions<Lanes512<T>, T>.Max(x),
        SimdWidth.Vector256 => Reductions<Lanes256x2<T>, T>.Max(x),
        _ => Reductions<Lanes128x4<T>, T>.Max(x),
    };

    /// <summary>d_i = e^{x_i} (d may be x).</summary>
    public static void Exp<T>(ReadOnlySpan<T> x, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T> => Map<ExpFunction<T>, T>(x, d);

    /// <summary>d_i = log x_i (d may be x).</summary>
    public static void Log<T>(ReadOnlySpan<T> x, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T> => Map<LogFunction<T>, T>(x, d);

    /// <summary>d_i = tanh x_i (d may be x).</summary>
    public static void Tanh<T>(ReadOnlySpan<T> x, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T> => Map<TanhFunction<T>, T>(x, d);

    /// <summary>e^x of one value, the same bits as the span form.</summary>
    public static T Exp<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> => LaneMath<Lanes1<T>, T>.Exp(new(x)).V;

    private static void Map<TF, T>(ReadOnlySpan<T> x, Span<T> d) where TF : struct, ILaneFunction<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (d.Length < x.Length) throw new ArgumentException("destination shorter than the source");
        switch (Width)
        {
            case SimdWidth.Vector512: Elementwise<Lanes512<T>, T>.Map<TF>(x, d); break;
            case SimdWidth.Vector256: Elementwise<Lanes256<T>, T>.Map<TF>(x, d); break;
            default: Elementwise<Lanes128<T>, T>.Map<TF>(x, d); break;
        }
    }
}

/// <summary>A function applied lane by lane (the same code for every realisation).</summary>
internal interface ILaneFunction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static abstract TL Apply<TL>(TL x) where TL : struct, ILanes<TL, T>;
}

internal readonly struct ExpFunction<T> : ILaneFunction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TL Apply<TL>(TL x) where TL : struct, ILanes<TL, T> => LaneMath<TL, T>.Exp(x);
}

internal readonly struct LogFunction<T> : ILaneFunction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TL Apply<TL>(TL x) where TL : struct, ILanes<TL, T> => LaneMath<TL, T>.Log(x);
}

internal readonly struct TanhFunction<T> : ILaneFunction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TL Apply<TL>(TL x) where TL : struct, ILanes<TL, T> => LaneMath<TL, T>.Tanh(x);
}

/// <summary>Element-wise kernels: whole registers, then the tail one scalar lane at a time (same operations).</summary>
internal static class Elementwise<TL, T> where TL : struct, ILanes<TL, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Map<TF>(ReadOnlySpan<T> x, Span<T> d) where TF : struct, ILaneFunction<T>
    {
        ref T xr = ref MemoryMarshal.GetReference(x); ref T dr = ref MemoryMarshal.GetReference(d);
        nint n = x.Length, i = 0;
        for (; i <= n - TL.Count; i += TL.Count) TL.Store(TF.Apply(TL.Load(ref xr, i)), ref dr, i);
        for (; i < n; i++) Lanes1<T>.Store(TF.Apply(Lanes1<T>.Load(ref xr, i)), ref dr, i);
    }
}

/// <summary>Reductions over a 64-byte virtual vector TW (element i in lane i mod TW.Count; the tail as described on <see cref="SimdSpan"/>).</summary>
internal static class Reductions<TW, T> where TW : struct, IWideLanes<TW, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>0, 1, …, L − 1.</summary>
    private static readonly T[] Indices = Enumerable.Range(0, TW.Count).Select(i => T.CreateTruncating(i)).ToArray();

    public static T Sum(ReadOnlySpan<T> x)
    {
        ref T r = ref MemoryMarshal.GetReference(x);
        nint n = x.Length, i = 0;
        var acc = TW.Zero;
        for (; i <= n - TW.Count; i += TW.Count) acc += TW.Load(ref r, i);
        if (i < n) acc += Tail(x, i, T.Zero);
        return TW.Sum(acc);
    }

    public static T Dot(ReadOnlySpan<T> a, ReadOnlySpan<T> b)
    {
        ref T ar = ref MemoryMarshal.GetReference(a); ref T br = ref MemoryMarshal.GetReference(b);
        nint n = a.Length, i = 0;
        var acc = TW.Zero;
        for (; i <= n - TW.Count; i += TW.Count) acc += TW.Load(ref ar, i) * TW.Load(ref br, i);
        if (i < n) acc += Tail(a, i, T.Zero) * Tail(b, i, T.Zero);
        return TW.Sum(acc);
    }

    public static T Max(ReadOnlySpan<T> x)
    {
        ref T r = ref MemoryMarshal.GetReference(x);
        nint n = x.Length, i = 0;
        var acc = TW.Broadcast(T.NegativeInfinity);
        for (; i <= n - TW.Count; i += TW.Count) acc = TW.Max(acc, TW.Load(ref r, i));
        if (i < n) acc = TW.Max(acc, Tail(x, i, T.NegativeInfinity));
        return TW.MaxAcross(acc);
    }

    /// <summary>
    /// The elements [from, n) (fewer than L) as one chunk: the last L elements with the lanes before
    /// <paramref name="from"/> set to <paramref name="neutral"/>, or the elements padded with it when n &lt; L.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TW Tail(ReadOnlySpan<T> x, nint from, T neutral)
    {
        nint n = x.Length, start = n - TW.Count;
        if (start < 0) return Padded(x[(int)from..], neutral);
        var fresh = TW.LessThanOrEqual(TW.Broadcast(T.CreateTruncating(from - start)), TW.Load(ref Indices[0], 0));
        return TW.Select(fresh, TW.Load(ref MemoryMarshal.GetReference(x), start), TW.Broadcast(neutral));
    }

    /// <summary>A span shorter than L as a whole virtual vector, filled up with <paramref name="fill"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static TW Padded(ReadOnlySpan<T> rest, T fill)
    {
        Span<T> buffer = stackalloc T[TW.Count];
        buffer.Fill(fill);
        rest.CopyTo(buffer);
        return TW.Load(ref MemoryMarshal.GetReference(buffer), 0);
    }
}
