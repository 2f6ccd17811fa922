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

    /// <summary>Lanes of the 64-byte virtual vector the reductions accumulate in: 8 doubles or 16 floats.</summary>
    public static int VirtualLanes<T>() where T : unmanaged, IFloatingPointIeee754<T> => 64 / Unsafe.SizeOf<T>();

    /// <summary>
    /// <see cref="Sum{T}"/> (or, with <paramref name="weighted"/>, <see cref="Dot{T}"/> against a span holding
    /// <paramref name="weight"/> everywhere) of a span of length <paramref name="total"/> given in consecutive pieces:
    /// this piece holds elements [<paramref name="offset"/>, offset + piece.Length). The lanes (<see cref="VirtualLanes{T}"/>
    /// numbers, +0 at first) take exactly the additions the one-call reduction makes on these elements, in the same order,
    /// so <see cref="SumOfLanes{T}"/> after the last piece gives its bits. Every piece but the last starts and ends on a
    /// multiple of the lane count; the last ends at <paramref name="total"/> and, when total ≥ lanes, holds at least the last
    /// lanes elements (the tail chunk reads them again).
    /// </summary>
    public static void AccumulateSum<T>(Span<T> lanes, ReadOnlySpan<T> piece, int offset, int total, T weight, bool weighted)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (Width)
        {
            case SimdWidth.Vector512: Reductions<Lanes512<T>, T>.Accumulate(lanes, piece, offset, total, weight, weighted); break;
            case SimdWidth.Vector256: Reductions<Lanes256x2<T>, T>.Accumulate(lanes, piece, offset, total, weight, weighted); break;
            default: Reductions<Lanes128x4<T>, T>.Accumulate(lanes, piece, offset, total, weight, weighted); break;
        }
    }

    /// <summary>
    /// <see cref="AccumulateSum{T}"/> (weighted) of one piece [offset, offset + len) of several rows at once: row k starts at
    /// x[offsets[k]] (the piece's first element) and has the lanes [k·L, (k + 1)·L) of <paramref name="lanes"/>, L =
    /// <see cref="VirtualLanes{T}"/>. Each row's lanes take exactly the additions AccumulateSum gives them.
    /// </summary>
    public static void AccumulateSums<T>(Span<T> lanes, T[] x, ReadOnlySpan<int> offsets, ReadOnlySpan<T> weights, int offset, int len, int total)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (Width)
        {
            case SimdWidth.Vector512: Reductions<Lanes512<T>, T>.AccumulateMany(lanes, x, offsets, weights, offset, len, total); break;
            case SimdWidth.Vector256: Reductions<Lanes256x2<T>, T>.AccumulateMany(lanes, x, offsets, weights, offset, len, total); break;
            default: Reductions<Lanes128x4<T>, T>.AccumulateMany(lanes, x, offsets, weights, offset, len, total); break;
        }
    }

    /// <summary>
    /// sums[k] = <see cref="Dot{T}"/>(x[offsets[k] …+count], a span holding weights[k] everywhere) for every k, bit for bit;
    /// four rows share each pass, so their additions overlap (each row's own additions keep their order).
    /// </summary>
    public static void WeightedSums<T>(T[] x, ReadOnlySpan<int> offsets, ReadOnlySpan<T> weights, int count, Span<T> sums)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (Width)
        {
            case SimdWidth.Vector512: Reductions<Lanes512<T>, T>.WeightedSums(x, offsets, weights, count, sums); break;
            case SimdWidth.Vector256: Reductions<Lanes256x2<T>, T>.WeightedSums(x, offsets, weights, count, sums); break;
            default: Reductions<Lanes128x4<T>, T>.WeightedSums(x, offsets, weights, count, sums); break;
        }
    }

    /// <summary>The lanes of <see cref="AccumulateSum{T}"/> reduced by the reductions' fixed tree.</summary>
    public static T SumOfLanes<T>(ReadOnlySpan<T> lanes) where T : unmanaged, IFloatingPointIeee754<T> => Width switch
    {
        SimdWidth.Vector512 => Reductions<Lanes512<T>, T>.SumOfLanes(lanes),
        SimdWidth.Vector256 => Reductions<Lanes256x2<T>, T>.SumOfLanes(lanes),
        _ => Reductions<Lanes128x4<T>, T>.SumOfLanes(lanes),
    };

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
            // Two (four) registers per step below 512 bits: their independent polynomial chains overlap (exp over 1 023 doubles
            // on AVX2: 4.8 → 4.0 ns per element); every realisation gives the same bits (LaneMathTests). The reference gradient EM takes its exponentials here too.
            case SimdWidth.Vector256: Wide<Lanes256x2<T>, Lanes256<T>, TF, T>(x, d); break;
            default: Wide<Lanes128x4<T>, Lanes128<T>, TF, T>(x, d); break;
        }
    }

    /// <summary>The whole steps of TW, then the rest by one register of TN and scalars (short spans keep a vector step).</summary>
    private static void Wide<TW, TN, TF, T>(ReadOnlySpan<T> x, Span<T> d) where TW : struct, ILanes<TW, T> where TN : struct, ILanes<TN, T>
        where TF : struct, ILaneFunction<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        int wide = x.Length - x.Length % TW.Count;
        Elementwise<TW, T>.Map<TF>(x[..wide], d);
        Elementwise<TN, T>.Map<TF>(x[wide..], d[wide..]);
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
        // One element: lane 0 holds 0 + x and the others +0, and adding +0 changes nothing after that.
        if (x.Length == 1) return T.Zero + x[0];
        ref T r = ref MemoryMarshal.GetReference(x);
        nint n = x.Length, i = 0;
        var acc = TW.Zero;
        for (; i <= n - TW.Count; i += TW.Count) acc += TW.Load(ref r, i);
        if (i < n) acc += Tail(x, i, T.Zero);
        return TW.Sum(acc);
    }

    public static T Dot(ReadOnlySpan<T> a, ReadOnlySpan<T> b)
    {
        if (a.Length == 1) return T.Zero + a[0] * b[0];   // as Sum of one element
        ref T ar = ref MemoryMarshal.GetReference(a); ref T br = ref MemoryMarshal.GetReference(b);
        nint n = a.Length, i = 0;
        var acc = TW.Zero;
        for (; i <= n - TW.Count; i += TW.Count) acc += TW.Load(ref ar, i) * TW.Load(ref br, i);
        if (i < n) acc += Tail(a, i, T.Zero) * Tail(b, i, T.Zero);
        return TW.Sum(acc);
    }

    /// <summary>See <see cref="SimdSpan.AccumulateSum{T}"/>: Sum's (or Dot's) loop and tail on one piece of the span.</summary>
    public static void Accumulate(Span<T> lanes, ReadOnlySpan<T> piece, nint offset, nint total, T weight, bool weighted)
    {
        if (lanes.Length != TW.Count) throw new ArgumentException($"expected {TW.Count} lanes");
        if (piece.IsEmpty) return;
        ref T r = ref MemoryMarshal.GetReference(piece);
        nint len = piece.Length, i = 0;
        var acc = TW.Load(ref MemoryMarshal.GetReference(lanes), 0);
        var w = TW.Broadcast(weight);
        for (; offset + i <= total - TW.Count && i + TW.Count <= len; i += TW.Count)
            acc += weighted ? TW.Load(ref r, i) * w : TW.Load(ref r, i);
        acc = AccumulateTail(acc, piece, offset, total, i, weight, weighted);
        TW.Store(acc, ref MemoryMarshal.GetReference(lanes), 0);
    }

    /// <summary>
    /// See <see cref="SimdSpan.AccumulateSums{T}"/>: <see cref="Accumulate"/> (weighted) for several rows of x, piece
    /// [offset, offset + len) of each, four rows at a time so that their additions overlap.
    /// </summary>
    public static void AccumulateMany(Span<T> lanes, T[] x, ReadOnlySpan<int> offsets, ReadOnlySpan<T> weights, nint offset, nint len, nint total)
    {
        int L = TW.Count, k = 0;
        if (lanes.Length < offsets.Length * L) throw new ArgumentException($"expected {L} lanes per row");
        if (len == 0) return;
        ref T l0 = ref MemoryMarshal.GetReference(lanes);
        for (; k + 4 <= offsets.Length; k += 4)
        {
            ref T r0 = ref x[offsets[k]]; ref T r1 = ref x[offsets[k + 1]]; ref T r2 = ref x[offsets[k + 2]]; ref T r3 = ref x[offsets[k + 3]];
            if (offsets[k + 3] + len > x.Length || offsets[k] + len > x.Length || offsets[k + 1] + len > x.Length || offsets[k + 2] + len > x.Length)
                throw new ArgumentOutOfRangeException(nameof(offsets));
            TW w0 = TW.Broadcast(weights[k]), w1 = TW.Broadcast(weights[k + 1]), w2 = TW.Broadcast(weights[k + 2]), w3 = TW.Broadcast(weights[k + 3]);
            TW a0 = TW.Load(ref l0, k * L), a1 = TW.Load(ref l0, (k + 1) * L), a2 = TW.Load(ref l0, (k + 2) * L), a3 = TW.Load(ref l0, (k + 3) * L);
            nint i = 0;
            for (; offset + i <= total - L && i + L <= len; i += L)
            {
                a0 += TW.Load(ref r0, i) * w0; a1 += TW.Load(ref r1, i) * w1;
                a2 += TW.Load(ref r2, i) * w2; a3 += TW.Load(ref r3, i) * w3;
            }
            a0 = AccumulateTail(a0, x.AsSpan(offsets[k], (int)len), offset, total, i, weights[k], true);
            a1 = AccumulateTail(a1, x.AsSpan(offsets[k + 1], (int)len), offset, total, i, weights[k + 1], true);
            a2 = AccumulateTail(a2, x.AsSpan(offsets[k + 2], (int)len), offset, total, i, weights[k + 2], true);
            a3 = AccumulateTail(a3, x.AsSpan(offsets[k + 3], (int)len), offset, total, i, weights[k + 3], true);
            TW.Store(a0, ref l0, k * L); TW.Store(a1, ref l0, (k + 1) * L); TW.Store(a2, ref l0, (k + 2) * L); TW.Store(a3, ref l0, (k + 3) * L);
        }
        for (; k < offsets.Length; k++) Accumulate(lanes.Slice(k * L, L), x.AsSpan(offsets[k], (int)len), offset, total, weights[k], weighted: true);
    }

    /// <summary>Accumulate's tail: after the piece's whole chunks (up to i), the tail chunk when this piece is the last.</summary>
    private static TW AccumulateTail(TW acc, ReadOnlySpan<T> piece, nint offset, nint total, nint i, T weight, bool weighted)
    {
        nint len = piece.Length;
        ref T r = ref MemoryMarshal.GetReference(piece);
        var w = TW.Broadcast(weight);
        if (offset + len == total && offset + i < total)
        {
            // The tail: Tail(x, from, 0) (times Tail(w…, from, 0)), read from this piece.
            nint start = total - TW.Count;
            TW x, m;
            if (start < 0)
            {
                x = Padded(piece[(int)i..], T.Zero);
                Span<T> ws = stackalloc T[(int)(len - i)];
                ws.Fill(weight);
                m = Padded(ws, T.Zero);
            }
            else
            {
                if (start < offset) throw new ArgumentException("the last piece is shorter than the tail chunk");
                var fresh = TW.LessThanOrEqual(TW.Broadcast(T.CreateTruncating(offset + i - start)), TW.Load(ref Indices[0], 0));
                x = TW.Select(fresh, TW.Load(ref r, start - offset), TW.Broadcast(T.Zero));
                m = TW.Select(fresh, w, TW.Broadcast(T.Zero));
            }
            acc += weighted ? x * m : x;
        }
        return acc;
    }

    public static T SumOfLanes(ReadOnlySpan<T> lanes) => TW.Sum(TW.Load(ref MemoryMarshal.GetReference(lanes), 0));

    /// <summary>See <see cref="SimdSpan.WeightedSums{T}"/>: Dot's loop and tail for four rows at a time.</summary>
    public static void WeightedSums(T[] x, ReadOnlySpan<int> offsets, ReadOnlySpan<T> weights, int n, Span<T> sums)
    {
        int k = 0;
        if (n < TW.Count) { ShortWeightedSums(x, offsets, weights, n, sums); return; }
        if (n >= TW.Count)
            for (; k + 4 <= offsets.Length; k += 4)
            {
                ref T r0 = ref x[offsets[k]]; ref T r1 = ref x[offsets[k + 1]]; ref T r2 = ref x[offsets[k + 2]]; ref T r3 = ref x[offsets[k + 3]];
                TW w0 = TW.Broadcast(weights[k]), w1 = TW.Broadcast(weights[k + 1]), w2 = TW.Broadcast(weights[k + 2]), w3 = TW.Broadcast(weights[k + 3]);
                TW a0 = TW.Zero, a1 = TW.Zero, a2 = TW.Zero, a3 = TW.Zero;
                nint i = 0;
                for (; i <= n - TW.Count; i += TW.Count)
                {
                    a0 += TW.Load(ref r0, i) * w0; a1 += TW.Load(ref r1, i) * w1;
                    a2 += TW.Load(ref r2, i) * w2; a3 += TW.Load(ref r3, i) * w3;
                }
                if (i < n)
                {
                    // Tail(a, i, 0) * Tail(w…, i, 0): the last L elements, fresh lanes only.
                    nint start = n - TW.Count;
                    var fresh = TW.LessThanOrEqual(TW.Broadcast(T.CreateTruncating(i - start)), TW.Load(ref Indices[0], 0));
                    var zero = TW.Broadcast(T.Zero);
                    a0 += TW.Select(fresh, TW.Load(ref r0, start), zero) * TW.Select(fresh, w0, zero);
                    a1 += TW.Select(fresh, TW.Load(ref r1, start), zero) * TW.Select(fresh, w1, zero);
                    a2 += TW.Select(fresh, TW.Load(ref r2, start), zero) * TW.Select(fresh, w2, zero);
                    a3 += TW.Select(fresh, TW.Load(ref r3, start), zero) * TW.Select(fresh, w3, zero);
                }
                sums[k] = TW.Sum(a0); sums[k + 1] = TW.Sum(a1); sums[k + 2] = TW.Sum(a2); sums[k + 3] = TW.Sum(a3);
            }
        Span<T> lanes = stackalloc T[TW.Count];
        for (; k < offsets.Length; k++)
        {
            lanes.Clear();
            Accumulate(lanes, x.AsSpan(offsets[k], n), 0, n, weights[k], weighted: true);
            sums[k] = SumOfLanes(lanes);
        }
    }

    /// <summary>
    /// <see cref="WeightedSums"/> of rows shorter than L: Dot's tail chunk is the whole row, so lane j holds
    /// +0 + x_j·w for j &lt; n and +0 + 0·0 = +0 after it, reduced by the same tree (one element: +0 + x·w, as Dot).
    /// Built in one buffer instead of two padded vectors per row.
    /// </summary>
    private static void ShortWeightedSums(T[] x, ReadOnlySpan<int> offsets, ReadOnlySpan<T> weights, int n, Span<T> sums)
    {
        Span<T> chunk = stackalloc T[TW.Count];
        chunk.Clear();                                   // lanes n … L − 1 stay +0
        for (int k = 0; k < offsets.Length; k++)
        {
            var row = x.AsSpan(offsets[k], n);
            T w = weights[k];
            if (n == 1) { sums[k] = T.Zero + row[0] * w; continue; }
            for (int j = 0; j < row.Length; j++) chunk[j] = T.Zero + row[j] * w;
            sums[k] = TW.Sum(TW.Load(ref MemoryMarshal.GetReference(chunk), 0));
        }
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
