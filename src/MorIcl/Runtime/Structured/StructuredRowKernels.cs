using System.Numerics;
using System.Runtime.InteropServices;
using MorIcl.Numerics.Simd;

namespace MorIcl.Runtime.Structured;

/// <summary>
/// Element-wise passes of the structured kernels that would otherwise take two or three TensorPrimitives
/// passes over a row, with the same roundings in the same order (each product, quotient and sum rounded
/// separately, never fused): one loop generic over the register (<see cref="ILanes{TSelf, T}"/>) and a
/// scalar tail doing the same operations, so the results do not depend on the width. Maxima of
/// magnitudes are exact.
/// </summary>
internal static class StructuredRowKernels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// score_i = score_i + x_i·c (product rounded, then sum) and the largest |x_i| (NaN when some x_i is NaN):
    /// a content dimension of a formed score and the maximum its bound needs, in one pass.
    /// </summary>
    public static double AddScaledTrackingMax(Span<T> score, ReadOnlySpan<T> x, T c)
    {
        if (x.Length < score.Length) throw new ArgumentException("row lengths differ");
        ref T sr = ref MemoryMarshal.GetReference(score); ref T xr = ref MemoryMarshal.GetReference(x);
        T max = T.Zero;
        nint j = SimdSpan.Width switch
        {
            SimdWidth.Vector512 => AddScaledTrackingMax<Lanes512<T>>(ref sr, ref xr, c, 0, score.Length, ref max),
            SimdWidth.Vector256 => AddScaledTrackingMax<Lanes256<T>>(ref sr, ref xr, c, 0, score.Length, ref max),
            _ => AddScaledTrackingMax<Lanes128<T>>(ref sr, ref xr, c, 0, score.Length, ref max),
        };
        AddScaledTrackingMax<Lanes1<T>>(ref sr, ref xr, c, j, score.Length, ref max);
        return double.CreateChecked(max);
    }

    private static nint AddScaledTrackingMax<TL>(ref T s, ref T x, T c, nint j, nint n, ref T max) where TL : struct, ILanes<TL, T>
    {
        var cv = TL.Broadcast(c);
        var m = TL.Broadcast(max);
        for (; j <= n - TL.Count; j += TL.Count)
        {
            var xv = TL.Load(ref x, j);
            m = TL.Max(m, TL.Abs(xv));
            TL.Store(TL.Load(ref s, j) + xv * cv, ref s, j);
        }
        Span<T> lanes = stackalloc T[TL.Count];
        TL.Store(m, ref MemoryMarshal.GetReference(lanes), 0);
        foreach (var v in lanes) max = T.Max(max, v);
        return j;
    }

    /// <summary>
    /// d_i = d_i + (f(w_i)·x_i)·c, f = ReLU (IEEE maximum with 0, NaN kept) or the identity: a formed key's
    /// weighted value scaled by ±1/N, in one pass (three otherwise).
    /// </summary>
    public static void AddWeightedValue(Span<T> d, ReadOnlySpan<T> w, ReadOnlySpan<T> x, T c, bool relu)
    {
        if (w.Length < d.Length || x.Length < d.Length) throw new ArgumentException("row lengths differ");
        ref T dr = ref MemoryMarshal.GetReference(d); ref T wr = ref MemoryMarshal.GetReference(w); ref T xr = ref MemoryMarshal.GetReference(x);
        nint j = SimdSpan.Width switch
        {
            SimdWidth.Vector512 => AddWeightedValue<Lanes512<T>>(ref dr, ref wr, ref xr, c, relu, 0, d.Length),
            SimdWidth.Vector256 => AddWeightedValue<Lanes256<T>>(ref dr, ref wr, ref xr, c, relu, 0, d.Length),
            _ => AddWeightedValue<Lanes128<T>>(ref dr, ref wr, ref xr, c, relu, 0, d.Length),
        };
        AddWeightedValue<Lanes1<T>>(ref dr, ref wr, ref xr, c, relu, j, d.Length);
    }

    private static nint AddWeightedValue<TL>(ref T d, ref T w, ref T x, T c, bool relu, nint j, nint n) where TL : struct, ILanes<TL, T>
    {
        var cv = TL.Broadcast(c);
        for (; j <= n - TL.Count; j += TL.Count)
        {
            var wv = TL.Load(ref w, j);
            if (relu) wv = TL.Max(wv, TL.Zero);
            TL.Store(TL.Load(ref d, j) + (wv * TL.Load(ref x, j)) * cv, ref d, j);
        }
        return j;
    }

    /// <summary>+0, read at run time: h + (zero + t) is the commit of a Delta that took t alone, and the JIT cannot fold it to h + t.</summary>
    private static T s_zero = T.Zero;

    /// <summary>
    /// h_i = h_i + (0 + (f(w_i)·x_i)·c): <see cref="AddWeightedValue"/> into a Delta of +0 followed by the commit's
    /// h + Delta, without the Delta row (the only update of these tokens in the layer); returns whether every h_i is finite.
    /// </summary>
    public static bool CommitWeightedValue(Span<T> h, ReadOnlySpan<T> w, ReadOnlySpan<T> x, T c, bool relu)
    {
        if (w.Length < h.Length || x.Length < h.Length) throw new ArgumentException("row lengths differ");
        ref T hr = ref MemoryMarshal.GetReference(h); ref T wr = ref MemoryMarshal.GetReference(w); ref T xr = ref MemoryMarshal.GetReference(x);
        bool finite = true;
        nint j = SimdSpan.Width switch
        {
            SimdWidth.Vector512 => CommitWeightedValue<Lanes512<T>>(ref hr, ref wr, ref xr, c, relu, 0, h.Length, ref finite),
            SimdWidth.Vector256 => CommitWeightedValue<Lanes256<T>>(ref hr, ref wr, ref xr, c, relu, 0, h.Length, ref finite),
            _ => CommitWeightedValue<Lanes128<T>>(ref hr, ref wr, ref xr, c, relu, 0, h.Length, ref finite),
        };
        CommitWeightedValue<Lanes1<T>>(ref hr, ref wr, ref xr, c, relu, j, h.Length, ref finite);
        return finite;
    }

    private static nint CommitWeightedValue<TL>(ref T h, ref T w, ref T x, T c, bool relu, nint j, nint n, ref bool finite) where TL : struct, ILanes<TL, T>
    {
        var cv = TL.Broadcast(c);
        var zero = TL.Broadcast(s_zero);
        var acc = TL.Zero;
        for (; j <= n - TL.Count; j += TL.Count)
        {
            var wv = TL.Load(ref w, j);
            if (relu) wv = TL.Max(wv, TL.Zero);
            var v = TL.Load(ref h, j) + (zero + (wv * TL.Load(ref x, j)) * cv);
            TL.Store(v, ref h, j);
            acc += v - v;                // 0 for finite v, NaN for ±∞ and NaN
        }
        finite &= !TL.Any(~TL.Equal(acc, TL.Zero));
        return j;
    }

    /// <summary>
    /// h_i = h_i + (0 + x_i·c): an MLP output row with one term, added to a Delta of +0 and committed (h + Delta), without
    /// the Delta row; <paramref name="x"/> may be <paramref name="h"/> itself. Returns whether every h_i is finite.
    /// </summary>
    public static bool CommitScaled(Span<T> h, ReadOnlySpan<T> x, T c)
    {
        if (x.Length < h.Length) throw new ArgumentException("row lengths differ");
        ref T hr = ref MemoryMarshal.GetReference(h); ref T xr = ref MemoryMarshal.GetReference(x);
        bool finite = true;
        nint j = SimdSpan.Width switch
        {
            SimdWidth.Vector512 => CommitScaled<Lanes512<T>>(ref hr, ref xr, c, 0, h.Length, ref finite),
            SimdWidth.Vector256 => CommitScaled<Lanes256<T>>(ref hr, ref xr, c, 0, h.Length, ref finite),
            _ => CommitScaled<Lanes128<T>>(ref hr, ref xr, c, 0, h.Length, ref finite),
        };
        CommitScaled<Lanes1<T>>(ref hr, ref xr, c, j, h.Length, ref finite);
        return finite;
    }

    private static nint CommitScaled<TL>(ref T h, ref T x, T c, nint j, nint n, ref bool finite) where TL : struct, ILanes<TL, T>
    {
        var cv = TL.Broadcast(c);
        var zero = TL.Broadcast(s_zero);
        var acc = TL.Zero;
        for (; j <= n - TL.Count; j += TL.Count)
        {
            var v = TL.Load(ref h, j) + (zero + cv * TL.Load(ref x, j));
            TL.Store(v, ref h, j);
            acc += v - v;                // 0 for finite v, NaN for ±∞ and NaN
        }
        finite &= !TL.Any(~TL.Equal(acc, TL.Zero));
        return j;
    }

    /// <summary>
    /// d_i = d_i + c·((w_i·x_i) / s_i): a softmax head's single weighted value over its normaliser, signed by c = ±1,
    /// in one pass (three otherwise).
    /// </summary>
    public static void AddWeightedQuotient(Span<T> d, ReadOnlySpan<T> w, ReadOnlySpan<T> x, ReadOnlySpan<T> s, T c)
    {
        if (w.Length < d.Length || x.Length < d.Length || s.Length < d.Length) throw new ArgumentException("row lengths differ");
        ref T dr = ref MemoryMarshal.GetReference(d); ref T wr = ref MemoryMarshal.GetReference(w);
        ref T xr = ref MemoryMarshal.GetReference(x); ref T sr = ref MemoryMarshal.GetReference(s);
        nint j = SimdSpan.Width switch
        {
            SimdWidth.Vector512 => AddWeightedQuotient<Lanes512<T>>(ref dr, ref wr, ref xr, ref sr, c, 0, d.Length),
            SimdWidth.Vector256 => AddWeightedQuotient<Lanes256<T>>(ref dr, ref wr, ref xr, ref sr, c, 0, d.Length),
            _ => AddWeightedQuotient<Lanes128<T>>(ref dr, ref wr, ref xr, ref sr, c, 0, d.Length),
        };
        AddWeightedQuotient<Lanes1<T>>(ref dr, ref wr, ref xr, ref sr, c, j, d.Length);
    }

    /// <summary>
    /// h_i = h_i + (0 + c·((w_i·x_i) / s_i)): <see cref="AddWeightedQuotient"/> into a Delta of +0 followed by the commit's
    /// h + Delta, without the Delta row (the only update of these tokens in the layer); returns whether every h_i is finite.
    /// </summary>
    /// <remarks>With <paramref name="onConstant"/>, h is read as the constant <paramref name="b"/> everywhere (a row kept per
    /// role at b, docs/math.md §9.6): the bits of filling h with b first, without the fill.</remarks>
    public static bool CommitWeightedQuotient(Span<T> h, ReadOnlySpan<T> w, ReadOnlySpan<T> x, ReadOnlySpan<T> s, T c, bool onConstant = false, T b = default)
    {
        if (w.Length < h.Length || x.Length < h.Length || s.Length < h.Length) throw new ArgumentException("row lengths differ");
        ref T hr = ref MemoryMarshal.GetReference(h); ref T wr = ref MemoryMarshal.GetReference(w);
        ref T xr = ref MemoryMarshal.GetReference(x); ref T sr = ref MemoryMarshal.GetReference(s);
        bool finite = true;
        nint j = SimdSpan.Width switch
        {
            SimdWidth.Vector512 => CommitWeightedQuotient<Lanes512<T>>(ref hr, ref wr, ref xr, ref sr, c, onConstant, b, 0, h.Length, ref finite),
            SimdWidth.Vector256 => CommitWeightedQuotient<Lanes256<T>>(ref hr, ref wr, ref xr, ref sr, c, onConstant, b, 0, h.Length, ref finite),
            _ => CommitWeightedQuotient<Lanes128<T>>(ref hr, ref wr, ref xr, ref sr, c, onConstant, b, 0, h.Length, ref finite),
        };
        CommitWeightedQuotient<Lanes1<T>>(ref hr, ref wr, ref xr, ref sr, c, onConstant, b, j, h.Length, ref finite);
        return finite;
    }

    private static nint CommitWeightedQuotient<TL>(ref T h, ref T w, ref T x, ref T s, T c, bool onConstant, T b, nint j, nint n, ref bool finite) where TL : struct, ILanes<TL, T>
    {
        var cv = TL.Broadcast(c);
        var zero = TL.Broadcast(s_zero);
        var bv = TL.Broadcast(b);
        var acc = TL.Zero;
        for (; j <= n - TL.Count; j += TL.Count)
        {
            var v = (onConstant ? bv : TL.Load(ref h, j)) + (zero + cv * ((TL.Load(ref w, j) * TL.Load(ref x, j)) / TL.Load(ref s, j)));
            TL.Store(v, ref h, j);
            acc += v - v;                // 0 for finite v, NaN for ±∞ and NaN
        }
        finite &= !TL.Any(~TL.Equal(acc, TL.Zero));
        return j;
    }

    private static nint AddWeightedQuotient<TL>(ref T d, ref T w, ref T x, ref T s, T c, nint j, nint n) where TL : struct, ILanes<TL, T>
    {
        var cv = TL.Broadcast(c);
        for (; j <= n - TL.Count; j += TL.Count)
            TL.Store(TL.Load(ref d, j) + cv * ((TL.Load(ref w, j) * TL.Load(ref x, j)) / TL.Load(ref s, j)), ref d, j);
        return j;
    }
}
