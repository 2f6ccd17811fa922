using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MorIcl.Runtime.Kernels;

/// <summary>
/// Element-wise helpers over feature-major rows that TensorPrimitives does not provide (lengths are
/// multiples of the token padding, except where stated): d + w·x with the product and the sum rounded
/// separately (never fused, so results do not depend on the vector width), the residual commit with a
/// finiteness check, and the positive-score scan. Scaling, constant adds and ReLU (IEEE maximum with 0,
/// NaN kept) are TensorPrimitives.Multiply, Add and Max.
/// </summary>
internal static class RowKernels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static bool V512 => Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported;
    private static bool V256 => Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported;

    /// <summary>d = d + w·x (product rounded, then sum rounded).</summary>
    public static void AddScaled(Span<T> d, ReadOnlySpan<T> x, T w)
    {
        int n = d.Length, j = 0;
        ref T dr = ref MemoryMarshal.GetReference(d); ref T xr = ref MemoryMarshal.GetReference(x);
        if (x.Length < n) throw new ArgumentException("row lengths differ");
        if (V512)
        {
            var wv = Vector512.Create(w);
            for (; j + Vector512<T>.Count <= n; j += Vector512<T>.Count)
                (Vector512.LoadUnsafe(ref dr, (nuint)j) + wv * Vector512.LoadUnsafe(ref xr, (nuint)j)).StoreUnsafe(ref dr, (nuint)j);
        }
        else if (V256)
        {
            var wv = Vector256.Create(w);
            for (; j + Vector256<T>.Count <= n; j += Vector256<T>.Count)
                (Vector256.LoadUnsafe(ref dr, (nuint)j) + wv * Vector256.LoadUnsafe(ref xr, (nuint)j)).StoreUnsafe(ref dr, (nuint)j);
        }
        for (; j < n; j++) Unsafe.Add(ref dr, j) += w * Unsafe.Add(ref xr, j);
    }

    /// <summary>
    /// h = h + d and d = 0 over the whole row; returns false when some h is not finite.
    /// </summary>
    public static bool AddAndClear(Span<T> h, Span<T> d)
    {
        int n = h.Length, j = 0;
        ref T hr = ref MemoryMarshal.GetReference(h); ref T dr = ref MemoryMarshal.GetReference(d);
        if (d.Length < n) throw new ArgumentException("row lengths differ");
        bool finite = true;
        if (V512)
        {
            var acc = Vector512<T>.Zero;
            for (; j + Vector512<T>.Count <= n; j += Vector512<T>.Count)
            {
                var v = Vector512.LoadUnsafe(ref hr, (nuint)j) + Vector512.LoadUnsafe(ref dr, (nuint)j);
                v.StoreUnsafe(ref hr, (nuint)j);
                Vector512<T>.Zero.StoreUnsafe(ref dr, (nuint)j);
                acc += v - v;                // 0 for finite v, NaN for ±∞ and NaN
            }
            finite = acc == Vector512<T>.Zero;
        }
        for (; j < n; j++)
        {
            T v = Unsafe.Add(ref hr, j) + Unsafe.Add(ref dr, j);
            Unsafe.Add(ref hr, j) = v; Unsafe.Add(ref dr, j) = T.Zero;
            if (!T.IsFinite(v)) finite = false;
        }
        return finite;
    }

    /// <summary>
    /// Indices j &lt; s.Length with s[j] &gt; 0 or NaN, ascending, written to idx while at most
    /// <paramref name="limit"/>; returns their number, or limit + 1 as soon as there are more.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int ScanPositive(ReadOnlySpan<T> s, int limit, Span<int> idx)
    {
        int n = s.Length, j = 0, count = 0;
        ref T sr = ref MemoryMarshal.GetReference(s);
        if (V512)
        {
            for (; j + Vector512<T>.Count <= n; j += Vector512<T>.Count)
            {
                var m = ~Vector512.LessThanOrEqual(Vector512.LoadUnsafe(ref sr, (nuint)j), Vector512<T>.Zero);
                ulong bits = m.ExtractMostSignificantBits();
                while (bits != 0)
                {
                    if (count >= limit) return limit + 1;
                    idx[count++] = j + BitOperations.TrailingZeroCount(bits);
                    bits &= bits - 1;
                }
            }
        }
        else if (V256)
        {
            for (; j + Vector256<T>.Count <= n; j += Vector256<T>.Count)
            {
                var m = ~Vector256.LessThanOrEqual(Vector256.LoadUnsafe(ref sr, (nuint)j), Vector256<T>.Zero);
                uint bits = m.ExtractMostSignificantBits();
                while (bits != 0)
                {
                    if (count >= limit) return limit + 1;
                    idx[count++] = j + BitOperations.TrailingZeroCount(bits);
                    bits &= bits - 1;
                }
            }
        }
        for (; j < n; j++)
            if (!(Unsafe.Add(ref sr, j) <= T.Zero))
            {
                if (count >= limit) return limit + 1;
                idx[count++] = j;
            }
        return count;
    }
}

/// <summary>
/// Fused per-row passes of the fast executor's attention (Vector512 only; the executor falls back to
/// span-at-a-time code elsewhere). Masks are rows of T whose elements have all bits set (selected) or
/// are zero; rows have the padded length. Maxima follow IEEE 754 maximum (NaN propagates, +0 &gt; −0),
/// exactly as <see cref="TensorPrimitives.Max{T}(ReadOnlySpan{T})"/>.
/// </summary>
internal static class Rows512<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Supported => Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported;
    public static Vector512<T> NegativeInfinity => Vector512.Create(T.NegativeInfinity);
    public static T AllBits => Vector512<T>.AllBitsSet.ToScalar();

    /// <summary>acc = max(acc, s_j) over the selected j (four independent accumulators; max is exact, so the order does not matter).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Vector512<T> MaxMasked(ReadOnlySpan<T> s, ReadOnlySpan<T> mask, Vector512<T> acc)
    {
        int n = s.Length;
        if (mask.Length < n || n % Vector512<T>.Count != 0) throw new ArgumentException("row lengths differ");
        ref T sr = ref MemoryMarshal.GetReference(s); ref T mr = ref MemoryMarshal.GetReference(mask);
        var ninf = NegativeInfinity;
        nuint L = (nuint)Vector512<T>.Count, j = 0;
        Vector512<T> a1 = ninf, a2 = ninf, a3 = ninf;
        for (; j + 4 * L <= (nuint)n; j += 4 * L)
        {
            acc = Vector512.Max(acc, Vector512.ConditionalSelect(Vector512.LoadUnsafe(ref mr, j), Vector512.LoadUnsafe(ref sr, j), ninf));
            a1 = Vector512.Max(a1, Vector512.ConditionalSelect(Vector512.LoadUnsafe(ref mr, j + L), Vector512.LoadUnsafe(ref sr, j + L), ninf));
            a2 = Vector512.Max(a2, Vector512.ConditionalSelect(Vector512.LoadUnsafe(ref mr, j + 2 * L), Vector512.LoadUnsafe(ref sr, j + 2 * L), ninf));
            a3 = Vector512.Max(a3, Vector512.ConditionalSelect(Vector512.LoadUnsafe(ref mr, j + 3 * L), Vector512.LoadUnsafe(ref sr, j + 3 * L), ninf));
        }
        for (; j < (nuint)n; j += L)
            acc = Vector512.Max(acc, Vector512.ConditionalSelect(Vector512.LoadUnsafe(ref mr, j), Vector512.LoadUnsafe(ref sr, j), ninf));
        return Vector512.Max(Vector512.Max(acc, a1), Vector512.Max(a2, a3));
    }

    /// <summary>
    /// One pass over a full tile of four ReLU score rows s[r·ld …] of the same query role: the positive
    /// scores of each row (those &gt; 0 or NaN, keys j &lt; n, ascending) and, when <paramref name="mask"/> is
    /// not empty, worst = max(worst, s_rj) over the masked keys, except each row's own key
    /// (selfChunk·L + first + r) when <paramref name="selfChunk"/> ≥ 0. Per row, counts[r] is the number of
    /// positives, or limit + 1 once there are more; the first ones (up to limit) go to idx[r·ld …].
    /// <paramref name="chunks"/> is scratch (length ≥ ld / lanes). The loop makes no calls, so its
    /// vectors stay in registers; chunks holding a positive are listed and decoded afterwards.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ReluTile(ReadOnlySpan<T> s, int ld, int n, ReadOnlySpan<T> mask, int selfChunk, int first,
        ref Vector512<T> worst, int limit, Span<int> counts, Span<int> idx, Span<int> chunks)
    {
        int L = Vector512<T>.Count;
        if (ld % L != 0 || s.Length < 4 * ld || n > ld || counts.Length < 4 || idx.Length < 4 * ld || (mask.Length != 0 && mask.Length < ld)
            || first < 0 || first + 3 >= L || chunks.Length < ld / L)
            throw new ArgumentException("tile shapes are inconsistent");
        ref T s0 = ref MemoryMarshal.GetReference(s);
        ref T s1 = ref Unsafe.Add(ref s0, ld); ref T s2 = ref Unsafe.Add(ref s0, 2 * ld); ref T s3 = ref Unsafe.Add(ref s0, 3 * ld);
        ref int cr = ref MemoryMarshal.GetReference(chunks);
        var zero = Vector512<T>.Zero;
        var ninf = NegativeInfinity;
        int found = 0, nc = ld / L;
        Vector512<T> tileWorst = ninf;
        if (mask.Length != 0)
        {
            // MaxNative (one instruction) is exact except with NaN or zeros of both signs; those tiles
            // are redone below with the IEEE maximum.
            ref T mr = ref MemoryMarshal.GetReference(mask);
            Vector512<T> w0 = ninf, w1 = ninf, w2 = ninf, w3 = ninf;
            Vector512<T> x0 = Vector512<T>.AllBitsSet, x1 = x0, x2 = x0, x3 = x0;   // own-key exclusions in selfChunk
            if (selfChunk >= 0) { x0 = ~Lane(first); x1 = ~Lane(first + 1); x2 = ~Lane(first + 2); x3 = ~Lane(first + 3); }
            for (int c = 0; c < nc; c++)
            {
                nuint j = (nuint)(c * L);
                var v0 = Vector512.LoadUnsafe(ref s0, j); var v1 = Vector512.LoadUnsafe(ref s1, j);
                var v2 = Vector512.LoadUnsafe(ref s2, j); var v3 = Vector512.LoadUnsafe(ref s3, j);
                var any = ~Vector512.LessThanOrEqual(v0, zero) | ~Vector512.LessThanOrEqual(v1, zero)
                        | ~Vector512.LessThanOrEqual(v2, zero) | ~Vector512.LessThanOrEqual(v3, zero);
                if (any != zero) Unsafe.Add(ref cr, found++) = c;
                var m = Vector512.LoadUnsafe(ref mr, j);
                if (c == selfChunk)
                {
                    w0 = Vector512.MaxNative(w0, Vector512.ConditionalSelect(m & x0, v0, ninf));
                    w1 = Vector512.MaxNative(w1, Vector512.ConditionalSelect(m & x1, v1, ninf));
                    w2 = Vector512.MaxNative(w2, Vector512.ConditionalSelect(m & x2, v2, ninf));
                    w3 = Vector512.MaxNative(w3, Vector512.ConditionalSelect(m & x3, v3, ninf));
                }
                else
                {
                    w0 = Vector512.MaxNative(w0, Vector512.ConditionalSelect(m, v0, ninf));
                    w1 = Vector512.MaxNative(w1, Vector512.ConditionalSelect(m, v1, ninf));
                    w2 = Vector512.MaxNative(w2, Vector512.ConditionalSelect(m, v2, ninf));
                    w3 = Vector512.MaxNative(w3, Vector512.ConditionalSelect(m, v3, ninf));
                }
            }
            tileWorst = Vector512.MaxNative(Vector512.MaxNative(w0, w1), Vector512.MaxNative(w2, w3));
        }
        else
        {
            for (int c = 0; c < nc; c++)
            {
                nuint j = (nuint)(c * L);
                var any = ~Vector512.LessThanOrEqual(Vector512.LoadUnsafe(ref s0, j), zero) | ~Vector512.LessThanOrEqual(Vector512.LoadUnsafe(ref s1, j), zero)
                        | ~Vector512.LessThanOrEqual(Vector512.LoadUnsafe(ref s2, j), zero) | ~Vector512.LessThanOrEqual(Vector512.LoadUnsafe(ref s3, j), zero);
                if (any != zero) Unsafe.Add(ref cr, found++) = c;
            }
        }
        counts[0] = counts[1] = counts[2] = counts[3] = 0;
        bool nan = false;
        for (int f = 0; f < found; f++)
        {
            int j = chunks[f] * L;
            for (int r = 0; r < 4; r++)
            {
                var v = Vector512.LoadUnsafe(ref Unsafe.Add(ref s0, r * ld), (nuint)j);
                nan |= !Vector512.EqualsAll(v, v);        // NaN counts as positive, so it shows up here
                ulong bits = (~Vector512.LessThanOrEqual(v, zero)).ExtractMostSignificantBits();
                for (; bits != 0; bits &= bits - 1)
                {
                    int k = j + BitOperations.TrailingZeroCount(bits);
                    if (k >= n || counts[r] > limit) break;
                    if (counts[r] < limit) idx[r * ld + counts[r]] = k;
                    counts[r]++;
                }
            }
        }
        if (mask.Length == 0) return;
        if (nan || Vector512.EqualsAny(tileWorst, zero))
            tileWorst = ExactTileMax(s, ld, mask, selfChunk, first);
        worst = Vector512.Max(worst, tileWorst);
    }

    /// <summary>The masked maximum of a tile with the IEEE maximum throughout (NaN propagates, +0 &gt; −0).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector512<T> ExactTileMax(ReadOnlySpan<T> s, int ld, ReadOnlySpan<T> mask, int selfChunk, int first)
    {
        int L = Vector512<T>.Count;
        var ninf = NegativeInfinity;
        var w = ninf;
        for (int r = 0; r < 4; r++)
        {
            var x = selfChunk >= 0 ? ~Lane(first + r) : Vector512<T>.AllBitsSet;
            for (int c = 0; c < ld / L; c++)
            {
                var m = Vector512.Create(mask.Slice(c * L, L));
                if (c == selfChunk) m &= x;
                w = Vector512.Max(w, Vector512.ConditionalSelect(m, Vector512.Create(s.Slice(r * ld + c * L, L)), ninf));
            }
        }
        return w;
    }

    /// <summary>All bits set in lane k.</summary>
    private static Vector512<T> Lane(int k) =>
        Vector512.Equals(Vector512<T>.Indices, Vector512.Create(T.CreateTruncating(k)));

    /// <summary>The largest lane (IEEE maximum).</summary>
    public static T HorizontalMax(Vector512<T> v)
    {
        var h = Vector256.Max(v.GetLower(), v.GetUpper());
        var q = Vector128.Max(h.GetLower(), h.GetUpper());
        T m = q.GetElement(0);
        for (int k = 1; k < Vector128<T>.Count; k++) m = T.Max(m, q.GetElement(k));
        return m;
    }

    /// <summary>(max over "in", max over "out"), −∞ when a set is empty (IEEE maximum: NaN propagates, +0 &gt; −0).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static (T In, T Out) MaxInOut(ReadOnlySpan<T> s, ReadOnlySpan<T> inMask, ReadOnlySpan<T> outMask)
    {
        int n = s.Length;
        if (inMask.Length < n || outMask.Length < n || n % Vector512<T>.Count != 0) throw new ArgumentException("row lengths differ");
        ref T sr = ref MemoryMarshal.GetReference(s);
        ref T ir = ref MemoryMarshal.GetReference(inMask); ref T or = ref MemoryMarshal.GetReference(outMask);
        var ninf = NegativeInfinity;
        nuint L = (nuint)Vector512<T>.Count, j = 0;
        Vector512<T> vin = ninf, vout = ninf, vin1 = ninf, vout1 = ninf;
        for (; j + 2 * L <= (nuint)n; j += 2 * L)
        {
            var v = Vector512.LoadUnsafe(ref sr, j);
            vin = Vector512.Max(vin, Vector512.ConditionalSelect(Vector512.LoadUnsafe(ref ir, j), v, ninf));
            vout = Vector512.Max(vout, Vector512.ConditionalSelect(Vector512.LoadUnsafe(ref or, j), v, ninf));
            v = Vector512.LoadUnsafe(ref sr, j + L);
            vin1 = Vector512.Max(vin1, Vector512.ConditionalSelect(Vector512.LoadUnsafe(ref ir, j + L), v, ninf));
            vout1 = Vector512.Max(vout1, Vector512.ConditionalSelect(Vector512.LoadUnsafe(ref or, j + L), v, ninf));
        }
        for (; j < (nuint)n; j += L)
        {
            var v = Vector512.LoadUnsafe(ref sr, j);
            vin = Vector512.Max(vin, Vector512.ConditionalSelect(Vector512.LoadUnsafe(ref ir, j), v, ninf));
            vout = Vector512.Max(vout, Vector512.ConditionalSelect(Vector512.LoadUnsafe(ref or, j), v, ninf));
        }
        return (HorizontalMax(Vector512.Max(vin, vin1)), HorizontalMax(Vector512.Max(vout, vout1)));
    }

    /// <summary>
    /// s_j ← exp(s_j − max) on the keys in either mask, 0 elsewhere (padding); returns (Σ_j s_j, Σ over
    /// "out" of s_j), each summed lane-wise in key order, then across lanes in a fixed order, then the
    /// few lanes computed one at a time (see <see cref="ExpCore"/>) in key order. <paramref name="scratch"/>
    /// holds their indices (length ≥ s.Length).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static (T Sum, T OutSum) ExpRow(Span<T> s, T max, ReadOnlySpan<T> inMask, ReadOnlySpan<T> outMask, Span<int> scratch)
    {
        int n = s.Length;
        if (inMask.Length < n || outMask.Length < n || scratch.Length < n || n % Vector512<T>.Count != 0) throw new ArgumentException("row lengths differ");
        ref T sr = ref MemoryMarshal.GetReference(s);
        ref T ir = ref MemoryMarshal.GetReference(inMask); ref T or = ref MemoryMarshal.GetReference(outMask);
        var mv = Vector512.Create(max);
        Vector512<T> sum = Vector512<T>.Zero, outSum = Vector512<T>.Zero;
        int fixes = 0;
        for (nuint j = 0; j < (nuint)n; j += (nuint)Vector512<T>.Count)
        {
            var o = Vector512.LoadUnsafe(ref or, j);
            var valid = Vector512.LoadUnsafe(ref ir, j) | o;
            var x = Vector512.LoadUnsafe(ref sr, j) - mv;
            var e = ExpCore(x, out var special) & valid;
            special &= valid;
            if (special == Vector512<T>.Zero) e.StoreUnsafe(ref sr, j);
            else
            {
                // Keep the argument in the lanes computed later (their e is 0 here).
                Vector512.ConditionalSelect(special, x, e).StoreUnsafe(ref sr, j);
                for (ulong bits = special.ExtractMostSignificantBits(); bits != 0; bits &= bits - 1)
                    scratch[fixes++] = (int)j + BitOperations.TrailingZeroCount(bits);
            }
            sum += e;
            outSum += e & o;
        }
        T total = Vector512.Sum(sum), outTotal = Vector512.Sum(outSum);
        for (int f = 0; f < fixes; f++)
        {
            int j = scratch[f];
            T e = T.Exp(s[j]);
            s[j] = e;
            total += e;
            if (outMask[j] != T.Zero || T.IsNaN(outMask[j])) outTotal += e;
        }
        return (total, outTotal);
    }

    /// <summary>
    /// exp per lane, inline (no calls). Shortcuts that are exact: all lanes 0 give 1, all lanes below
    /// the underflow threshold give 0 (as T.Exp does). Otherwise Cody–Waite reduction x = n·ln 2 + r,
    /// |r| ≤ ln 2 / 2, a Taylor polynomial for e^r (degree 13 for double, 7 for float; truncation below
    /// half an ulp) and scaling by 2^n. Lanes whose result would be subnormal, or whose argument is too
    /// large for the scaling, are flagged in <paramref name="special"/> (their result here is 0) for
    /// the caller to compute with T.Exp — rare: the executor's arguments are s − max ≤ 0. NaN stays NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> ExpCore(Vector512<T> x, out Vector512<T> special)
    {
        special = Vector512<T>.Zero;
        if (Vector512.EqualsAll(x, Vector512<T>.Zero)) return Vector512<T>.One;
        if (typeof(T) == typeof(double))
        {
            var e = ExpDouble(x.AsDouble(), out var sp);
            special = sp.As<double, T>();
            return e.As<double, T>();
        }
        if (typeof(T) == typeof(float))
        {
            var e = ExpSingle(x.AsSingle(), out var sp);
            special = sp.As<float, T>();
            return e.As<float, T>();
        }
        throw new NotSupportedException();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> ExpDouble(Vector512<double> x, out Vector512<double> special)
    {
        const double zeroBelow = -745.2, low = -708.0, high = 708.0, magic = 6755399441055744.0;   // 1.5·2^52
        special = Vector512<double>.Zero;
        if (Vector512.LessThanAll(x, Vector512.Create(zeroBelow))) return Vector512<double>.Zero;
        var xc = Vector512.Min(Vector512.Max(x, Vector512.Create(low)), Vector512.Create(high));
        var t = Vector512.FusedMultiplyAdd(xc, Vector512.Create(1.4426950408889634), Vector512.Create(magic));
        var n = t - Vector512.Create(magic);                                       // round(x / ln 2)
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-6.93147180369123816490e-01), xc);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-1.90821492927058770002e-10), r);
        var p = Vector512.Create(1.0 / 6227020800);                                // 1/13!
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 479001600));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 39916800));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 3628800));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 362880));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 40320));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 5040));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 720));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 120));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 24));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 6));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.5));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<double>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<double>.One);
        var scale = ((t.AsInt64() - Vector512.Create(magic).AsInt64() + Vector512.Create(1023L)) << 52).AsDouble();
        var lowLanes = Vector512.LessThan(x, Vector512.Create(low));
        var highLanes = Vector512.GreaterThan(x, Vector512.Create(high));
        special = (lowLanes & Vector512.GreaterThanOrEqual(x, Vector512.Create(zeroBelow))) | highLanes;
        return Vector512.ConditionalSelect(lowLanes | highLanes, Vector512<double>.Zero, p * scale);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ExpSingle(Vector512<float> x, out Vector512<float> special)
    {
        const float zeroBelow = -104f, low = -87f, high = 88f, magic = 12582912f;   // 1.5·2^23
        special = Vector512<float>.Zero;
        if (Vector512.LessThanAll(x, Vector512.Create(zeroBelow))) return Vector512<float>.Zero;
        var xc = Vector512.Min(Vector512.Max(x, Vector512.Create(low)), Vector512.Create(high));
        var t = Vector512.FusedMultiplyAdd(xc, Vector512.Create(1.44269504f), Vector512.Create(magic));
        var n = t - Vector512.Create(magic);
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.693359375f), xc);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(2.12194440e-4f), r);
        var p = Vector512.Create(1f / 5040);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 720));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 120));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 24));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 6));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.5f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        var scale = ((t.AsInt32() - Vector512.Create(magic).AsInt32() + Vector512.Create(127)) << 23).AsSingle();
        var lowLanes = Vector512.LessThan(x, Vector512.Create(low));
        var highLanes = Vector512.GreaterThan(x, Vector512.Create(high));
        special = (lowLanes & Vector512.GreaterThanOrEqual(x, Vector512.Create(zeroBelow))) | highLanes;
        return Vector512.ConditionalSelect(lowLanes | highLanes, Vector512<float>.Zero, p * scale);
    }
}
