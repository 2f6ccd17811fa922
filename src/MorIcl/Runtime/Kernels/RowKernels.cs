using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MorIcl.Numerics.Simd;

namespace MorIcl.Runtime.Kernels;

/// <summary>
/// Element-wise helpers over feature-major rows that TensorPrimitives does not provide (lengths are
/// multiples of the token padding, except where stated): d + w·x with the product and the sum rounded
/// separately (never fused), the residual commit with a finiteness check, and the positive-score scan.
/// Each is one loop generic over the register (<see cref="ILanes{TSelf, T}"/>, the widest the runtime
/// accelerates) with a scalar tail doing the same operations, so results do not depend on the width.
/// Scaling, constant adds and ReLU (IEEE maximum with 0, NaN kept) are TensorPrimitives.Multiply, Add and Max.
/// </summary>
internal static class RowKernels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Whether every element is finite (an exact test, element by element).</summary>
    public static bool AllFinite(ReadOnlySpan<T> x)
    {
        foreach (var e in x) if (!T.IsFinite(e)) return false;
        return true;
    }

    /// <summary>d = d + w·x (product rounded, then sum rounded).</summary>
    public static void AddScaled(Span<T> d, ReadOnlySpan<T> x, T w)
    {
        if (x.Length < d.Length) throw new ArgumentException("row lengths differ");
        ref T dr = ref MemoryMarshal.GetReference(d); ref T xr = ref MemoryMarshal.GetReference(x);
        nint j = SimdSpan.Width switch
        {
            SimdWidth.Vector512 => AddScaled<Lanes512<T>>(ref dr, ref xr, w, 0, d.Length),
            SimdWidth.Vector256 => AddScaled<Lanes256<T>>(ref dr, ref xr, w, 0, d.Length),
            _ => AddScaled<Lanes128<T>>(ref dr, ref xr, w, 0, d.Length),
        };
        AddScaled<Lanes1<T>>(ref dr, ref xr, w, j, d.Length);
    }

    private static nint AddScaled<TL>(ref T d, ref T x, T w, nint j, nint n) where TL : struct, ILanes<TL, T>
    {
        var wv = TL.Broadcast(w);
        for (; j <= n - TL.Count; j += TL.Count) TL.Store(TL.Load(ref d, j) + wv * TL.Load(ref x, j), ref d, j);
        return j;
    }

    /// <summary>h = h + d and d = 0 over the whole row; returns false when some h is not finite.</summary>
    public static bool AddAndClear(Span<T> h, Span<T> d)
    {
        if (d.Length < h.Length) throw new ArgumentException("row lengths differ");
        ref T hr = ref MemoryMarshal.GetReference(h); ref T dr = ref MemoryMarshal.GetReference(d);
        bool finite = true;
        nint j = SimdSpan.Width switch
        {
            SimdWidth.Vector512 => AddAndClear<Lanes512<T>>(ref hr, ref dr, 0, h.Length, ref finite),
            SimdWidth.Vector256 => AddAndClear<Lanes256<T>>(ref hr, ref dr, 0, h.Length, ref finite),
            _ => AddAndClear<Lanes128<T>>(ref hr, ref dr, 0, h.Length, ref finite),
        };
        AddAndClear<Lanes1<T>>(ref hr, ref dr, j, h.Length, ref finite);
        return finite;
    }

    private static nint AddAndClear<TL>(ref T h, ref T d, nint j, nint n, ref bool finite) where TL : struct, ILanes<TL, T>
    {
        var acc = TL.Zero;
        for (; j <= n - TL.Count; j += TL.Count)
        {
            var v = TL.Load(ref h, j) + TL.Load(ref d, j);
            TL.Store(v, ref h, j);
            TL.Store(TL.Zero, ref d, j);
            acc += v - v;                // 0 for finite v, NaN for ±∞ and NaN
        }
        finite &= !TL.Any(~TL.Equal(acc, TL.Zero));
        return j;
    }

    /// <summary>
    /// Indices j &lt; s.Length with s[j] &gt; 0 or NaN, ascending, written to idx while at most
    /// <paramref name="limit"/>; returns their number, or limit + 1 as soon as there are more.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int ScanPositive(ReadOnlySpan<T> s, int limit, Span<int> idx)
    {
        ref T sr = ref MemoryMarshal.GetReference(s);
        int count = 0;
        nint j = SimdSpan.Width switch
        {
            SimdWidth.Vector512 => ScanPositive<Lanes512<T>>(ref sr, 0, s.Length, limit, idx, ref count),
            SimdWidth.Vector256 => ScanPositive<Lanes256<T>>(ref sr, 0, s.Length, limit, idx, ref count),
            _ => ScanPositive<Lanes128<T>>(ref sr, 0, s.Length, limit, idx, ref count),
        };
        if (j >= 0) j = ScanPositive<Lanes1<T>>(ref sr, j, s.Length, limit, idx, ref count);
        return j < 0 ? limit + 1 : count;
    }

    /// <summary>Returns the first index not scanned, or −1 once more than limit were found.</summary>
    private static nint ScanPositive<TL>(ref T s, nint j, nint n, int limit, Span<int> idx, ref int count) where TL : struct, ILanes<TL, T>
    {
        for (; j <= n - TL.Count; j += TL.Count)
        {
            ulong bits = TL.MaskBits(~TL.LessThanOrEqual(TL.Load(ref s, j), TL.Zero));
            for (; bits != 0; bits &= bits - 1)
            {
                if (count >= limit) return -1;
                idx[count++] = (int)j + BitOperations.TrailingZeroCount(bits);
            }
        }
        return j;
    }
}
