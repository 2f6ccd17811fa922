using System.Numerics;
using MorIcl.Numerics.Simd;

namespace MorIcl.Runtime.Structured;

/// <summary>
/// The per-token passes of an AdmittedKeysOnly head over several rows at once (docs/math.md §9.6, "Fused rows"): one
/// loop over the tokens does, for each token, the operations that one pass per row would do on it, in the same order.
/// Every element takes only operations on its own column, so the result is the row-by-row result bit for bit; the loop
/// is generic over the register (<see cref="ILanes{TSelf, T}"/>) with a scalar tail doing the same operations, so it
/// does not depend on the width. What it saves is the re-reading and re-writing of the accumulated row between passes.
/// </summary>
internal static unsafe class FusedRowKernels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Lanes of the widest register (16 floats), the stride of the per-row maxima.</summary>
    private const int MaxLanes = 64 / 4;

    /// <summary>
    /// score_i = ((c_i + x_0(i)·k_0) + x_1(i)·k_1) + … over the rows of <paramref name="rows"/> in order (each product
    /// rounded, then added), c_i = <paramref name="c"/>, or score_i itself when <paramref name="fromScore"/>; and max[a] = max(0, max_i |x_a(i)|) (NaN when some x_a(i) is NaN): what
    /// <see cref="StructuredRowKernels{T}.AddScaledTrackingMax"/> gives, called once per row (after score.Fill(c) unless fromScore).
    /// x_a is row a of <paramref name="rows"/> as it is held (in H or the projection buffer, before its sign).
    /// </summary>
    public static void DotTrackingMax(Span<T> score, T c, bool fromScore, RowSources<T> rows, T[] h, T[] buffer, int ld, int start, ReadOnlySpan<T> k, Span<double> max)
    {
        int m = k.Length, count = score.Length;
        if (m > rows.Rows || max.Length < m) throw new ArgumentException("row counts differ");
        nint* src = stackalloc nint[Math.Max(m, 1)];
        T* mx = stackalloc T[Math.Max(m, 1) * MaxLanes];
        new Span<T>(mx, Math.Max(m, 1) * MaxLanes).Clear();
        fixed (T* ph = h, pb = buffer, ps = score, pk = k)
        {
            for (int a = 0; a < m; a++) src[a] = (nint)RowStart(rows, a, ph, h.Length, pb, buffer.Length, ld, start, count);
            nint j = SimdSpan.Width switch
            {
                SimdWidth.Vector512 => Dot<Lanes512<T>>(ps, c, fromScore, src, pk, mx, m, 0, count),
                SimdWidth.Vector256 => Dot<Lanes256<T>>(ps, c, fromScore, src, pk, mx, m, 0, count),
                _ => Dot<Lanes128<T>>(ps, c, fromScore, src, pk, mx, m, 0, count),
            };
            Dot<Lanes1<T>>(ps, c, fromScore, src, pk, mx, m, j, count);
        }
        for (int a = 0; a < m; a++)
        {
            T best = T.Zero;
            for (int l = 0; l < MaxLanes; l++) best = T.Max(best, mx[a * MaxLanes + l]);
            max[a] = double.CreateChecked(best);
        }
    }

    private static nint Dot<TL>(T* s, T c, bool fromScore, nint* src, T* k, T* mx, int m, nint j, nint n) where TL : struct, ILanes<TL, T>
    {
        var cv = TL.Broadcast(c);
        int L = TL.Count;
        // Four chunks at a time: their sums are independent chains (the order within each element is unchanged).
        for (; j <= n - 4 * L; j += 4 * L)
        {
            TL a0 = cv, a1 = cv, a2 = cv, a3 = cv;
            if (fromScore) { a0 = TL.Load(ref *s, j); a1 = TL.Load(ref *s, j + L); a2 = TL.Load(ref *s, j + 2 * L); a3 = TL.Load(ref *s, j + 3 * L); }
            for (int a = 0; a < m; a++)
            {
                ref T x = ref *(T*)src[a];
                var x0 = TL.Load(ref x, j); var x1 = TL.Load(ref x, j + L); var x2 = TL.Load(ref x, j + 2 * L); var x3 = TL.Load(ref x, j + 3 * L);
                var kv = TL.Broadcast(k[a]);
                a0 += x0 * kv; a1 += x1 * kv; a2 += x2 * kv; a3 += x3 * kv;
                ref T lanes = ref mx[a * MaxLanes];
                var big = TL.Max(TL.Max(TL.Abs(x0), TL.Abs(x1)), TL.Max(TL.Abs(x2), TL.Abs(x3)));
                TL.Store(TL.Max(TL.Load(ref lanes, 0), big), ref lanes, 0);
            }
            TL.Store(a0, ref *s, j); TL.Store(a1, ref *s, j + L); TL.Store(a2, ref *s, j + 2 * L); TL.Store(a3, ref *s, j + 3 * L);
        }
        for (; j <= n - L; j += L)
        {
            var acc = fromScore ? TL.Load(ref *s, j) : cv;
            for (int a = 0; a < m; a++)
            {
                var xv = TL.Load(ref *(T*)src[a], j);
                ref T lanes = ref mx[a * MaxLanes];
                TL.Store(TL.Max(TL.Load(ref lanes, 0), TL.Abs(xv)), ref lanes, 0);
                acc += xv * TL.Broadcast(k[a]);
            }
            TL.Store(acc, ref *s, j);
        }
        return j;
    }

    /// <summary>
    /// For each value row v of <paramref name="values"/> listed in <paramref name="v"/>, with its output row out[v] of H:
    /// h_i = b + (0 + (f(w_i)·x_v(i))·c_v), where b is h_i itself, or the constant base[v] when <paramref name="constant"/>[v]
    /// (a row kept per role whose examples all hold base[v]); f = ReLU or the identity. What
    /// <see cref="StructuredRowKernels{T}.CommitWeightedValue"/> gives row by row (on the filled row). Returns whether
    /// every value written is finite.
    /// </summary>
    public static bool CommitWeightedValues(T[] h, ReadOnlySpan<int> outRows, ReadOnlySpan<bool> constant, ReadOnlySpan<T> b,
        ReadOnlySpan<T> w, RowSources<T> values, T[] buffer, ReadOnlySpan<int> v, ReadOnlySpan<T> c, bool relu, int ld, int start)
    {
        int m = v.Length, count = w.Length;
        if (outRows.Length < m || constant.Length < m || b.Length < m || c.Length < m) throw new ArgumentException("row counts differ");
        nint* dst = stackalloc nint[Math.Max(m, 1)];
        nint* src = stackalloc nint[Math.Max(m, 1)];
        bool finite = true;
        fixed (T* ph = h, pb = buffer, pw = w, pbase = b, pc = c)
        fixed (bool* pconst = constant)
        {
            for (int r = 0; r < m; r++)
            {
                dst[r] = (nint)Checked(ph, h.Length, (long)outRows[r] * ld + start, count);
                src[r] = (nint)RowStart(values, v[r], ph, h.Length, pb, buffer.Length, ld, start, count);
            }
            nint j = SimdSpan.Width switch
            {
                SimdWidth.Vector512 => Commit<Lanes512<T>>(dst, src, pconst, pbase, pw, pc, relu, m, 0, count, ref finite),
                SimdWidth.Vector256 => Commit<Lanes256<T>>(dst, src, pconst, pbase, pw, pc, relu, m, 0, count, ref finite),
                _ => Commit<Lanes128<T>>(dst, src, pconst, pbase, pw, pc, relu, m, 0, count, ref finite),
            };
            Commit<Lanes1<T>>(dst, src, pconst, pbase, pw, pc, relu, m, j, count, ref finite);
        }
        return finite;
    }

    /// <summary>+0, read at run time: b + (zero + t) is the commit of a Delta that took t alone, and the JIT cannot fold it to b + t.</summary>
    private static T s_zero = T.Zero;

    private static nint Commit<TL>(nint* dst, nint* src, bool* constant, T* b, T* w, T* c, bool relu, int m, nint j, nint n, ref bool finite)
        where TL : struct, ILanes<TL, T>
    {
        var zero = TL.Broadcast(s_zero);
        var acc = TL.Zero;
        for (; j <= n - TL.Count; j += TL.Count)
        {
            var wv = TL.Load(ref *w, j);
            if (relu) wv = TL.Max(wv, TL.Zero);
            for (int r = 0; r < m; r++)
            {
                ref T hr = ref *(T*)dst[r];
                var basev = constant[r] ? TL.Broadcast(b[r]) : TL.Load(ref hr, j);
                var value = basev + (zero + (wv * TL.Load(ref *(T*)src[r], j)) * TL.Broadcast(c[r]));
                TL.Store(value, ref hr, j);
                acc |= value - value;        // +0 for finite values, NaN bits for ±∞ and NaN (an OR: no chain of additions)
            }
        }
        finite &= !TL.Any(~TL.Equal(acc, TL.Zero));
        return j;
    }

    /// <summary>Row a of a projection over [start, start + count): in H (a direct row) or in the buffer.</summary>
    private static T* RowStart(RowSources<T> rows, int a, T* h, int hLength, T* buffer, int bufferLength, int ld, int start, int count) =>
        rows.Column[a] >= 0 ? Checked(h, hLength, (long)rows.Column[a] * ld + start, count)
            : Checked(buffer, bufferLength, (long)rows.BufferRow[a] * ld + start, count);

    private static T* Checked(T* p, int length, long offset, int count) =>
        offset >= 0 && offset + count <= length ? p + offset : throw new ArgumentOutOfRangeException(nameof(offset), "a row runs past its buffer");
}
