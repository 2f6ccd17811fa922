using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MorIcl.Numerics.Simd;

namespace MorIcl.Runtime.Kernels;

/// <summary>
/// Register-tiled attention products for the fast executor, generic over T = double or float and over
/// the register (<see cref="ILanes{TSelf, T}"/>: Vector512, Vector256 or Vector128, the widest the
/// runtime accelerates — one kernel, compiled per width). Matrices are "transposed" (feature-major):
/// row a of a dims × ld matrix holds one feature for every token, so tokens are contiguous and the
/// kernels vectorise over tokens.
/// <para>
/// Every result is bit-identical on every width. <see cref="Scores{T}"/> accumulates every score over
/// the head dimensions strictly in order a = 0, 1, …, dk − 1 (the first a plain product, then each
/// product rounded and added), as the constructed heads require for exact positional cancellation;
/// lanes are tokens, so the width only decides how many are done at once. <see cref="WeightedSums{T}"/>
/// reduces over tokens in a 64-byte virtual vector (token j in lane j mod L, L = 8 doubles or 16
/// floats) with one fixed final tree (<see cref="IWideLanes{TSelf, T}.Sum"/>). Nothing depends on the
/// thread count.
/// </para>
/// </summary>
public static class AttentionKernels
{
    /// <summary>Rows of queries handled by one call of <see cref="Scores{T}"/> (and one value tile).</summary>
    public const int RowTile = 4;

    /// <summary>
    /// Token padding: every feature-major row has a length that is a multiple of this (16 for float,
    /// 8 for double: one 64-byte virtual vector, whatever the width); padded columns hold zeros.
    /// </summary>
    public static int Padding<T>() where T : unmanaged, IFloatingPointIeee754<T> => Math.Max(RowTile, Vector512<T>.Count);

    /// <summary>Smallest padded length ≥ <paramref name="n"/>.</summary>
    public static int Padded<T>(int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int p = Padding<T>();
        return (n + p - 1) / p * p;
    }

    /// <summary>
    /// Scores of <see cref="RowTile"/> query rows against <paramref name="cols"/> keys:
    /// s[r·lds + j] = Σ_{a &lt; dk} qT[a·ldq + row0 + r] · kT[a·ldk + j], accumulated in order of a.
    /// <paramref name="cols"/> must be a multiple of <see cref="Padding{T}"/>.
    /// </summary>
    public static void Scores<T>(ReadOnlySpan<T> qT, int ldq, int row0, ReadOnlySpan<T> kT, int ldk, int dk, int cols, Span<T> s, int lds)
        where T : unmanaged, IFloatingPointIeee754<T> => ScoresOn(SimdSpan.Width, qT, ldq, row0, kT, ldk, dk, cols, s, lds);

    internal static void ScoresOn<T>(SimdWidth width, ReadOnlySpan<T> qT, int ldq, int row0, ReadOnlySpan<T> kT, int ldk, int dk, int cols, Span<T> s, int lds)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (dk < 1 || cols % Padding<T>() != 0 || row0 < 0 || row0 + RowTile > ldq || cols > ldk || cols > lds
            || qT.Length < (dk - 1) * ldq + row0 + RowTile || kT.Length < (dk - 1) * ldk + cols || s.Length < (RowTile - 1) * lds + cols)
            throw new ArgumentException("score tile shapes are inconsistent");
        ref T q = ref Unsafe.Add(ref MemoryMarshal.GetReference(qT), row0);
        ref T k = ref MemoryMarshal.GetReference(kT);
        ref T o = ref MemoryMarshal.GetReference(s);
        switch (width)
        {
            case SimdWidth.Vector512: ScoreKernels<Lanes512<T>, N4, T>.Run(ref q, ldq, ref k, ldk, 0, dk, cols, ref o, lds); break;
            case SimdWidth.Vector256: ScoreKernels<Lanes256<T>, N2, T>.Run(ref q, ldq, ref k, ldk, 0, dk, cols, ref o, lds); break;
            default: ScoreKernels<Lanes128<T>, N2, T>.Run(ref q, ldq, ref k, ldk, 0, dk, cols, ref o, lds); break;
        }
    }

    /// <summary>Whether <see cref="PackKeys{T}"/> and <see cref="ScoresPacked{T}"/> run on this machine (always; kept for callers).</summary>
    public static bool PackedSupported<T>() where T : unmanaged, IFloatingPointIeee754<T> => true;

    /// <summary>
    /// Keys kT (dk × ldk, first <paramref name="cols"/> columns) in panels: for each block of key
    /// vectors (4 Vector512 or 2 of the narrower registers), then each remaining single vector, the
    /// block's keys for a = 0 … dk − 1 one after another, so the score kernel streams one contiguous
    /// panel instead of dk strided rows (this matters once the keys no longer fit in L1).
    /// <paramref name="packed"/> needs dk·cols elements; cols must be a multiple of <see cref="Padding{T}"/>.
    /// </summary>
    public static void PackKeys<T>(ReadOnlySpan<T> kT, int ldk, int dk, int cols, Span<T> packed)
        where T : unmanaged, IFloatingPointIeee754<T> => PackKeysOn(SimdSpan.Width, kT, ldk, dk, cols, packed);

    internal static void PackKeysOn<T>(SimdWidth width, ReadOnlySpan<T> kT, int ldk, int dk, int cols, Span<T> packed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (dk < 1 || cols % Padding<T>() != 0 || cols > ldk || kT.Length < (dk - 1) * ldk + cols || packed.Length < dk * cols)
            throw new ArgumentException("key shapes are inconsistent");
        var (lanes, block) = Panel<T>(width);
        int off = 0, j = 0;
        while (j < cols)
        {
            int w = j + block * lanes <= cols ? block * lanes : lanes;
            for (int a = 0; a < dk; a++)
            {
                kT.Slice(a * ldk + j, w).CopyTo(packed.Slice(off, w));
                off += w;
            }
            j += w;
        }
    }

    /// <summary>(lanes per register, registers per panel block) of a width.</summary>
    private static (int Lanes, int Block) Panel<T>(SimdWidth width) where T : unmanaged, IFloatingPointIeee754<T> => width switch
    {
        SimdWidth.Vector512 => (Vector512<T>.Count, 4),
        SimdWidth.Vector256 => (Vector256<T>.Count, 2),
        _ => (Vector128<T>.Count, 2),
    };

    /// <summary>
    /// <see cref="Scores{T}"/> with the keys packed by <see cref="PackKeys{T}"/> (same cols, same dk):
    /// the same sums in the same order, so the same results.
    /// </summary>
    public static void ScoresPacked<T>(ReadOnlySpan<T> qT, int ldq, int row0, ReadOnlySpan<T> packedK, int dk, int cols, Span<T> s, int lds)
        where T : unmanaged, IFloatingPointIeee754<T> => ScoresPackedOn(SimdSpan.Width, qT, ldq, row0, packedK, dk, cols, s, lds);

    internal static void ScoresPackedOn<T>(SimdWidth width, ReadOnlySpan<T> qT, int ldq, int row0, ReadOnlySpan<T> packedK, int dk, int cols, Span<T> s, int lds)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (dk < 1 || cols % Padding<T>() != 0 || row0 < 0 || row0 + RowTile > ldq || cols > lds
            || qT.Length < (dk - 1) * ldq + row0 + RowTile || packedK.Length < dk * cols || s.Length < (RowTile - 1) * lds + cols)
            throw new ArgumentException("score tile shapes are inconsistent");
        ref T q = ref Unsafe.Add(ref MemoryMarshal.GetReference(qT), row0);
        ref T k = ref MemoryMarshal.GetReference(packedK);
        ref T o = ref MemoryMarshal.GetReference(s);
        switch (width)
        {
            case SimdWidth.Vector512: ScoreKernels<Lanes512<T>, N4, T>.Run(ref q, ldq, ref k, 0, 1, dk, cols, ref o, lds); break;
            case SimdWidth.Vector256: ScoreKernels<Lanes256<T>, N2, T>.Run(ref q, ldq, ref k, 0, 1, dk, cols, ref o, lds); break;
            default: ScoreKernels<Lanes128<T>, N2, T>.Run(ref q, ldq, ref k, 0, 1, dk, cols, ref o, lds); break;
        }
    }

    /// <summary>
    /// Weighted sums of up to <see cref="RowTile"/> weight rows against dv value rows:
    /// o[r·ldo + v] = Σ_{j &lt; cols} w[rows[r]·ldw + j] · vT[v·ldv + j], for r &lt; rows.Length.
    /// <paramref name="cols"/> must be a multiple of <see cref="Padding{T}"/>. Token j goes to lane
    /// j mod L of a 64-byte virtual vector, and the lanes are reduced by one fixed tree, on every width.
    /// </summary>
    public static void WeightedSums<T>(ReadOnlySpan<T> w, int ldw, ReadOnlySpan<int> rows, ReadOnlySpan<T> vT, int ldv, int dv, int cols, Span<T> o, int ldo)
        where T : unmanaged, IFloatingPointIeee754<T> => WeightedSumsOn(SimdSpan.Width, w, ldw, rows, vT, ldv, dv, cols, o, ldo);

    internal static void WeightedSumsOn<T>(SimdWidth width, ReadOnlySpan<T> w, int ldw, ReadOnlySpan<int> rows, ReadOnlySpan<T> vT, int ldv, int dv, int cols, Span<T> o, int ldo)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int nr = rows.Length;
        if (nr < 1 || nr > RowTile || dv < 1 || cols % Padding<T>() != 0 || cols > ldw || cols > ldv || ldo < dv
            || vT.Length < (dv - 1) * ldv + cols || o.Length < (nr - 1) * ldo + dv)
            throw new ArgumentException("value tile shapes are inconsistent");
        foreach (int r in rows)
            if (r < 0 || w.Length < r * ldw + cols) throw new ArgumentException("value tile shapes are inconsistent");
        var wr = new WeightRows<T>(w, ldw, rows);
        ref T v = ref MemoryMarshal.GetReference(vT);
        Span<T> tmp = stackalloc T[RowTile * 4];
        int v0 = 0;
        while (v0 < dv)
        {
            int chunk = dv - v0 >= 4 ? 4 : dv - v0 >= 2 ? 2 : 1;
            ref T vv = ref Unsafe.Add(ref v, v0 * ldv);
            switch (width)
            {
                case SimdWidth.Vector512: ValueSums<Lanes512<T>, T>.Tile(wr, nr, 4, 4, ref vv, ldv, chunk, cols, tmp); break;
                case SimdWidth.Vector256: ValueSums<Lanes256x2<T>, T>.Tile(wr, nr, 2, 2, ref vv, ldv, chunk, cols, tmp); break;
                default: ValueSums<Lanes128x4<T>, T>.Tile(wr, nr, 1, 2, ref vv, ldv, chunk, cols, tmp); break;
            }
            for (int r = 0; r < nr; r++)
                for (int c = 0; c < chunk; c++) o[r * ldo + v0 + c] = tmp[r * 4 + c];
            v0 += chunk;
        }
    }
}

/// <summary>The (up to four) weight rows of a value tile; missing rows repeat the last one (their results are dropped).</summary>
internal readonly ref struct WeightRows<T> where T : unmanaged
{
    public readonly ReadOnlySpan<T> W;
    public readonly int Ldw;
    public readonly ReadOnlySpan<int> Rows;
    public WeightRows(ReadOnlySpan<T> w, int ldw, ReadOnlySpan<int> rows) { W = w; Ldw = ldw; Rows = rows; }
    public ref T Row(int r) => ref Unsafe.Add(ref MemoryMarshal.GetReference(W), Rows[Math.Min(r, Rows.Length - 1)] * Ldw);
}

/// <summary>
/// The score micro-kernel for one register type TL: blocks of TB vectors of keys × the 4 query rows
/// (TB = 4 on Vector512's 32 registers, 2 on the 16 of the narrower widths), then single vectors.
/// Keys are read at k[a·ldk + j] (kStep = 0: strided rows) or, packed, panel after panel (ldk = 0, kStep = 1).
/// </summary>
internal static class ScoreKernels<TL, TB, T> where TL : struct, ILanes<TL, T> where TB : struct, IConstant where T : unmanaged, IFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(ref T q, int ldq, ref T k, int ldk, int packed, int dk, int cols, ref T s, int lds)
    {
        nint L = TL.Count;
        bool b2 = TB.Value > 2;
        ref T s0 = ref s; ref T s1 = ref Unsafe.Add(ref s, lds); ref T s2 = ref Unsafe.Add(ref s, 2 * lds); ref T s3 = ref Unsafe.Add(ref s, 3 * lds);
        nint j = 0;
        ref T panel = ref k;
        for (; j + TB.Value * L <= cols; j += TB.Value * L)
        {
            nint step = packed != 0 ? TB.Value * L : ldk;
            ref T kj = ref packed != 0 ? ref panel : ref Unsafe.Add(ref k, j);
            TL k0 = TL.Load(ref kj, 0), k1 = TL.Load(ref kj, L), k2 = b2 ? TL.Load(ref kj, 2 * L) : TL.Zero, k3 = b2 ? TL.Load(ref kj, 3 * L) : TL.Zero;
            TL b = TL.Broadcast(q);
            TL c00 = b * k0, c01 = b * k1, c02 = b * k2, c03 = b * k3;
            b = TL.Broadcast(Unsafe.Add(ref q, 1));
            TL c10 = b * k0, c11 = b * k1, c12 = b * k2, c13 = b * k3;
            b = TL.Broadcast(Unsafe.Add(ref q, 2));
            TL c20 = b * k0, c21 = b * k1, c22 = b * k2, c23 = b * k3;
            b = TL.Broadcast(Unsafe.Add(ref q, 3));
            TL c30 = b * k0, c31 = b * k1, c32 = b * k2, c33 = b * k3;
            ref T qa = ref q;
            for (int a = 1; a < dk; a++)
            {
                kj = ref Unsafe.Add(ref kj, step);
                qa = ref Unsafe.Add(ref qa, ldq);
                k0 = TL.Load(ref kj, 0); k1 = TL.Load(ref kj, L);
                if (b2) { k2 = TL.Load(ref kj, 2 * L); k3 = TL.Load(ref kj, 3 * L); }
                b = TL.Broadcast(qa);
                c00 += b * k0; c01 += b * k1; if (b2) { c02 += b * k2; c03 += b * k3; }
                b = TL.Broadcast(Unsafe.Add(ref qa, 1));
                c10 += b * k0; c11 += b * k1; if (b2) { c12 += b * k2; c13 += b * k3; }
                b = TL.Broadcast(Unsafe.Add(ref qa, 2));
                c20 += b * k0; c21 += b * k1; if (b2) { c22 += b * k2; c23 += b * k3; }
                b = TL.Broadcast(Unsafe.Add(ref qa, 3));
                c30 += b * k0; c31 += b * k1; if (b2) { c32 += b * k2; c33 += b * k3; }
            }
            if (packed != 0) panel = ref Unsafe.Add(ref panel, dk * TB.Value * L);
            TL.Store(c00, ref s0, j); TL.Store(c01, ref s0, j + L);
            TL.Store(c10, ref s1, j); TL.Store(c11, ref s1, j + L);
            TL.Store(c20, ref s2, j); TL.Store(c21, ref s2, j + L);
            TL.Store(c30, ref s3, j); TL.Store(c31, ref s3, j + L);
            if (b2)
            {
                TL.Store(c02, ref s0, j + 2 * L); TL.Store(c03, ref s0, j + 3 * L);
                TL.Store(c12, ref s1, j + 2 * L); TL.Store(c13, ref s1, j + 3 * L);
                TL.Store(c22, ref s2, j + 2 * L); TL.Store(c23, ref s2, j + 3 * L);
                TL.Store(c32, ref s3, j + 2 * L); TL.Store(c33, ref s3, j + 3 * L);
            }
        }
        for (; j < cols; j += L)
        {
            nint step = packed != 0 ? L : ldk;
            ref T kj = ref packed != 0 ? ref panel : ref Unsafe.Add(ref k, j);
            TL k0 = TL.Load(ref kj, 0);
            TL c0 = TL.Broadcast(q) * k0, c1 = TL.Broadcast(Unsafe.Add(ref q, 1)) * k0;
            TL c2 = TL.Broadcast(Unsafe.Add(ref q, 2)) * k0, c3 = TL.Broadcast(Unsafe.Add(ref q, 3)) * k0;
            ref T qa = ref q;
            for (int a = 1; a < dk; a++)
            {
                kj = ref Unsafe.Add(ref kj, step);
                qa = ref Unsafe.Add(ref qa, ldq);
                k0 = TL.Load(ref kj, 0);
                c0 += TL.Broadcast(qa) * k0; c1 += TL.Broadcast(Unsafe.Add(ref qa, 1)) * k0;
                c2 += TL.Broadcast(Unsafe.Add(ref qa, 2)) * k0; c3 += TL.Broadcast(Unsafe.Add(ref qa, 3)) * k0;
            }
            if (packed != 0) panel = ref Unsafe.Add(ref panel, dk * L);
            TL.Store(c0, ref s0, j); TL.Store(c1, ref s1, j); TL.Store(c2, ref s2, j); TL.Store(c3, ref s3, j);
        }
    }
}

/// <summary>
/// The value-sum micro-kernel for one virtual vector type TW: groups of <c>rowGroup</c> weight rows ×
/// up to <c>valueGroup</c> value rows in registers (4 × 4 on Vector512, 2 × 2 with two Vector256 per
/// accumulator, 1 × 2 with four Vector128), each entry summed over tokens in lane j mod L.
/// </summary>
internal static class ValueSums<TW, T> where TW : struct, IWideLanes<TW, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>o[r·4 + c] for r &lt; rows (row groups up to the tile's 4 rows), c &lt; chunk.</summary>
    public static void Tile(WeightRows<T> w, int rows, int rowGroup, int valueGroup, ref T v, int ldv, int chunk, int cols, Span<T> o)
    {
        for (int r0 = 0; r0 < rows; r0 += rowGroup)
            for (int c0 = 0; c0 < chunk; c0 += valueGroup)
            {
                int vc = Math.Min(valueGroup, chunk - c0);
                ref T vr = ref Unsafe.Add(ref v, c0 * ldv);
                switch ((rowGroup, vc))
                {
                    case (4, 4): Kernel<N4, N4>(w, r0, ref vr, ldv, cols, o, c0); break;
                    case (4, 2): Kernel<N4, N2>(w, r0, ref vr, ldv, cols, o, c0); break;
                    case (4, _): Kernel<N4, N1>(w, r0, ref vr, ldv, cols, o, c0); break;
                    case (2, 2): Kernel<N2, N2>(w, r0, ref vr, ldv, cols, o, c0); break;
                    case (2, _): Kernel<N2, N1>(w, r0, ref vr, ldv, cols, o, c0); break;
                    case (_, 2): Kernel<N1, N2>(w, r0, ref vr, ldv, cols, o, c0); break;
                    default: Kernel<N1, N1>(w, r0, ref vr, ldv, cols, o, c0); break;
                }
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel<TR, TC>(WeightRows<T> w, int r0, ref T v, int ldv, int cols, Span<T> o, int c0)
        where TR : struct, IConstant where TC : struct, IConstant
    {
        nint L = TW.Count;
        bool r1 = TR.Value > 1, r2 = TR.Value > 2, v1 = TC.Value > 1, v2 = TC.Value > 2;
        ref T w0 = ref w.Row(r0); ref T w1 = ref w.Row(r0 + 1); ref T w2 = ref w.Row(r0 + 2); ref T w3 = ref w.Row(r0 + 3);
        ref T vv1 = ref Unsafe.Add(ref v, ldv); ref T vv2 = ref Unsafe.Add(ref v, 2 * ldv); ref T vv3 = ref Unsafe.Add(ref v, 3 * ldv);
        TW c00 = TW.Zero, c01 = TW.Zero, c02 = TW.Zero, c03 = TW.Zero, c10 = TW.Zero, c11 = TW.Zero, c12 = TW.Zero, c13 = TW.Zero;
        TW c20 = TW.Zero, c21 = TW.Zero, c22 = TW.Zero, c23 = TW.Zero, c30 = TW.Zero, c31 = TW.Zero, c32 = TW.Zero, c33 = TW.Zero;
        for (nint j = 0; j < cols; j += L)
        {
            TW b0 = TW.Load(ref v, j);
            TW b1 = v1 ? TW.Load(ref vv1, j) : TW.Zero;
            TW b2 = v2 ? TW.Load(ref vv2, j) : TW.Zero;
            TW b3 = v2 ? TW.Load(ref vv3, j) : TW.Zero;
            TW a = TW.Load(ref w0, j);
            c00 += a * b0; if (v1) c01 += a * b1; if (v2) { c02 += a * b2; c03 += a * b3; }
            if (r1)
            {
                a = TW.Load(ref w1, j);
                c10 += a * b0; if (v1) c11 += a * b1; if (v2) { c12 += a * b2; c13 += a * b3; }
            }
            if (r2)
            {
                a = TW.Load(ref w2, j);
                c20 += a * b0; if (v1) c21 += a * b1; if (v2) { c22 += a * b2; c23 += a * b3; }
                a = TW.Load(ref w3, j);
                c30 += a * b0; if (v1) c31 += a * b1; if (v2) { c32 += a * b2; c33 += a * b3; }
            }
        }
        int o0 = r0 * 4 + c0;
        o[o0] = TW.Sum(c00); if (v1) o[o0 + 1] = TW.Sum(c01); if (v2) { o[o0 + 2] = TW.Sum(c02); o[o0 + 3] = TW.Sum(c03); }
        if (r1) { o[o0 + 4] = TW.Sum(c10); if (v1) o[o0 + 5] = TW.Sum(c11); if (v2) { o[o0 + 6] = TW.Sum(c12); o[o0 + 7] = TW.Sum(c13); } }
        if (r2)
        {
            o[o0 + 8] = TW.Sum(c20); if (v1) o[o0 + 9] = TW.Sum(c21); if (v2) { o[o0 + 10] = TW.Sum(c22); o[o0 + 11] = TW.Sum(c23); }
            o[o0 + 12] = TW.Sum(c30); if (v1) o[o0 + 13] = TW.Sum(c31); if (v2) { o[o0 + 14] = TW.Sum(c32); o[o0 + 15] = TW.Sum(c33); }
        }
    }
}
