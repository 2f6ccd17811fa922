using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MorIcl.Training.Gpt;

/// <summary>
/// Register-blocked matrix product C (+)= A·B for the GPT encoder. A is addressed by strides
/// (element (i, k) at a[i·ars + k·acs]) so one kernel serves A·B (ars = lda, acs = 1) and Aᵀ·B
/// (ars = 1, acs = lda); B and C are row-major with leading dimensions ldb, ldc. The micro-kernel keeps
/// a 6 × (4 vectors) tile of C in 24 Vector512 accumulators (6 broadcasts and 4 loads per 24 FMAs) and runs k with FMAs (a B row panel is
/// reused across every row block); tails use 6×2, 1-row and 1-vector kernels (a last partial vector when B is padded), then scalars. Without
/// hardware Vector512 it falls back to a scalar loop. The summation order over k is fixed, so results
/// depend only on the shapes, never on threads.
/// </summary>
internal static class GptGemm<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int Mr = 6;
    /// <summary>Set by tests to exercise the scalar path on AVX-512 machines.</summary>
    internal static bool ForceScalar;

    public static void Multiply(int m, int n, int k, ReadOnlySpan<T> a, int ars, int acs, ReadOnlySpan<T> b, int ldb,
        Span<T> c, int ldc, bool accumulate)
    {
        if (m <= 0 || n <= 0) return;
        if (k <= 0)
        {
            if (!accumulate) for (int i = 0; i < m; i++) c.Slice(i * ldc, n).Clear();
            return;
        }
        if ((long)(m - 1) * ars + (long)(k - 1) * acs >= a.Length) throw new ArgumentException("A is too short for the product");
        if ((long)(k - 1) * ldb + n > b.Length) throw new ArgumentException("B is too short for the product");
        if ((long)(m - 1) * ldc + n > c.Length) throw new ArgumentException("C is too short for the product");
        ref T ar = ref MemoryMarshal.GetReference(a);
        ref T br = ref MemoryMarshal.GetReference(b);
        ref T cr = ref MemoryMarshal.GetReference(c);
        int j = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported && !ForceScalar)
        {
            int w = Vector512<T>.Count;
            for (; j + 4 * w <= n; j += 4 * w)
            {
                int i = 0;
                for (; i + Mr <= m; i += Mr) Kernel6x4(k, ref Unsafe.Add(ref ar, i * ars), ars, acs, ref Unsafe.Add(ref br, j), ldb, ref Unsafe.Add(ref cr, i * ldc + j), ldc, accumulate);
                for (; i < m; i++) Kernel1x4(k, ref Unsafe.Add(ref ar, i * ars), acs, ref Unsafe.Add(ref br, j), ldb, ref Unsafe.Add(ref cr, i * ldc + j), accumulate);
            }
            for (; j + 2 * w <= n; j += 2 * w)
            {
                int i = 0;
                for (; i + Mr <= m; i += Mr) Kernel6x2(k, ref Unsafe.Add(ref ar, i * ars), ars, acs, ref Unsafe.Add(ref br, j), ldb, ref Unsafe.Add(ref cr, i * ldc + j), ldc, accumulate);
                for (; i < m; i++) Kernel1x2(k, ref Unsafe.Add(ref ar, i * ars), acs, ref Unsafe.Add(ref br, j), ldb, ref Unsafe.Add(ref cr, i * ldc + j), accumulate);
            }
            // Full vectors, then a partial one when B may be read a whole vector past column n (the extra
            // lanes are computed and dropped; lanes do not interact).
            for (; j < n && (j + w <= n || (long)(k - 1) * ldb + j + w <= b.Length); j += w)
            {
                int count = Math.Min(w, n - j), i = 0;
                for (; i + Mr <= m; i += Mr) Kernel6x1(k, ref Unsafe.Add(ref ar, i * ars), ars, acs, ref Unsafe.Add(ref br, j), ldb, ref Unsafe.Add(ref cr, i * ldc + j), ldc, count, accumulate);
                for (; i < m; i++) Kernel1x1(k, ref Unsafe.Add(ref ar, i * ars), acs, ref Unsafe.Add(ref br, j), ldb, ref Unsafe.Add(ref cr, i * ldc + j), count, accumulate);
            }
            if (j > n) j = n;
        }
        for (int i = 0; i < m && j < n; i++)
        {
            for (int jj = j; jj < n; jj++)
            {
                T s = T.Zero;
                for (int kk = 0; kk < k; kk++)
                    s = T.FusedMultiplyAdd(Unsafe.Add(ref ar, i * ars + kk * acs), Unsafe.Add(ref br, kk * ldb + jj), s);
                ref T cij = ref Unsafe.Add(ref cr, i * ldc + jj);
                cij = accumulate ? cij + s : s;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Fma(Vector512<T> x, Vector512<T> y, Vector512<T> z)
    {
        if (typeof(T) == typeof(float)) return Vector512.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), z.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector512.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), z.AsDouble()).As<double, T>();
        return x * y + z;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector512<T> v, ref T c, int offset, bool accumulate)
    {
        if (accumulate) v += Vector512.LoadUnsafe(ref c, (nuint)offset);
        v.StoreUnsafe(ref c, (nuint)offset);
    }

    /// <summary>Stores the first <paramref name="count"/> lanes of v.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector512<T> v, ref T c, int offset, int count, bool accumulate)
    {
        if (count == Vector512<T>.Count) { Store(v, ref c, offset, accumulate); return; }
        StorePartial(v, ref c, offset, count, accumulate);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StorePartial(Vector512<T> v, ref T c, int offset, int count, bool accumulate)
    {
        for (int l = 0; l < count; l++)
        {
            ref T t = ref Unsafe.Add(ref c, offset + l);
            t = accumulate ? t + v.GetElement(l) : v.GetElement(l);
        }
    }

    private static void Kernel6x4(int k, ref T a, int ars, int acs, ref T b, int ldb, ref T c, int ldc, bool accumulate)
    {
        int w = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default,
            c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default,
            c40 = default, c41 = default, c42 = default, c43 = default, c50 = default, c51 = default, c52 = default, c53 = default;
        int r1 = ars, r2 = 2 * ars, r3 = 3 * ars, r4 = 4 * ars, r5 = 5 * ars;
        for (int kk = 0; kk < k; kk++)
        {
            ref T bk = ref Unsafe.Add(ref b, kk * ldb);
            var b0 = Vector512.LoadUnsafe(ref bk);
            var b1 = Vector512.LoadUnsafe(ref bk, (nuint)w);
            var b2 = Vector512.LoadUnsafe(ref bk, (nuint)(2 * w));
            var b3 = Vector512.LoadUnsafe(ref bk, (nuint)(3 * w));
            ref T ak = ref Unsafe.Add(ref a, kk * acs);
            var a0 = Vector512.Create(ak);
            c00 = Fma(a0, b0, c00); c01 = Fma(a0, b1, c01); c02 = Fma(a0, b2, c02); c03 = Fma(a0, b3, c03);
            var a1 = Vector512.Create(Unsafe.Add(ref ak, r1));
            c10 = Fma(a1, b0, c10); c11 = Fma(a1, b1, c11); c12 = Fma(a1, b2, c12); c13 = Fma(a1, b3, c13);
            var a2 = Vector512.Create(Unsafe.Add(ref ak, r2));
            c20 = Fma(a2, b0, c20); c21 = Fma(a2, b1, c21); c22 = Fma(a2, b2, c22); c23 = Fma(a2, b3, c23);
            var a3 = Vector512.Create(Unsafe.Add(ref ak, r3));
            c30 = Fma(a3, b0, c30); c31 = Fma(a3, b1, c31); c32 = Fma(a3, b2, c32); c33 = Fma(a3, b3, c33);
            var a4 = Vector512.Create(Unsafe.Add(ref ak, r4));
            c40 = Fma(a4, b0, c40); c41 = Fma(a4, b1, c41); c42 = Fma(a4, b2, c42); c43 = Fma(a4, b3, c43);
            var a5 = Vector512.Create(Unsafe.Add(ref ak, r5));
            c50 = Fma(a5, b0, c50); c51 = Fma(a5, b1, c51); c52 = Fma(a5, b2, c52); c53 = Fma(a5, b3, c53);
        }
        Store(c00, ref c, 0, accumulate); Store(c01, ref c, w, accumulate); Store(c02, ref c, 2 * w, accumulate); Store(c03, ref c, 3 * w, accumulate);
        ref T c1 = ref Unsafe.Add(ref c, ldc);
        Store(c10, ref c1, 0, accumulate); Store(c11, ref c1, w, accumulate); Store(c12, ref c1, 2 * w, accumulate); Store(c13, ref c1, 3 * w, accumulate);
        ref T c2 = ref Unsafe.Add(ref c, 2 * ldc);
        Store(c20, ref c2, 0, accumulate); Store(c21, ref c2, w, accumulate); Store(c22, ref c2, 2 * w, accumulate); Store(c23, ref c2, 3 * w, accumulate);
        ref T c3 = ref Unsafe.Add(ref c, 3 * ldc);
        Store(c30, ref c3, 0, accumulate); Store(c31, ref c3, w, accumulate); Store(c32, ref c3, 2 * w, accumulate); Store(c33, ref c3, 3 * w, accumulate);
        ref T c4 = ref Unsafe.Add(ref c, 4 * ldc);
        Store(c40, ref c4, 0, accumulate); Store(c41, ref c4, w, accumulate); Store(c42, ref c4, 2 * w, accumulate); Store(c43, ref c4, 3 * w, accumulate);
        ref T c5 = ref Unsafe.Add(ref c, 5 * ldc);
        Store(c50, ref c5, 0, accumulate); Store(c51, ref c5, w, accumulate); Store(c52, ref c5, 2 * w, accumulate); Store(c53, ref c5, 3 * w, accumulate);
    }

    private static void Kernel1x4(int k, ref T a, int acs, ref T b, int ldb, ref T c, bool accumulate)
    {
        int w = Vector512<T>.Count;
        Vector512<T> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int kk = 0; kk < k; kk++)
        {
            ref T bk = ref Unsafe.Add(ref b, kk * ldb);
            var a0 = Vector512.Create(Unsafe.Add(ref a, kk * acs));
            c0 = Fma(a0, Vector512.LoadUnsafe(ref bk), c0);
            c1 = Fma(a0, Vector512.LoadUnsafe(ref bk, (nuint)w), c1);
            c2 = Fma(a0, Vector512.LoadUnsafe(ref bk, (nuint)(2 * w)), c2);
            c3 = Fma(a0, Vector512.LoadUnsafe(ref bk, (nuint)(3 * w)), c3);
        }
        Store(c0, ref c, 0, accumulate); Store(c1, ref c, w, accumulate); Store(c2, ref c, 2 * w, accumulate); Store(c3, ref c, 3 * w, accumulate);
    }

    private static void Kernel6x2(int k, ref T a, int ars, int acs, ref T b, int ldb, ref T c, int ldc, bool accumulate)
    {
        int w = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        int r1 = ars, r2 = 2 * ars, r3 = 3 * ars, r4 = 4 * ars, r5 = 5 * ars;
        for (int kk = 0; kk < k; kk++)
        {
            var b0 = Vector512.LoadUnsafe(ref b, (nuint)(kk * ldb));
            var b1 = Vector512.LoadUnsafe(ref b, (nuint)(kk * ldb + w));
            ref T ak = ref Unsafe.Add(ref a, kk * acs);
            var a0 = Vector512.Create(ak);
            c00 = Fma(a0, b0, c00); c01 = Fma(a0, b1, c01);
            var a1 = Vector512.Create(Unsafe.Add(ref ak, r1));
            c10 = Fma(a1, b0, c10); c11 = Fma(a1, b1, c11);
            var a2 = Vector512.Create(Unsafe.Add(ref ak, r2));
            c20 = Fma(a2, b0, c20); c21 = Fma(a2, b1, c21);
            var a3 = Vector512.Create(Unsafe.Add(ref ak, r3));
            c30 = Fma(a3, b0, c30); c31 = Fma(a3, b1, c31);
            var a4 = Vector512.Create(Unsafe.Add(ref ak, r4));
            c40 = Fma(a4, b0, c40); c41 = Fma(a4, b1, c41);
            var a5 = Vector512.Create(Unsafe.Add(ref ak, r5));
            c50 = Fma(a5, b0, c50); c51 = Fma(a5, b1, c51);
        }
        Store(c00, ref c, 0, accumulate); Store(c01, ref c, w, accumulate);
        Store(c10, ref c, ldc, accumulate); Store(c11, ref c, ldc + w, accumulate);
        Store(c20, ref c, 2 * ldc, accumulate); Store(c21, ref c, 2 * ldc + w, accumulate);
        Store(c30, ref c, 3 * ldc, accumulate); Store(c31, ref c, 3 * ldc + w, accumulate);
        Store(c40, ref c, 4 * ldc, accumulate); Store(c41, ref c, 4 * ldc + w, accumulate);
        Store(c50, ref c, 5 * ldc, accumulate); Store(c51, ref c, 5 * ldc + w, accumulate);
    }

    private static void Kernel1x2(int k, ref T a, int acs, ref T b, int ldb, ref T c, bool accumulate)
    {
        int w = Vector512<T>.Count;
        Vector512<T> c0 = default, c1 = default, d0 = default, d1 = default;
        int kk = 0;
        for (; kk + 2 <= k; kk += 2)
        {
            var a0 = Vector512.Create(Unsafe.Add(ref a, kk * acs));
            c0 = Fma(a0, Vector512.LoadUnsafe(ref b, (nuint)(kk * ldb)), c0);
            c1 = Fma(a0, Vector512.LoadUnsafe(ref b, (nuint)(kk * ldb + w)), c1);
            var a1 = Vector512.Create(Unsafe.Add(ref a, (kk + 1) * acs));
            d0 = Fma(a1, Vector512.LoadUnsafe(ref b, (nuint)((kk + 1) * ldb)), d0);
            d1 = Fma(a1, Vector512.LoadUnsafe(ref b, (nuint)((kk + 1) * ldb + w)), d1);
        }
        if (kk < k)
        {
            var a0 = Vector512.Create(Unsafe.Add(ref a, kk * acs));
            c0 = Fma(a0, Vector512.LoadUnsafe(ref b, (nuint)(kk * ldb)), c0);
            c1 = Fma(a0, Vector512.LoadUnsafe(ref b, (nuint)(kk * ldb + w)), c1);
        }
        Store(c0 + d0, ref c, 0, accumulate); Store(c1 + d1, ref c, w, accumulate);
    }

    private static void Kernel6x1(int k, ref T a, int ars, int acs, ref T b, int ldb, ref T c, int ldc, int count, bool accumulate)
    {
        Vector512<T> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        for (int kk = 0; kk < k; kk++)
        {
            var b0 = Vector512.LoadUnsafe(ref b, (nuint)(kk * ldb));
            ref T ak = ref Unsafe.Add(ref a, kk * acs);
            c0 = Fma(Vector512.Create(ak), b0, c0);
            c1 = Fma(Vector512.Create(Unsafe.Add(ref ak, ars)), b0, c1);
            c2 = Fma(Vector512.Create(Unsafe.Add(ref ak, 2 * ars)), b0, c2);
            c3 = Fma(Vector512.Create(Unsafe.Add(ref ak, 3 * ars)), b0, c3);
            c4 = Fma(Vector512.Create(Unsafe.Add(ref ak, 4 * ars)), b0, c4);
            c5 = Fma(Vector512.Create(Unsafe.Add(ref ak, 5 * ars)), b0, c5);
        }
        Store(c0, ref c, 0, count, accumulate); Store(c1, ref c, ldc, count, accumulate); Store(c2, ref c, 2 * ldc, count, accumulate);
        Store(c3, ref c, 3 * ldc, count, accumulate); Store(c4, ref c, 4 * ldc, count, accumulate); Store(c5, ref c, 5 * ldc, count, accumulate);
    }

    private static void Kernel1x1(int k, ref T a, int acs, ref T b, int ldb, ref T c, int count, bool accumulate)
    {
        Vector512<T> c0 = default, c1 = default;
        int kk = 0;
        for (; kk + 2 <= k; kk += 2)
        {
            c0 = Fma(Vector512.Create(Unsafe.Add(ref a, kk * acs)), Vector512.LoadUnsafe(ref b, (nuint)(kk * ldb)), c0);
            c1 = Fma(Vector512.Create(Unsafe.Add(ref a, (kk + 1) * acs)), Vector512.LoadUnsafe(ref b, (nuint)((kk + 1) * ldb)), c1);
        }
        if (kk < k) c0 = Fma(Vector512.Create(Unsafe.Add(ref a, kk * acs)), Vector512.LoadUnsafe(ref b, (nuint)(kk * ldb)), c0);
        Store(c0 + c1, ref c, 0, count, accumulate);
    }
}
