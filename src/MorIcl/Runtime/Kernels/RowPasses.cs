using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MorIcl.Numerics.Simd;

namespace MorIcl.Runtime.Kernels;

/// <summary>
/// Fused per-row passes of the fast executor's attention, on every SIMD width: each pass is written
/// once over a 64-byte virtual vector (<see cref="IWideLanes{TSelf, T}"/>: one Vector512, two Vector256
/// or four Vector128 registers), so the sums are bit-identical on every width (key j in lane j mod L,
/// one fixed final tree) and maxima are exact anyway. Masks are rows of T whose elements have all bits
/// set (selected) or are zero; rows have the padded length. Maxima follow IEEE 754 maximum (NaN
/// propagates, +0 &gt; −0).
/// </summary>
internal static class RowPasses<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A selected mask element (all bits set).</summary>
    public static T AllBits { get; } = LaneBits.AllBits<T>();

    /// <summary>max(acc, s_j) over the selected j.</summary>
    public static T MaxMasked(ReadOnlySpan<T> s, ReadOnlySpan<T> mask, T acc) => SimdSpan.Width switch
    {
        SimdWidth.Vector512 => RowPassKernels<Lanes512<T>, T>.MaxMasked(s, mask, acc),
        SimdWidth.Vector256 => RowPassKernels<Lanes256x2<T>, T>.MaxMasked(s, mask, acc),
        _ => RowPassKernels<Lanes128x4<T>, T>.MaxMasked(s, mask, acc),
    };

    /// <summary>
    /// One pass over a full tile of four ReLU score rows s[r·ld …] (queries i0 … i0 + 3, i0 a multiple of 4)
    /// of the same query role: the positive scores of each row (those &gt; 0 or NaN, keys j &lt; n,
    /// ascending) and, when <paramref name="mask"/> is not empty, worst = max(worst, s_rj) over the
    /// masked keys, except each row's own key i0 + r when <paramref name="self"/>. Per row, counts[r] is
    /// the number of positives, or limit + 1 once there are more; the first ones (up to limit) go to
    /// idx[r·ld …]. <paramref name="chunks"/> is scratch (length ≥ ld / L).
    /// </summary>
    public static void ReluTile(ReadOnlySpan<T> s, int ld, int n, ReadOnlySpan<T> mask, bool self, int i0,
        ref T worst, int limit, Span<int> counts, Span<int> idx, Span<int> chunks)
    {
        switch (SimdSpan.Width)
        {
            case SimdWidth.Vector512: RowPassKernels<Lanes512<T>, T>.ReluTile(s, ld, n, mask, self, i0, ref worst, limit, counts, idx, chunks); break;
            case SimdWidth.Vector256: RowPassKernels<Lanes256x2<T>, T>.ReluTile(s, ld, n, mask, self, i0, ref worst, limit, counts, idx, chunks); break;
            default: RowPassKernels<Lanes128x4<T>, T>.ReluTile(s, ld, n, mask, self, i0, ref worst, limit, counts, idx, chunks); break;
        }
    }

    /// <summary>(max over "in", max over "out"), −∞ when a set is empty.</summary>
    public static (T In, T Out) MaxInOut(ReadOnlySpan<T> s, ReadOnlySpan<T> inMask, ReadOnlySpan<T> outMask) => SimdSpan.Width switch
    {
        SimdWidth.Vector512 => RowPassKernels<Lanes512<T>, T>.MaxInOut(s, inMask, outMask),
        SimdWidth.Vector256 => RowPassKernels<Lanes256x2<T>, T>.MaxInOut(s, inMask, outMask),
        _ => RowPassKernels<Lanes128x4<T>, T>.MaxInOut(s, inMask, outMask),
    };

    /// <summary>
    /// s_j ← exp(s_j − max) on the keys in either mask, 0 elsewhere (padding); returns (Σ_j s_j, Σ over
    /// "out" of s_j), each summed in lane j mod L and then by the fixed tree. exp is
    /// <see cref="LaneMath{TL, T}.Exp"/> (the same bits on every width).
    /// </summary>
    public static (T Sum, T OutSum) ExpRow(Span<T> s, T max, ReadOnlySpan<T> inMask, ReadOnlySpan<T> outMask) => SimdSpan.Width switch
    {
        SimdWidth.Vector512 => RowPassKernels<Lanes512<T>, T>.ExpRow(s, max, inMask, outMask),
        SimdWidth.Vector256 => RowPassKernels<Lanes256x2<T>, T>.ExpRow(s, max, inMask, outMask),
        _ => RowPassKernels<Lanes128x4<T>, T>.ExpRow(s, max, inMask, outMask),
    };
}

/// <summary>The passes of <see cref="RowPasses{T}"/> for one virtual vector type TW.</summary>
internal static class RowPassKernels<TW, T> where TW : struct, IWideLanes<TW, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static TW NegativeInfinity => TW.Broadcast(T.NegativeInfinity);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static T MaxMasked(ReadOnlySpan<T> s, ReadOnlySpan<T> mask, T acc)
    {
        int n = s.Length;
        if (mask.Length < n || n % TW.Count != 0) throw new ArgumentException("row lengths differ");
        ref T sr = ref MemoryMarshal.GetReference(s); ref T mr = ref MemoryMarshal.GetReference(mask);
        var ninf = NegativeInfinity;
        var a = TW.Broadcast(acc);
        for (nint j = 0; j < n; j += TW.Count) a = TW.Max(a, TW.Select(TW.Load(ref mr, j), TW.Load(ref sr, j), ninf));
        return TW.MaxAcross(a);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ReluTile(ReadOnlySpan<T> s, int ld, int n, ReadOnlySpan<T> mask, bool self, int i0,
        ref T worst, int limit, Span<int> counts, Span<int> idx, Span<int> chunks)
    {
        int L = TW.Count;
        if (ld % L != 0 || s.Length < 4 * ld || n > ld || counts.Length < 4 || idx.Length < 4 * ld || (mask.Length != 0 && mask.Length < ld)
            || i0 < 0 || i0 % 4 != 0 || i0 + 3 >= ld || chunks.Length < ld / L)
            throw new ArgumentException("tile shapes are inconsistent");
        ref T s0 = ref MemoryMarshal.GetReference(s);
        ref T s1 = ref Unsafe.Add(ref s0, ld); ref T s2 = ref Unsafe.Add(ref s0, 2 * ld); ref T s3 = ref Unsafe.Add(ref s0, 3 * ld);
        ref int cr = ref MemoryMarshal.GetReference(chunks);
        var zero = TW.Zero;
        var ninf = NegativeInfinity;
        int found = 0, nc = ld / L;
        if (mask.Length != 0)
        {
            ref T mr = ref MemoryMarshal.GetReference(mask);
            // Own-key exclusions: the four rows' keys i0 … i0 + 3 lie in one chunk (L is a multiple of 4).
            int selfChunk = self ? i0 / L : -1, first = i0 % L;
            TW x0 = ~TW.Zero, x1 = x0, x2 = x0, x3 = x0;
            if (self) { x0 = ~Lane(first); x1 = ~Lane(first + 1); x2 = ~Lane(first + 2); x3 = ~Lane(first + 3); }
            TW w0 = ninf, w1 = ninf, w2 = ninf, w3 = ninf;
            for (int c = 0; c < nc; c++)
            {
                nint j = c * L;
                var v0 = TW.Load(ref s0, j); var v1 = TW.Load(ref s1, j); var v2 = TW.Load(ref s2, j); var v3 = TW.Load(ref s3, j);
                var any = ~TW.LessThanOrEqual(v0, zero) | ~TW.LessThanOrEqual(v1, zero) | ~TW.LessThanOrEqual(v2, zero) | ~TW.LessThanOrEqual(v3, zero);
                if (TW.Any(any)) Unsafe.Add(ref cr, found++) = c;
                var m = TW.Load(ref mr, j);
                if (c == selfChunk)
                {
                    w0 = TW.Max(w0, TW.Select(m & x0, v0, ninf)); w1 = TW.Max(w1, TW.Select(m & x1, v1, ninf));
                    w2 = TW.Max(w2, TW.Select(m & x2, v2, ninf)); w3 = TW.Max(w3, TW.Select(m & x3, v3, ninf));
                }
                else
                {
                    w0 = TW.Max(w0, TW.Select(m, v0, ninf)); w1 = TW.Max(w1, TW.Select(m, v1, ninf));
                    w2 = TW.Max(w2, TW.Select(m, v2, ninf)); w3 = TW.Max(w3, TW.Select(m, v3, ninf));
                }
            }
            worst = T.Max(worst, TW.MaxAcross(TW.Max(TW.Max(w0, w1), TW.Max(w2, w3))));
        }
        else
        {
            for (int c = 0; c < nc; c++)
            {
                nint j = c * L;
                var any = ~TW.LessThanOrEqual(TW.Load(ref s0, j), zero) | ~TW.LessThanOrEqual(TW.Load(ref s1, j), zero)
                        | ~TW.LessThanOrEqual(TW.Load(ref s2, j), zero) | ~TW.LessThanOrEqual(TW.Load(ref s3, j), zero);
                if (TW.Any(any)) Unsafe.Add(ref cr, found++) = c;
            }
        }
        counts[0] = counts[1] = counts[2] = counts[3] = 0;
        for (int f = 0; f < found; f++)
        {
            int j = chunks[f] * L;
            for (int r = 0; r < 4; r++)
            {
                ulong bits = TW.MaskBits(~TW.LessThanOrEqual(TW.Load(ref Unsafe.Add(ref s0, r * ld), j), zero));
                for (; bits != 0; bits &= bits - 1)
                {
                    int k = j + BitOperations.TrailingZeroCount(bits);
                    if (k >= n || counts[r] > limit) break;
                    if (counts[r] < limit) idx[r * ld + counts[r]] = k;
                    counts[r]++;
                }
            }
        }
    }

    /// <summary>All bits set in lane k.</summary>
    private static TW Lane(int k)
    {
        Span<T> lanes = stackalloc T[TW.Count];
        lanes.Clear();
        lanes[k] = RowPasses<T>.AllBits;
        return TW.Load(ref MemoryMarshal.GetReference(lanes), 0);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static (T In, T Out) MaxInOut(ReadOnlySpan<T> s, ReadOnlySpan<T> inMask, ReadOnlySpan<T> outMask)
    {
        int n = s.Length;
        if (inMask.Length < n || outMask.Length < n || n % TW.Count != 0) throw new ArgumentException("row lengths differ");
        ref T sr = ref MemoryMarshal.GetReference(s);
        ref T ir = ref MemoryMarshal.GetReference(inMask); ref T or = ref MemoryMarshal.GetReference(outMask);
        var ninf = NegativeInfinity;
        TW vin = ninf, vout = ninf;
        for (nint j = 0; j < n; j += TW.Count)
        {
            var v = TW.Load(ref sr, j);
            vin = TW.Max(vin, TW.Select(TW.Load(ref ir, j), v, ninf));
            vout = TW.Max(vout, TW.Select(TW.Load(ref or, j), v, ninf));
        }
        return (TW.MaxAcross(vin), TW.MaxAcross(vout));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static (T Sum, T OutSum) ExpRow(Span<T> s, T max, ReadOnlySpan<T> inMask, ReadOnlySpan<T> outMask)
    {
        int n = s.Length;
        if (inMask.Length < n || outMask.Length < n || n % TW.Count != 0) throw new ArgumentException("row lengths differ");
        ref T sr = ref MemoryMarshal.GetReference(s);
        ref T ir = ref MemoryMarshal.GetReference(inMask); ref T or = ref MemoryMarshal.GetReference(outMask);
        var mv = TW.Broadcast(max);
        TW sum = TW.Zero, outSum = TW.Zero;
        for (nint j = 0; j < n; j += TW.Count)
        {
            var o = TW.Load(ref or, j);
            var e = LaneMath<TW, T>.Exp(TW.Load(ref sr, j) - mv) & (TW.Load(ref ir, j) | o);
            TW.Store(e, ref sr, j);
            sum += e;
            outSum += e & o;
        }
        return (TW.Sum(sum), TW.Sum(outSum));
    }
}
