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
    /// <remarks>Without <paramref name="trackMax"/> the maxima are not formed and <paramref name="max"/> is left as it is (the
    /// caller knows them: <see cref="StructuredScratch{T}.KnownMaxima"/>); the scores are the same.</remarks>
    public static void DotTrackingMax(Span<T> score, T c, bool fromScore, RowSources<T> rows, T[] h, T[] buffer, int ld, int start, ReadOnlySpan<T> k, Span<double> max,
        bool trackMax = true)
    {
        int m = k.Length, count = score.Length;
        if (m > rows.Rows || (trackMax && max.Length < m)) throw new ArgumentException("row counts differ");
        nint* src = stackalloc nint[Math.Max(m, 1)];
        T* mx = stackalloc T[Math.Max(m, 1) * MaxLanes];
        if (trackMax) new Span<T>(mx, Math.Max(m, 1) * MaxLanes).Clear();
        fixed (T* ph = h, pb = buffer, ps = score, pk = k)
        {
            for (int a = 0; a < m; a++) src[a] = (nint)RowStart(rows, a, ph, h.Length, pb, buffer.Length, ld, start, count);
            nint j = (SimdSpan.Width, trackMax) switch
            {
                (SimdWidth.Vector512, true) => Dot<Lanes512<T>, Track>(ps, c, fromScore, src, pk, mx, m, 0, count),
                (SimdWidth.Vector512, false) => Dot<Lanes512<T>, NoTrack>(ps, c, fromScore, src, pk, mx, m, 0, count),
                (SimdWidth.Vector256, true) => Dot<Lanes256<T>, Track>(ps, c, fromScore, src, pk, mx, m, 0, count),
                (SimdWidth.Vector256, false) => Dot<Lanes256<T>, NoTrack>(ps, c, fromScore, src, pk, mx, m, 0, count),
                (_, true) => Dot<Lanes128<T>, Track>(ps, c, fromScore, src, pk, mx, m, 0, count),
                (_, false) => Dot<Lanes128<T>, NoTrack>(ps, c, fromScore, src, pk, mx, m, 0, count),
            };
            if (trackMax) Dot<Lanes1<T>, Track>(ps, c, fromScore, src, pk, mx, m, j, count);
            else Dot<Lanes1<T>, NoTrack>(ps, c, fromScore, src, pk, mx, m, j, count);
        }
        if (!trackMax) return;
        for (int a = 0; a < m; a++)
        {
            T best = T.Zero;
            for (int l = 0; l < MaxLanes; l++) best = T.Max(best, mx[a * MaxLanes + l]);
            max[a] = double.CreateChecked(best);
        }
    }

    /// <summary>Whether <see cref="DotTrackingMax"/>'s loop forms the maxima (the scores are the same either way).</summary>
    private interface ITracking { static abstract bool On { get; } }
    private readonly struct Track : ITracking { public static bool On => true; }
    private readonly struct NoTrack : ITracking { public static bool On => false; }

    private static nint Dot<TL, TM>(T* s, T c, bool fromScore, nint* src, T* k, T* mx, int m, nint j, nint n)
        where TL : struct, ILanes<TL, T> where TM : struct, ITracking
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
                if (!TM.On) continue;
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
                if (TM.On)
                {
                    ref T lanes = ref mx[a * MaxLanes];
                    TL.Store(TL.Max(TL.Load(ref lanes, 0), TL.Abs(xv)), ref lanes, 0);
                }
                acc += xv * TL.Broadcast(k[a]);
            }
            TL.Store(acc, ref *s, j);
        }
        return j;
    }

    /// <summary>
    /// score_i = (…((x_0(i)·k_0) + … ) — in the order of <c>TensorPrimitives.Multiply(x_0, k_0, score)</c> followed by
    /// <c>TensorPrimitives.MultiplyAdd(x_a, k_a, score, score)</c> for a = 1, 2, …: the first product, then each product
    /// rounded and the running score added to it (x_a·k_a + score, that operand order). x_a is row a of
    /// <paramref name="rows"/> as it is held (in H or the projection buffer, before its sign), so k_a must carry the sign.
    /// One loop over the tokens instead of one pass per row; every element takes only operations on its own column.
    /// </summary>
    public static void DotInOrder(Span<T> score, RowSources<T> rows, T[] h, T[] buffer, int ld, int start, ReadOnlySpan<T> k)
    {
        int m = k.Length, count = score.Length;
        if (m < 1 || m > rows.Rows) throw new ArgumentException("row counts differ");
        nint* src = stackalloc nint[m];
        fixed (T* ph = h, pb = buffer, ps = score, pk = k)
        {
            for (int a = 0; a < m; a++) src[a] = (nint)RowStart(rows, a, ph, h.Length, pb, buffer.Length, ld, start, count);
            nint j = SimdSpan.Width switch
            {
                SimdWidth.Vector512 => DotInOrder<Lanes512<T>>(ps, src, pk, m, 0, count),
                SimdWidth.Vector256 => DotInOrder<Lanes256<T>>(ps, src, pk, m, 0, count),
                _ => DotInOrder<Lanes128<T>>(ps, src, pk, m, 0, count),
            };
            DotInOrder<Lanes1<T>>(ps, src, pk, m, j, count);
        }
    }

    private static nint DotInOrder<TL>(T* s, nint* src, T* k, int m, nint j, nint n) where TL : struct, ILanes<TL, T>
    {
        int L = TL.Count;
        var k0 = TL.Broadcast(k[0]);
        // Four chunks at a time: independent chains (the order within each element is unchanged).
        for (; j <= n - 4 * L; j += 4 * L)
        {
            ref T x = ref *(T*)src[0];
            TL a0 = TL.Load(ref x, j) * k0, a1 = TL.Load(ref x, j + L) * k0, a2 = TL.Load(ref x, j + 2 * L) * k0, a3 = TL.Load(ref x, j + 3 * L) * k0;
            for (int a = 1; a < m; a++)
            {
                ref T xa = ref *(T*)src[a];
                var kv = TL.Broadcast(k[a]);
                a0 = TL.Load(ref xa, j) * kv + a0; a1 = TL.Load(ref xa, j + L) * kv + a1;
                a2 = TL.Load(ref xa, j + 2 * L) * kv + a2; a3 = TL.Load(ref xa, j + 3 * L) * kv + a3;
            }
            TL.Store(a0, ref *s, j); TL.Store(a1, ref *s, j + L); TL.Store(a2, ref *s, j + 2 * L); TL.Store(a3, ref *s, j + 3 * L);
        }
        for (; j <= n - L; j += L)
        {
            var acc = TL.Load(ref *(T*)src[0], j) * k0;
            for (int a = 1; a < m; a++) acc = TL.Load(ref *(T*)src[a], j) * TL.Broadcast(k[a]) + acc;
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
        ReadOnlySpan<T> w, RowSources<T> values, T[] buffer, ReadOnlySpan<int> v, ReadOnlySpan<T> c, bool relu, int ld, int start, bool checkFinite = true)
    {
        int m = v.Length, count = w.Length;
        if (outRows.Length < m || constant.Length < m || b.Length < m || c.Length < m) throw new ArgumentException("row counts differ");
        nint* dst = stackalloc nint[Math.Max(m, 1)];
        nint* src = stackalloc nint[Math.Max(m, 1)];
        // Per row: 0 the base is h itself, 1 a constant, 2 the constant +0, for which +0 + (0 + t) has the bits of 0 + t
        // for every t (0 + t is t unless t = −0, where it is +0; +0 + u = u for every u, NaN payloads included).
        byte* kind = stackalloc byte[Math.Max(m, 1)];
        bool finite = true;
        fixed (T* ph = h, pb = buffer, pw = w, pbase = b, pc = c)
        {
            for (int r = 0; r < m; r++)
            {
                dst[r] = (nint)Checked(ph, h.Length, (long)outRows[r] * ld + start, count);
                src[r] = (nint)RowStart(values, v[r], ph, h.Length, pb, buffer.Length, ld, start, count);
                kind[r] = (byte)(!constant[r] ? 0 : T.IsZero(b[r]) && !T.IsNegative(b[r]) ? 2 : 1);
            }
            var k = new CommitRows(dst, src, kind, pbase, pw, pc, m);
            nint j = (SimdSpan.Width, checkFinite) switch
            {
                (SimdWidth.Vector512, true) => Commit<Lanes512<T>, Checks>(k, relu, 0, count, ref finite),
                (SimdWidth.Vector512, false) => Commit<Lanes512<T>, NoChecks>(k, relu, 0, count, ref finite),
                (SimdWidth.Vector256, true) => Commit<Lanes256<T>, Checks>(k, relu, 0, count, ref finite),
                (SimdWidth.Vector256, false) => Commit<Lanes256<T>, NoChecks>(k, relu, 0, count, ref finite),
                (_, true) => Commit<Lanes128<T>, Checks>(k, relu, 0, count, ref finite),
                (_, false) => Commit<Lanes128<T>, NoChecks>(k, relu, 0, count, ref finite),
            };
            if (checkFinite) Commit<Lanes1<T>, Checks>(k, relu, j, count, ref finite);
            else Commit<Lanes1<T>, NoChecks>(k, relu, j, count, ref finite);
        }
        return finite;
    }

    /// <summary>
    /// The sums a fused commit onto the constant +0 forms ahead, without writing the rows (docs/math.md §9.6, "Rows
    /// summed only"): for each value row v[r], the values t_i = 0 + (f(w_i)·x_v(i))·c_r that
    /// <see cref="CommitWeightedValues"/> would write, each times weights[r] and added into the lanes [r·L, (r + 1)·L) in the
    /// order of <see cref="SimdSpan.AccumulateSums{T}"/> over the whole row (every chunk of the virtual lanes in order, the
    /// last chunk and the tail through <see cref="SimdSpan.AccumulateSum{T}"/> as the one-call reduction takes them). The
    /// value rows must be direct (read from H).
    /// </summary>
    public static void SumsOfWeightedValues(Span<T> lanes, ReadOnlySpan<T> w, RowSources<T> values, T[] h, ReadOnlySpan<int> v, ReadOnlySpan<T> c,
        ReadOnlySpan<T> weights, bool relu, int ld, int start)
    {
        int m = v.Length, count = w.Length, L = SimdSpan.VirtualLanes<T>();
        if (c.Length < m || weights.Length < m || lanes.Length < m * L) throw new ArgumentException("row counts differ");
        // Whole chunks up to F here; when the count is not a multiple of the lanes, the last whole chunk and the tail as one piece.
        int F = count % L == 0 ? count : Math.Max(0, (count / L - 1) * L);
        nint* src = stackalloc nint[Math.Max(m, 1)];
        fixed (T* ph = h, pw = w, pc = c, pt = weights, pl = lanes)
        {
            for (int r = 0; r < m; r++)
            {
                if (values.Column[v[r]] < 0) throw new ArgumentException("a value row summed only must be read from H");
                src[r] = (nint)Checked(ph, h.Length, (long)values.Column[v[r]] * ld + start, count);
            }
            switch (SimdSpan.Width)
            {
                case SimdWidth.Vector512: Sums<Lanes512<T>>(pl, pw, src, pc, pt, m, F, relu); break;
                case SimdWidth.Vector256: Sums<Lanes256x2<T>>(pl, pw, src, pc, pt, m, F, relu); break;
                default: Sums<Lanes128x4<T>>(pl, pw, src, pc, pt, m, F, relu); break;
            }
            if (F == count) return;
            Span<T> piece = stackalloc T[count - F];
            for (int r = 0; r < m; r++)
            {
                for (int i = F; i < count; i++)
                {
                    T wi = relu ? Lanes1<T>.Max(new(w[i]), Lanes1<T>.Zero).V : w[i];   // the commit tail's ReLU
                    piece[i - F] = s_zero + (wi * ((T*)src[r])[i]) * c[r];
                }
                SimdSpan.AccumulateSum<T>(lanes.Slice(r * L, L), piece, F, count, weights[r], weighted: true);
            }
        }
    }

    /// <summary>The whole chunks [0, f) of <see cref="SumsOfWeightedValues"/>, four rows at a time (their additions overlap).</summary>
    private static void Sums<TW>(T* lanes, T* w, nint* src, T* c, T* weights, int m, nint f, bool relu) where TW : struct, IWideLanes<TW, T>
    {
        int L = TW.Count;
        var zero = TW.Broadcast(s_zero);
        int r = 0;
        for (; r + 4 <= m; r += 4)
        {
            ref T x0 = ref *(T*)src[r]; ref T x1 = ref *(T*)src[r + 1]; ref T x2 = ref *(T*)src[r + 2]; ref T x3 = ref *(T*)src[r + 3];
            TW c0 = TW.Broadcast(c[r]), c1 = TW.Broadcast(c[r + 1]), c2 = TW.Broadcast(c[r + 2]), c3 = TW.Broadcast(c[r + 3]);
            TW t0 = TW.Broadcast(weights[r]), t1 = TW.Broadcast(weights[r + 1]), t2 = TW.Broadcast(weights[r + 2]), t3 = TW.Broadcast(weights[r + 3]);
            TW a0 = TW.Load(ref lanes[r * L], 0), a1 = TW.Load(ref lanes[(r + 1) * L], 0), a2 = TW.Load(ref lanes[(r + 2) * L], 0), a3 = TW.Load(ref lanes[(r + 3) * L], 0);
            for (nint j = 0; j < f; j += L)
            {
                var wv = TW.Load(ref *w, j);
                if (relu) wv = TW.Max(wv, TW.Zero);
                a0 += (zero + (wv * TW.Load(ref x0, j)) * c0) * t0;
                a1 += (zero + (wv * TW.Load(ref x1, j)) * c1) * t1;
                a2 += (zero + (wv * TW.Load(ref x2, j)) * c2) * t2;
                a3 += (zero + (wv * TW.Load(ref x3, j)) * c3) * t3;
            }
            TW.Store(a0, ref lanes[r * L], 0); TW.Store(a1, ref lanes[(r + 1) * L], 0); TW.Store(a2, ref lanes[(r + 2) * L], 0); TW.Store(a3, ref lanes[(r + 3) * L], 0);
        }
        for (; r < m; r++)
        {
            ref T x = ref *(T*)src[r];
            TW cr = TW.Broadcast(c[r]), tr = TW.Broadcast(weights[r]);
            TW a = TW.Load(ref lanes[r * L], 0);
            for (nint j = 0; j < f; j += L)
            {
                var wv = TW.Load(ref *w, j);
                if (relu) wv = TW.Max(wv, TW.Zero);
                a += (zero + (wv * TW.Load(ref x, j)) * cr) * tr;
            }
            TW.Store(a, ref lanes[r * L], 0);
        }
    }

    /// <summary>The rows of a fused commit: output and value rows, base kinds and constants, weights, scales.</summary>
    private readonly struct CommitRows(nint* dst, nint* src, byte* kind, T* b, T* w, T* c, int m)
    {
        public readonly nint* Dst = dst, Src = src;
        public readonly byte* Kind = kind;
        public readonly T* B = b, W = w, C = c;
        public readonly int M = m;
    }

    /// <summary>Whether a fused commit forms the finiteness of what it writes (else its caller knows it otherwise).</summary>
    private interface IFiniteness { static abstract bool On { get; } }
    private readonly struct Checks : IFiniteness { public static bool On => true; }
    private readonly struct NoChecks : IFiniteness { public static bool On => false; }

    /// <summary>+0, read at run time: b + (zero + t) is the commit of a Delta that took t alone, and the JIT cannot fold it to b + t.</summary>
    private static T s_zero = T.Zero;

    private static nint Commit<TL, TF>(CommitRows k, bool relu, nint j, nint n, ref bool finite)
        where TL : struct, ILanes<TL, T> where TF : struct, IFiniteness
    {
        var zero = TL.Broadcast(s_zero);
        var acc = TL.Zero;
        for (; j <= n - TL.Count; j += TL.Count)
        {
            var wv = TL.Load(ref *k.W, j);
            if (relu) wv = TL.Max(wv, TL.Zero);
            for (int r = 0; r < k.M; r++)
            {
                ref T hr = ref *(T*)k.Dst[r];
                var t = zero + (wv * TL.Load(ref *(T*)k.Src[r], j)) * TL.Broadcast(k.C[r]);
                byte kind = k.Kind[r];
                var value = kind == 2 ? t : (kind == 1 ? TL.Broadcast(k.B[r]) : TL.Load(ref hr, j)) + t;
                TL.Store(value, ref hr, j);
                if (TF.On) acc |= value - value;        // +0 for finite values, NaN bits for ±∞ and NaN (an OR: no chain of additions)
            }
        }
        if (TF.On) finite &= !TL.Any(~TL.Equal(acc, TL.Zero));
        return j;
    }

    /// <summary>Row a of a projection over [start, start + count): in H (a direct row) or in the buffer.</summary>
    private static T* RowStart(RowSources<T> rows, int a, T* h, int hLength, T* buffer, int bufferLength, int ld, int start, int count) =>
        rows.Column[a] >= 0 ? Checked(h, hLength, (long)rows.Column[a] * ld + start, count)
            : Checked(buffer, bufferLength, (long)rows.BufferRow[a] * ld + start, count);

    private static T* Checked(T* p, int length, long offset, int count) =>
        offset >= 0 && offset + count <= length ? p + offset : throw new ArgumentOutOfRangeException(nameof(offset), "a row runs past its buffer");
}
