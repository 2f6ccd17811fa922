using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MorIcl.Runtime.Kernels;

/// <summary>
/// Register-tiled attention products for the fast executor, generic over T = double or float.
/// Matrices are "transposed" (feature-major): row a of a dims × ld matrix holds one feature for every
/// token, so tokens are contiguous and the kernels vectorise over tokens. Vector512 is used when the
/// hardware accelerates it, otherwise Vector256, otherwise scalar loops with the same summation order.
/// <para>
/// <see cref="Scores{T}"/> accumulates every score over the head dimensions strictly in order
/// a = 0, 1, …, dk − 1 (one fused multiply-add per dimension; the first is a plain product), as the
/// constructed heads require for exact positional cancellation. Nothing depends on the thread count.
/// </para>
/// </summary>
public static class AttentionKernels
{
    /// <summary>Rows of queries handled by one call of <see cref="Scores{T}"/> (and one value tile).</summary>
    public const int RowTile = 4;

    /// <summary>
    /// Token padding: every feature-major row has a length that is a multiple of this (16 for float,
    /// 8 for double); padded columns hold zeros.
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
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (dk < 1 || cols % Padding<T>() != 0 || row0 < 0 || row0 + RowTile > ldq || cols > ldk || cols > lds
            || qT.Length < (dk - 1) * ldq + row0 + RowTile || kT.Length < (dk - 1) * ldk + cols || s.Length < (RowTile - 1) * lds + cols)
            throw new ArgumentException("score tile shapes are inconsistent");
        ref T q = ref Unsafe.Add(ref MemoryMarshal.GetReference(qT), row0);
        ref T k = ref MemoryMarshal.GetReference(kT);
        ref T o = ref MemoryMarshal.GetReference(s);
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported) Scores512(ref q, (nuint)ldq, ref k, (nuint)ldk, dk, (nuint)cols, ref o, (nuint)lds);
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported) Scores256(ref q, (nuint)ldq, ref k, (nuint)ldk, dk, (nuint)cols, ref o, (nuint)lds);
        else ScoresScalar(ref q, (nuint)ldq, ref k, (nuint)ldk, dk, (nuint)cols, ref o, (nuint)lds);
    }

    /// <summary>
    /// Whether <see cref="PackKeys{T}"/> and <see cref="ScoresPacked{T}"/> run on this machine (Vector512).
    /// The packed layout keeps each block of keys contiguous across the head dimensions, so the score
    /// kernel streams one contiguous panel instead of dk strided rows (this matters once the keys no
    /// longer fit in L1).
    /// </summary>
    public static bool PackedSupported<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported;

    /// <summary>
    /// Keys kT (dk × ldk, first <paramref name="cols"/> columns) in panels: for each block of 4 vectors
    /// of keys, then each remaining single vector, the block's keys for a = 0 … dk − 1 one after another.
    /// <paramref name="packed"/> needs dk·cols elements; cols must be a multiple of <see cref="Padding{T}"/>.
    /// </summary>
    public static void PackKeys<T>(ReadOnlySpan<T> kT, int ldk, int dk, int cols, Span<T> packed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int L = Vector512<T>.Count;
        if (!PackedSupported<T>() || dk < 1 || cols % Padding<T>() != 0 || cols > ldk || kT.Length < (dk - 1) * ldk + cols || packed.Length < dk * cols)
            throw new ArgumentException("key shapes are inconsistent (or Vector512 is not available)");
        int off = 0, j = 0;
        while (j < cols)
        {
            int w = j + 4 * L <= cols ? 4 * L : L;
            for (int a = 0; a < dk; a++)
            {
                kT.Slice(a * ldk + j, w).CopyTo(packed.Slice(off, w));
                off += w;
            }
            j += w;
        }
    }

    /// <summary>
    /// <see cref="Scores{T}"/> with the keys packed by <see cref="PackKeys{T}"/> (same cols, same dk):
    /// the same sums in the same order, so the same results.
    /// </summary>
    public static void ScoresPacked<T>(ReadOnlySpan<T> qT, int ldq, int row0, ReadOnlySpan<T> packedK, int dk, int cols, Span<T> s, int lds)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!PackedSupported<T>() || dk < 1 || cols % Padding<T>() != 0 || row0 < 0 || row0 + RowTile > ldq || cols > lds
            || qT.Length < (dk - 1) * ldq + row0 + RowTile || packedK.Length < dk * cols || s.Length < (RowTile - 1) * lds + cols)
            throw new ArgumentException("score tile shapes are inconsistent (or Vector512 is not available)");
        ScoresPacked512(ref Unsafe.Add(ref MemoryMarshal.GetReference(qT), row0), (nuint)ldq, ref MemoryMarshal.GetReference(packedK), dk,
            (nuint)cols, ref MemoryMarshal.GetReference(s), (nuint)lds);
    }

    /// <summary>
    /// Weighted sums of up to <see cref="RowTile"/> weight rows against dv value rows:
    /// o[r·ldo + v] = Σ_{j &lt; cols} w[rows[r]·ldw + j] · vT[v·ldv + j], for r &lt; rows.Length.
    /// <paramref name="cols"/> must be a multiple of <see cref="Padding{T}"/>. The sum is split into
    /// vector lanes (j mod lanes) and reduced in a fixed order, so it is deterministic.
    /// </summary>
    public static void WeightedSums<T>(ReadOnlySpan<T> w, int ldw, ReadOnlySpan<int> rows, ReadOnlySpan<T> vT, int ldv, int dv, int cols, Span<T> o, int ldo)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int nr = rows.Length;
        if (nr < 1 || nr > RowTile || dv < 1 || cols % Padding<T>() != 0 || cols > ldw || cols > ldv || ldo < dv
            || vT.Length < (dv - 1) * ldv + cols || o.Length < (nr - 1) * ldo + dv)
            throw new ArgumentException("value tile shapes are inconsistent");
        foreach (int r in rows)
            if (r < 0 || w.Length < r * ldw + cols) throw new ArgumentException("value tile shapes are inconsistent");
        // Missing rows repeat the last one; their results are discarded.
        ref T w0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(w), rows[0] * ldw);
        ref T w1 = ref Unsafe.Add(ref MemoryMarshal.GetReference(w), rows[Math.Min(1, nr - 1)] * ldw);
        ref T w2 = ref Unsafe.Add(ref MemoryMarshal.GetReference(w), rows[Math.Min(2, nr - 1)] * ldw);
        ref T w3 = ref Unsafe.Add(ref MemoryMarshal.GetReference(w), rows[Math.Min(3, nr - 1)] * ldw);
        ref T v = ref MemoryMarshal.GetReference(vT);
        Span<T> tmp = stackalloc T[RowTile * 4];
        int v0 = 0;
        while (v0 < dv)
        {
            int chunk = dv - v0 >= 4 ? 4 : dv - v0 >= 2 ? 2 : 1;
            ref T vv = ref Unsafe.Add(ref v, v0 * ldv);
            if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            {
                if (chunk == 4) Sums512x4(ref w0, ref w1, ref w2, ref w3, ref vv, (nuint)ldv, (nuint)cols, tmp);
                else if (chunk == 2) Sums512x2(ref w0, ref w1, ref w2, ref w3, ref vv, (nuint)ldv, (nuint)cols, tmp);
                else Sums512x1(ref w0, ref w1, ref w2, ref w3, ref vv, (nuint)cols, tmp);
            }
            else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            {
                if (chunk == 4) Sums256x4(ref w0, ref w1, ref w2, ref w3, ref vv, (nuint)ldv, (nuint)cols, tmp);
                else if (chunk == 2) Sums256x2(ref w0, ref w1, ref w2, ref w3, ref vv, (nuint)ldv, (nuint)cols, tmp);
                else Sums256x1(ref w0, ref w1, ref w2, ref w3, ref vv, (nuint)cols, tmp);
            }
            else SumsScalar(ref w0, ref w1, ref w2, ref w3, ref vv, (nuint)ldv, chunk, (nuint)cols, tmp);
            for (int r = 0; r < nr; r++)
                for (int c = 0; c < chunk; c++) o[r * ldo + v0 + c] = tmp[r * 4 + c];
            v0 += chunk;
        }
    }

    // ---------------------------------------------------------------- helpers

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Fma<T>(Vector512<T> a, Vector512<T> b, Vector512<T> c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double)) return Vector512.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        if (typeof(T) == typeof(float)) return Vector512.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        return a * b + c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> Fma<T>(Vector256<T> a, Vector256<T> b, Vector256<T> c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double)) return Vector256.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        if (typeof(T) == typeof(float)) return Vector256.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        return a * b + c;
    }

    // ---------------------------------------------------------------- scores, Vector512

    private static void Scores512<T>(ref T q, nuint ldq, ref T k, nuint ldk, int dk, nuint cols, ref T s, nuint lds)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nuint L = (nuint)Vector512<T>.Count;
        ref T s0 = ref s; ref T s1 = ref Unsafe.Add(ref s, lds); ref T s2 = ref Unsafe.Add(ref s, 2 * lds); ref T s3 = ref Unsafe.Add(ref s, 3 * lds);
        nuint j = 0;
        for (; j + 4 * L <= cols; j += 4 * L)
        {
            ref T kj = ref Unsafe.Add(ref k, j);
            var k0 = Vector512.LoadUnsafe(ref kj); var k1 = Vector512.LoadUnsafe(ref kj, L);
            var k2 = Vector512.LoadUnsafe(ref kj, 2 * L); var k3 = Vector512.LoadUnsafe(ref kj, 3 * L);
            var b = Vector512.Create(q);
            Vector512<T> c00 = b * k0, c01 = b * k1, c02 = b * k2, c03 = b * k3;
            b = Vector512.Create(Unsafe.Add(ref q, 1));
            Vector512<T> c10 = b * k0, c11 = b * k1, c12 = b * k2, c13 = b * k3;
            b = Vector512.Create(Unsafe.Add(ref q, 2));
            Vector512<T> c20 = b * k0, c21 = b * k1, c22 = b * k2, c23 = b * k3;
            b = Vector512.Create(Unsafe.Add(ref q, 3));
            Vector512<T> c30 = b * k0, c31 = b * k1, c32 = b * k2, c33 = b * k3;
            ref T qa = ref q;
            for (int a = 1; a < dk; a++)
            {
                kj = ref Unsafe.Add(ref kj, ldk);
                qa = ref Unsafe.Add(ref qa, ldq);
                k0 = Vector512.LoadUnsafe(ref kj); k1 = Vector512.LoadUnsafe(ref kj, L);
                k2 = Vector512.LoadUnsafe(ref kj, 2 * L); k3 = Vector512.LoadUnsafe(ref kj, 3 * L);
                b = Vector512.Create(qa);
                c00 = Fma(b, k0, c00); c01 = Fma(b, k1, c01); c02 = Fma(b, k2, c02); c03 = Fma(b, k3, c03);
                b = Vector512.Create(Unsafe.Add(ref qa, 1));
                c10 = Fma(b, k0, c10); c11 = Fma(b, k1, c11); c12 = Fma(b, k2, c12); c13 = Fma(b, k3, c13);
                b = Vector512.Create(Unsafe.Add(ref qa, 2));
                c20 = Fma(b, k0, c20); c21 = Fma(b, k1, c21); c22 = Fma(b, k2, c22); c23 = Fma(b, k3, c23);
                b = Vector512.Create(Unsafe.Add(ref qa, 3));
                c30 = Fma(b, k0, c30); c31 = Fma(b, k1, c31); c32 = Fma(b, k2, c32); c33 = Fma(b, k3, c33);
            }
            c00.StoreUnsafe(ref s0, j); c01.StoreUnsafe(ref s0, j + L); c02.StoreUnsafe(ref s0, j + 2 * L); c03.StoreUnsafe(ref s0, j + 3 * L);
            c10.StoreUnsafe(ref s1, j); c11.StoreUnsafe(ref s1, j + L); c12.StoreUnsafe(ref s1, j + 2 * L); c13.StoreUnsafe(ref s1, j + 3 * L);
            c20.StoreUnsafe(ref s2, j); c21.StoreUnsafe(ref s2, j + L); c22.StoreUnsafe(ref s2, j + 2 * L); c23.StoreUnsafe(ref s2, j + 3 * L);
            c30.StoreUnsafe(ref s3, j); c31.StoreUnsafe(ref s3, j + L); c32.StoreUnsafe(ref s3, j + 2 * L); c33.StoreUnsafe(ref s3, j + 3 * L);
        }
        for (; j < cols; j += L)
        {
            ref T kj = ref Unsafe.Add(ref k, j);
            var k0 = Vector512.LoadUnsafe(ref kj);
            Vector512<T> c0 = Vector512.Create(q) * k0, c1 = Vector512.Create(Unsafe.Add(ref q, 1)) * k0;
            Vector512<T> c2 = Vector512.Create(Unsafe.Add(ref q, 2)) * k0, c3 = Vector512.Create(Unsafe.Add(ref q, 3)) * k0;
            ref T qa = ref q;
            for (int a = 1; a < dk; a++)
            {
                kj = ref Unsafe.Add(ref kj, ldk);
                qa = ref Unsafe.Add(ref qa, ldq);
                k0 = Vector512.LoadUnsafe(ref kj);
                c0 = Fma(Vector512.Create(qa), k0, c0); c1 = Fma(Vector512.Create(Unsafe.Add(ref qa, 1)), k0, c1);
                c2 = Fma(Vector512.Create(Unsafe.Add(ref qa, 2)), k0, c2); c3 = Fma(Vector512.Create(Unsafe.Add(ref qa, 3)), k0, c3);
            }
            c0.StoreUnsafe(ref s0, j); c1.StoreUnsafe(ref s1, j); c2.StoreUnsafe(ref s2, j); c3.StoreUnsafe(ref s3, j);
        }
    }

    private static void ScoresPacked512<T>(ref T q, nuint ldq, ref T k, int dk, nuint cols, ref T s, nuint lds)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nuint L = (nuint)Vector512<T>.Count;
        ref T s0 = ref s; ref T s1 = ref Unsafe.Add(ref s, lds); ref T s2 = ref Unsafe.Add(ref s, 2 * lds); ref T s3 = ref Unsafe.Add(ref s, 3 * lds);
        nuint j = 0;
        ref T kj = ref k;                      // start of the current panel
        for (; j + 4 * L <= cols; j += 4 * L)
        {
            var k0 = Vector512.LoadUnsafe(ref kj); var k1 = Vector512.LoadUnsafe(ref kj, L);
            var k2 = Vector512.LoadUnsafe(ref kj, 2 * L); var k3 = Vector512.LoadUnsafe(ref kj, 3 * L);
            var b = Vector512.Create(q);
            Vector512<T> c00 = b * k0, c01 = b * k1, c02 = b * k2, c03 = b * k3;
            b = Vector512.Create(Unsafe.Add(ref q, 1));
            Vector512<T> c10 = b * k0, c11 = b * k1, c12 = b * k2, c13 = b * k3;
            b = Vector512.Create(Unsafe.Add(ref q, 2));
            Vector512<T> c20 = b * k0, c21 = b * k1, c22 = b * k2, c23 = b * k3;
            b = Vector512.Create(Unsafe.Add(ref q, 3));
            Vector512<T> c30 = b * k0, c31 = b * k1, c32 = b * k2, c33 = b * k3;
            ref T qa = ref q;
            for (int a = 1; a < dk; a++)
            {
                kj = ref Unsafe.Add(ref kj, 4 * L);
                qa = ref Unsafe.Add(ref qa, ldq);
                k0 = Vector512.LoadUnsafe(ref kj); k1 = Vector512.LoadUnsafe(ref kj, L);
                k2 = Vector512.LoadUnsafe(ref kj, 2 * L); k3 = Vector512.LoadUnsafe(ref kj, 3 * L);
                b = Vector512.Create(qa);
                c00 = Fma(b, k0, c00); c01 = Fma(b, k1, c01); c02 = Fma(b, k2, c02); c03 = Fma(b, k3, c03);
                b = Vector512.Create(Unsafe.Add(ref qa, 1));
                c10 = Fma(b, k0, c10); c11 = Fma(b, k1, c11); c12 = Fma(b, k2, c12); c13 = Fma(b, k3, c13);
                b = Vector512.Create(Unsafe.Add(ref qa, 2));
                c20 = Fma(b, k0, c20); c21 = Fma(b, k1, c21); c22 = Fma(b, k2, c22); c23 = Fma(b, k3, c23);
                b = Vector512.Create(Unsafe.Add(ref qa, 3));
                c30 = Fma(b, k0, c30); c31 = Fma(b, k1, c31); c32 = Fma(b, k2, c32); c33 = Fma(b, k3, c33);
            }
            kj = ref Unsafe.Add(ref kj, 4 * L);
            c00.StoreUnsafe(ref s0, j); c01.StoreUnsafe(ref s0, j + L); c02.StoreUnsafe(ref s0, j + 2 * L); c03.StoreUnsafe(ref s0, j + 3 * L);
            c10.StoreUnsafe(ref s1, j); c11.StoreUnsafe(ref s1, j + L); c12.StoreUnsafe(ref s1, j + 2 * L); c13.StoreUnsafe(ref s1, j + 3 * L);
            c20.StoreUnsafe(ref s2, j); c21.StoreUnsafe(ref s2, j + L); c22.StoreUnsafe(ref s2, j + 2 * L); c23.StoreUnsafe(ref s2, j + 3 * L);
            c30.StoreUnsafe(ref s3, j); c31.StoreUnsafe(ref s3, j + L); c32.StoreUnsafe(ref s3, j + 2 * L); c33.StoreUnsafe(ref s3, j + 3 * L);
        }
        for (; j < cols; j += L)
        {
            var k0 = Vector512.LoadUnsafe(ref kj);
            Vector512<T> c0 = Vector512.Create(q) * k0, c1 = Vector512.Create(Unsafe.Add(ref q, 1)) * k0;
            Vector512<T> c2 = Vector512.Create(Unsafe.Add(ref q, 2)) * k0, c3 = Vector512.Create(Unsafe.Add(ref q, 3)) * k0;
            ref T qa = ref q;
            for (int a = 1; a < dk; a++)
            {
                kj = ref Unsafe.Add(ref kj, L);
                qa = ref Unsafe.Add(ref qa, ldq);
                k0 = Vector512.LoadUnsafe(ref kj);
                c0 = Fma(Vector512.Create(qa), k0, c0); c1 = Fma(Vector512.Create(Unsafe.Add(ref qa, 1)), k0, c1);
                c2 = Fma(Vector512.Create(Unsafe.Add(ref qa, 2)), k0, c2); c3 = Fma(Vector512.Create(Unsafe.Add(ref qa, 3)), k0, c3);
            }
            kj = ref Unsafe.Add(ref kj, L);
            c0.StoreUnsafe(ref s0, j); c1.StoreUnsafe(ref s1, j); c2.StoreUnsafe(ref s2, j); c3.StoreUnsafe(ref s3, j);
        }
    }

    // ---------------------------------------------------------------- scores, Vector256

    private static void Scores256<T>(ref T q, nuint ldq, ref T k, nuint ldk, int dk, nuint cols, ref T s, nuint lds)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nuint L = (nuint)Vector256<T>.Count;
        ref T s0 = ref s; ref T s1 = ref Unsafe.Add(ref s, lds); ref T s2 = ref Unsafe.Add(ref s, 2 * lds); ref T s3 = ref Unsafe.Add(ref s, 3 * lds);
        nuint j = 0;
        for (; j + 2 * L <= cols; j += 2 * L)
        {
            ref T kj = ref Unsafe.Add(ref k, j);
            var k0 = Vector256.LoadUnsafe(ref kj); var k1 = Vector256.LoadUnsafe(ref kj, L);
            var b = Vector256.Create(q);
            Vector256<T> c00 = b * k0, c01 = b * k1;
            b = Vector256.Create(Unsafe.Add(ref q, 1));
            Vector256<T> c10 = b * k0, c11 = b * k1;
            b = Vector256.Create(Unsafe.Add(ref q, 2));
            Vector256<T> c20 = b * k0, c21 = b * k1;
            b = Vector256.Create(Unsafe.Add(ref q, 3));
            Vector256<T> c30 = b * k0, c31 = b * k1;
            ref T qa = ref q;
            for (int a = 1; a < dk; a++)
            {
                kj = ref Unsafe.Add(ref kj, ldk);
                qa = ref Unsafe.Add(ref qa, ldq);
                k0 = Vector256.LoadUnsafe(ref kj); k1 = Vector256.LoadUnsafe(ref kj, L);
                b = Vector256.Create(qa); c00 = Fma(b, k0, c00); c01 = Fma(b, k1, c01);
                b = Vector256.Create(Unsafe.Add(ref qa, 1)); c10 = Fma(b, k0, c10); c11 = Fma(b, k1, c11);
                b = Vector256.Create(Unsafe.Add(ref qa, 2)); c20 = Fma(b, k0, c20); c21 = Fma(b, k1, c21);
                b = Vector256.Create(Unsafe.Add(ref qa, 3)); c30 = Fma(b, k0, c30); c31 = Fma(b, k1, c31);
            }
            c00.StoreUnsafe(ref s0, j); c01.StoreUnsafe(ref s0, j + L);
            c10.StoreUnsafe(ref s1, j); c11.StoreUnsafe(ref s1, j + L);
            c20.StoreUnsafe(ref s2, j); c21.StoreUnsafe(ref s2, j + L);
            c30.StoreUnsafe(ref s3, j); c31.StoreUnsafe(ref s3, j + L);
        }
        for (; j < cols; j += L)
        {
            ref T kj = ref Unsafe.Add(ref k, j);
            var k0 = Vector256.LoadUnsafe(ref kj);
            Vector256<T> c0 = Vector256.Create(q) * k0, c1 = Vector256.Create(Unsafe.Add(ref q, 1)) * k0;
            Vector256<T> c2 = Vector256.Create(Unsafe.Add(ref q, 2)) * k0, c3 = Vector256.Create(Unsafe.Add(ref q, 3)) * k0;
            ref T qa = ref q;
            for (int a = 1; a < dk; a++)
            {
                kj = ref Unsafe.Add(ref kj, ldk);
                qa = ref Unsafe.Add(ref qa, ldq);
                k0 = Vector256.LoadUnsafe(ref kj);
                c0 = Fma(Vector256.Create(qa), k0, c0); c1 = Fma(Vector256.Create(Unsafe.Add(ref qa, 1)), k0, c1);
                c2 = Fma(Vector256.Create(Unsafe.Add(ref qa, 2)), k0, c2); c3 = Fma(Vector256.Create(Unsafe.Add(ref qa, 3)), k0, c3);
            }
            c0.StoreUnsafe(ref s0, j); c1.StoreUnsafe(ref s1, j); c2.StoreUnsafe(ref s2, j); c3.StoreUnsafe(ref s3, j);
        }
    }

    private static void ScoresScalar<T>(ref T q, nuint ldq, ref T k, nuint ldk, int dk, nuint cols, ref T s, nuint lds)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (nuint r = 0; r < RowTile; r++)
            for (nuint j = 0; j < cols; j++)
            {
                T acc = Unsafe.Add(ref q, r) * Unsafe.Add(ref k, j);
                for (int a = 1; a < dk; a++)
                    acc = T.FusedMultiplyAdd(Unsafe.Add(ref q, (nuint)a * ldq + r), Unsafe.Add(ref k, (nuint)a * ldk + j), acc);
                Unsafe.Add(ref s, r * lds + j) = acc;
            }
    }

    // ---------------------------------------------------------------- weighted sums, Vector512

    private static void Sums512x4<T>(ref T w0, ref T w1, ref T w2, ref T w3, ref T v, nuint ldv, nuint cols, Span<T> o)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nuint L = (nuint)Vector512<T>.Count;
        ref T v1 = ref Unsafe.Add(ref v, ldv); ref T v2 = ref Unsafe.Add(ref v, 2 * ldv); ref T v3 = ref Unsafe.Add(ref v, 3 * ldv);
        Vector512<T> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<T> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        for (nuint j = 0; j < cols; j += L)
        {
            var b0 = Vector512.LoadUnsafe(ref v, j); var b1 = Vector512.LoadUnsafe(ref v1, j);
            var b2 = Vector512.LoadUnsafe(ref v2, j); var b3 = Vector512.LoadUnsafe(ref v3, j);
            var a = Vector512.LoadUnsafe(ref w0, j);
            c00 = Fma(a, b0, c00); c01 = Fma(a, b1, c01); c02 = Fma(a, b2, c02); c03 = Fma(a, b3, c03);
            a = Vector512.LoadUnsafe(ref w1, j);
            c10 = Fma(a, b0, c10); c11 = Fma(a, b1, c11); c12 = Fma(a, b2, c12); c13 = Fma(a, b3, c13);
            a = Vector512.LoadUnsafe(ref w2, j);
            c20 = Fma(a, b0, c20); c21 = Fma(a, b1, c21); c22 = Fma(a, b2, c22); c23 = Fma(a, b3, c23);
            a = Vector512.LoadUnsafe(ref w3, j);
            c30 = Fma(a, b0, c30); c31 = Fma(a, b1, c31); c32 = Fma(a, b2, c32); c33 = Fma(a, b3, c33);
        }
        o[0] = Vector512.Sum(c00); o[1] = Vector512.Sum(c01); o[2] = Vector512.Sum(c02); o[3] = Vector512.Sum(c03);
        o[4] = Vector512.Sum(c10); o[5] = Vector512.Sum(c11); o[6] = Vector512.Sum(c12); o[7] = Vector512.Sum(c13);
        o[8] = Vector512.Sum(c20); o[9] = Vector512.Sum(c21); o[10] = Vector512.Sum(c22); o[11] = Vector512.Sum(c23);
        o[12] = Vector512.Sum(c30); o[13] = Vector512.Sum(c31); o[14] = Vector512.Sum(c32); o[15] = Vector512.Sum(c33);
    }

    private static void Sums512x2<T>(ref T w0, ref T w1, ref T w2, ref T w3, ref T v, nuint ldv, nuint cols, Span<T> o)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nuint L = (nuint)Vector512<T>.Count;
        ref T v1 = ref Unsafe.Add(ref v, ldv);
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        for (nuint j = 0; j < cols; j += L)
        {
            var b0 = Vector512.LoadUnsafe(ref v, j); var b1 = Vector512.LoadUnsafe(ref v1, j);
            var a = Vector512.LoadUnsafe(ref w0, j); c00 = Fma(a, b0, c00); c01 = Fma(a, b1, c01);
            a = Vector512.LoadUnsafe(ref w1, j); c10 = Fma(a, b0, c10); c11 = Fma(a, b1, c11);
            a = Vector512.LoadUnsafe(ref w2, j); c20 = Fma(a, b0, c20); c21 = Fma(a, b1, c21);
            a = Vector512.LoadUnsafe(ref w3, j); c30 = Fma(a, b0, c30); c31 = Fma(a, b1, c31);
        }
        o[0] = Vector512.Sum(c00); o[1] = Vector512.Sum(c01);
        o[4] = Vector512.Sum(c10); o[5] = Vector512.Sum(c11);
        o[8] = Vector512.Sum(c20); o[9] = Vector512.Sum(c21);
        o[12] = Vector512.Sum(c30); o[13] = Vector512.Sum(c31);
    }

    private static void Sums512x1<T>(ref T w0, ref T w1, ref T w2, ref T w3, ref T v, nuint cols, Span<T> o)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nuint L = (nuint)Vector512<T>.Count;
        Vector512<T> c0 = default, c1 = default, c2 = default, c3 = default;
        for (nuint j = 0; j < cols; j += L)
        {
            var b0 = Vector512.LoadUnsafe(ref v, j);
            c0 = Fma(Vector512.LoadUnsafe(ref w0, j), b0, c0); c1 = Fma(Vector512.LoadUnsafe(ref w1, j), b0, c1);
            c2 = Fma(Vector512.LoadUnsafe(ref w2, j), b0, c2); c3 = Fma(Vector512.LoadUnsafe(ref w3, j), b0, c3);
        }
        o[0] = Vector512.Sum(c0); o[4] = Vector512.Sum(c1); o[8] = Vector512.Sum(c2); o[12] = Vector512.Sum(c3);
    }

    // ---------------------------------------------------------------- weighted sums, Vector256

    private static void Sums256x4<T>(ref T w0, ref T w1, ref T w2, ref T w3, ref T v, nuint ldv, nuint cols, Span<T> o)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nuint L = (nuint)Vector256<T>.Count;
        ref T v1 = ref Unsafe.Add(ref v, ldv); ref T v2 = ref Unsafe.Add(ref v, 2 * ldv); ref T v3 = ref Unsafe.Add(ref v, 3 * ldv);
        Vector256<T> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        Vector256<T> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        for (nuint j = 0; j < cols; j += L)
        {
            var b0 = Vector256.LoadUnsafe(ref v, j); var b1 = Vector256.LoadUnsafe(ref v1, j);
            var b2 = Vector256.LoadUnsafe(ref v2, j); var b3 = Vector256.LoadUnsafe(ref v3, j);
            var a = Vector256.LoadUnsafe(ref w0, j);
            c00 = Fma(a, b0, c00); c01 = Fma(a, b1, c01); c02 = Fma(a, b2, c02); c03 = Fma(a, b3, c03);
            a = Vector256.LoadUnsafe(ref w1, j);
            c10 = Fma(a, b0, c10); c11 = Fma(a, b1, c11); c12 = Fma(a, b2, c12); c13 = Fma(a, b3, c13);
            a = Vector256.LoadUnsafe(ref w2, j);
            c20 = Fma(a, b0, c20); c21 = Fma(a, b1, c21); c22 = Fma(a, b2, c22); c23 = Fma(a, b3, c23);
            a = Vector256.LoadUnsafe(ref w3, j);
            c30 = Fma(a, b0, c30); c31 = Fma(a, b1, c31); c32 = Fma(a, b2, c32); c33 = Fma(a, b3, c33);
        }
        o[0] = Vector256.Sum(c00); o[1] = Vector256.Sum(c01); o[2] = Vector256.Sum(c02); o[3] = Vector256.Sum(c03);
        o[4] = Vector256.Sum(c10); o[5] = Vector256.Sum(c11); o[6] = Vector256.Sum(c12); o[7] = Vector256.Sum(c13);
        o[8] = Vector256.Sum(c20); o[9] = Vector256.Sum(c21); o[10] = Vector256.Sum(c22); o[11] = Vector256.Sum(c23);
        o[12] = Vector256.Sum(c30); o[13] = Vector256.Sum(c31); o[14] = Vector256.Sum(c32); o[15] = Vector256.Sum(c33);
    }

    private static void Sums256x2<T>(ref T w0, ref T w1, ref T w2, ref T w3, ref T v, nuint ldv, nuint cols, Span<T> o)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nuint L = (nuint)Vector256<T>.Count;
        ref T v1 = ref Unsafe.Add(ref v, ldv);
        Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        for (nuint j = 0; j < cols; j += L)
        {
            var b0 = Vector256.LoadUnsafe(ref v, j); var b1 = Vector256.LoadUnsafe(ref v1, j);
            var a = Vector256.LoadUnsafe(ref w0, j); c00 = Fma(a, b0, c00); c01 = Fma(a, b1, c01);
            a = Vector256.LoadUnsafe(ref w1, j); c10 = Fma(a, b0, c10); c11 = Fma(a, b1, c11);
            a = Vector256.LoadUnsafe(ref w2, j); c20 = Fma(a, b0, c20); c21 = Fma(a, b1, c21);
            a = Vector256.LoadUnsafe(ref w3, j); c30 = Fma(a, b0, c30); c31 = Fma(a, b1, c31);
        }
        o[0] = Vector256.Sum(c00); o[1] = Vector256.Sum(c01);
        o[4] = Vector256.Sum(c10); o[5] = Vector256.Sum(c11);
        o[8] = Vector256.Sum(c20); o[9] = Vector256.Sum(c21);
        o[12] = Vector256.Sum(c30); o[13] = Vector256.Sum(c31);
    }

    private static void Sums256x1<T>(ref T w0, ref T w1, ref T w2, ref T w3, ref T v, nuint cols, Span<T> o)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nuint L = (nuint)Vector256<T>.Count;
        Vector256<T> c0 = default, c1 = default, c2 = default, c3 = default;
        for (nuint j = 0; j < cols; j += L)
        {
            var b0 = Vector256.LoadUnsafe(ref v, j);
            c0 = Fma(Vector256.LoadUnsafe(ref w0, j), b0, c0); c1 = Fma(Vector256.LoadUnsafe(ref w1, j), b0, c1);
            c2 = Fma(Vector256.LoadUnsafe(ref w2, j), b0, c2); c3 = Fma(Vector256.LoadUnsafe(ref w3, j), b0, c3);
        }
        o[0] = Vector256.Sum(c0); o[4] = Vector256.Sum(c1); o[8] = Vector256.Sum(c2); o[12] = Vector256.Sum(c3);
    }

    private static void SumsScalar<T>(ref T w0, ref T w1, ref T w2, ref T w3, ref T v, nuint ldv, int chunk, nuint cols, Span<T> o)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int c = 0; c < chunk; c++)
        {
            ref T vc = ref Unsafe.Add(ref v, (nuint)c * ldv);
            T a0 = T.Zero, a1 = T.Zero, a2 = T.Zero, a3 = T.Zero;
            for (nuint j = 0; j < cols; j++)
            {
                T b = Unsafe.Add(ref vc, j);
                a0 = T.FusedMultiplyAdd(Unsafe.Add(ref w0, j), b, a0); a1 = T.FusedMultiplyAdd(Unsafe.Add(ref w1, j), b, a1);
                a2 = T.FusedMultiplyAdd(Unsafe.Add(ref w2, j), b, a2); a3 = T.FusedMultiplyAdd(Unsafe.Add(ref w3, j), b, a3);
            }
            o[c] = a0; o[4 + c] = a1; o[8 + c] = a2; o[12 + c] = a3;
        }
    }
}
