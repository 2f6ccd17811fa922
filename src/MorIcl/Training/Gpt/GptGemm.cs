using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MorIcl.Training.Gpt;

/// <summary>
/// Register-blocked matrix product C (+)= A·B for the GPT encoder. A is addressed by strides
/// (element (i, k) at a[i·ars + k·acs]) so one kernel serves A·B (ars = lda, acs = 1) and Aᵀ·B
/// (ars = 1, acs = lda); B and C are row-major with leading dimensions ldb, ldc. The micro-kernel keeps
/// a 6 × (2 vectors) tile of C in 12 Vector512 accumulators and runs k with FMAs (a B row panel is
/// reused across every row block); tails use 1-row and 1-vector kernels, then scalars. Without
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
            for (; j + 2 * w <= n; j += 2 * w)
            {
                int i = 0;
                for (; i + Mr <= m; i += Mr) Kernel6x2(k, ref Unsafe.Add(ref ar, i * ars), ars, acs, ref Unsafe.Add(ref br, j), ldb, ref Unsafe.Add(ref cr, i * ldc + j), ldc, accumulate);
                for (; i < m; i++) Kernel1x2(k, ref Unsafe.Add(ref ar, i * ars), acs, ref Unsafe.Add(ref br, j), ldb, ref Unsafe.Add(ref cr, i * ldc + j), accumulate);
            }
            for (; j + w <= n; j += w)
            {
                int i = 0;
                for (; i + Mr <= m; i += Mr) Kernel6x1(k, ref Unsafe.Add(ref ar, i * ars), ars, acs, ref Unsafe.Add(ref br, j), ldb, ref Unsafe.Add(ref cr, i * ldc + j), ldc, accumulate);
                for (; i < m; i++) Kernel1x1(k, ref Unsafe.Add(ref ar, i * ars), acs, ref Unsafe.Add(ref br, j), ldb, ref Unsafe.Add(ref cr, i * ldc + j), accumulate);
            }
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

    private static void Kernel6x1(int k, ref T a, int ars, int acs, ref T b, int ldb, ref T c, int ldc, bool accumulate)
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
        Store(c0, ref c, 0, accumulate); Store(c1, ref c, ldc, accumulate); Store(c2, ref c, 2 * ldc, accumulate);
        Store(c3, ref c, 3 * ldc, accumulate); Store(c4, ref c, 4 * ldc, accumulate); Store(c5, ref c, 5 * ldc, accumulate);
    }

    private static void Kernel1x1(int k, ref T a, int acs, ref T b, int ldb, ref T c, bool accumulate)
    {
        Vector512<T> c0 = default, c1 = default;
        int kk = 0;
        for (; kk + 2 <= k; kk += 2)
        {
            c0 = Fma(Vector512.Create(Unsafe.Add(ref a, kk * acs)), Vector512.LoadUnsafe(ref b, (nuint)(kk * ldb)), c0);
            c1 = Fma(Vector512.Create(Unsafe.Add(ref a, (kk + 1) * acs)), Vector512.LoadUnsafe(ref b, (nuint)((kk + 1) * ldb)), c1);
        }
        if (kk < k) c0 = Fma(Vector512.Create(Unsafe.Add(ref a, kk * acs)), Vector512.LoadUnsafe(ref b, (nuint)(kk * ldb)), c0);
        Store(c0 + c1, ref c, 0, accumulate);
    }
}
