using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MorIcl.Numerics.Simd;

namespace MorIcl.Training.Gpt;

/// <summary>
/// Register-blocked matrix product C (+)= A·B for the GPT encoder. A is addressed by strides
/// (element (i, k) at a[i·ars + k·acs]) so one kernel serves A·B (ars = lda, acs = 1) and Aᵀ·B
/// (ars = 1, acs = lda); B and C are row-major with leading dimensions ldb, ldc. One micro-kernel,
/// generic over the register (<see cref="Lanes512{T}"/>, <see cref="Lanes256{T}"/> or
/// <see cref="Lanes128{T}"/>, the widest the runtime accelerates) and the tile shape, keeps a 6 × (4
/// vectors) tile of C in registers on Vector512 (6 × 2 on the narrower widths, which have 16 registers),
/// then 1-row and 1-vector tiles (a last partial vector when B is padded), then scalars.
/// <para>
/// Every element of C is the same chain on every width and tile: s = 0, then s = s + a_ik·b_kj for
/// k = 0, 1, … (each product rounded, then the sum rounded — no fused multiply-add), and C = C + s
/// when accumulating. Results therefore depend only on the shapes, never on the SIMD width or threads.
/// </para>
/// </summary>
internal static class GptGemm<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int Mr = 6;

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
        var p = new Product(m, n, k, ars, acs, ldb, ldc, b.Length, accumulate);
        ref T ar = ref MemoryMarshal.GetReference(a);
        ref T br = ref MemoryMarshal.GetReference(b);
        ref T cr = ref MemoryMarshal.GetReference(c);
        int j = SimdSpan.Width switch
        {
            SimdWidth.Vector512 => Vectors<Lanes512<T>, N4>(p, ref ar, ref br, ref cr),
            SimdWidth.Vector256 => Vectors<Lanes256<T>, N2>(p, ref ar, ref br, ref cr),
            _ => Vectors<Lanes128<T>, N2>(p, ref ar, ref br, ref cr),
        };
        for (int i = 0; i < m && j < n; i++)
        {
            for (int jj = j; jj < n; jj++)
            {
                T s = T.Zero;
                for (int kk = 0; kk < k; kk++) s += Unsafe.Add(ref ar, i * ars + kk * acs) * Unsafe.Add(ref br, kk * ldb + jj);
                ref T cij = ref Unsafe.Add(ref cr, i * ldc + jj);
                cij = accumulate ? cij + s : s;
            }
        }
    }

    private readonly record struct Product(int M, int N, int K, int Ars, int Acs, int Ldb, int Ldc, int BLength, bool Accumulate);

    /// <summary>The columns in whole vectors (blocks of TW vectors, then pairs, then single ones); returns the first column left.</summary>
    private static int Vectors<TL, TW>(in Product p, ref T a, ref T b, ref T c) where TL : struct, ILanes<TL, T> where TW : struct, IConstant
    {
        int w = TL.Count, j = 0;
        if (TW.Value == 4)
            for (; j + 4 * w <= p.N; j += 4 * w) Panel<TL, N4>(p, ref a, ref b, ref c, j, w);
        for (; j + 2 * w <= p.N; j += 2 * w) Panel<TL, N2>(p, ref a, ref b, ref c, j, w);
        // Full vectors, then a partial one when B may be read a whole vector past column n (the extra
        // lanes are computed and dropped; lanes do not interact).
        for (; j < p.N && (j + w <= p.N || (long)(p.K - 1) * p.Ldb + j + w <= p.BLength); j += w)
            Panel<TL, N1>(p, ref a, ref b, ref c, j, Math.Min(w, p.N - j));
        return Math.Min(j, p.N);
    }

    /// <summary>Columns [j, j + TN vectors) for every row: tiles of 6 rows, then single rows.</summary>
    private static void Panel<TL, TN>(in Product p, ref T a, ref T b, ref T c, int j, int count)
        where TL : struct, ILanes<TL, T> where TN : struct, IConstant
    {
        int i = 0;
        for (; i + Mr <= p.M; i += Mr)
            Tile<TL, N6, TN>(p.K, ref Unsafe.Add(ref a, i * p.Ars), p.Ars, p.Acs, ref Unsafe.Add(ref b, j), p.Ldb, ref Unsafe.Add(ref c, i * p.Ldc + j), p.Ldc, count, p.Accumulate);
        for (; i < p.M; i++)
            Tile<TL, N1, TN>(p.K, ref Unsafe.Add(ref a, i * p.Ars), p.Ars, p.Acs, ref Unsafe.Add(ref b, j), p.Ldb, ref Unsafe.Add(ref c, i * p.Ldc + j), p.Ldc, count, p.Accumulate);
    }

    /// <summary>
    /// The micro-kernel: TM (1 or 6) rows × TN (1, 2 or 4) vectors of C, accumulated over k in registers.
    /// <paramref name="count"/> lanes of the last vector are stored when TN = 1 (a partial vector).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TL, TM, TN>(int k, ref T a, int ars, int acs, ref T b, int ldb, ref T c, int ldc, int count, bool accumulate)
        where TL : struct, ILanes<TL, T> where TM : struct, IConstant where TN : struct, IConstant
    {
        int w = TL.Count;
        bool rows = TM.Value > 1, v1 = TN.Value > 1, v2 = TN.Value > 2;
        TL c00 = TL.Zero, c01 = TL.Zero, c02 = TL.Zero, c03 = TL.Zero, c10 = TL.Zero, c11 = TL.Zero, c12 = TL.Zero, c13 = TL.Zero;
        TL c20 = TL.Zero, c21 = TL.Zero, c22 = TL.Zero, c23 = TL.Zero, c30 = TL.Zero, c31 = TL.Zero, c32 = TL.Zero, c33 = TL.Zero;
        TL c40 = TL.Zero, c41 = TL.Zero, c42 = TL.Zero, c43 = TL.Zero, c50 = TL.Zero, c51 = TL.Zero, c52 = TL.Zero, c53 = TL.Zero;
        for (int kk = 0; kk < k; kk++)
        {
            ref T bk = ref Unsafe.Add(ref b, kk * ldb);
            TL b0 = TL.Load(ref bk, 0);
            TL b1 = v1 ? TL.Load(ref bk, w) : TL.Zero;
            TL b2 = v2 ? TL.Load(ref bk, 2 * w) : TL.Zero;
            TL b3 = v2 ? TL.Load(ref bk, 3 * w) : TL.Zero;
            ref T ak = ref Unsafe.Add(ref a, kk * acs);
            TL x = TL.Broadcast(ak);
            c00 += x * b0; if (v1) c01 += x * b1; if (v2) { c02 += x * b2; c03 += x * b3; }
            if (!rows) continue;
            x = TL.Broadcast(Unsafe.Add(ref ak, ars));
            c10 += x * b0; if (v1) c11 += x * b1; if (v2) { c12 += x * b2; c13 += x * b3; }
            x = TL.Broadcast(Unsafe.Add(ref ak, 2 * ars));
            c20 += x * b0; if (v1) c21 += x * b1; if (v2) { c22 += x * b2; c23 += x * b3; }
            x = TL.Broadcast(Unsafe.Add(ref ak, 3 * ars));
            c30 += x * b0; if (v1) c31 += x * b1; if (v2) { c32 += x * b2; c33 += x * b3; }
            x = TL.Broadcast(Unsafe.Add(ref ak, 4 * ars));
            c40 += x * b0; if (v1) c41 += x * b1; if (v2) { c42 += x * b2; c43 += x * b3; }
            x = TL.Broadcast(Unsafe.Add(ref ak, 5 * ars));
            c50 += x * b0; if (v1) c51 += x * b1; if (v2) { c52 += x * b2; c53 += x * b3; }
        }
        StoreRow<TL, TN>(c00, c01, c02, c03, ref c, w, count, accumulate);
        if (!rows) return;
        StoreRow<TL, TN>(c10, c11, c12, c13, ref Unsafe.Add(ref c, ldc), w, count, accumulate);
        StoreRow<TL, TN>(c20, c21, c22, c23, ref Unsafe.Add(ref c, 2 * ldc), w, count, accumulate);
        StoreRow<TL, TN>(c30, c31, c32, c33, ref Unsafe.Add(ref c, 3 * ldc), w, count, accumulate);
        StoreRow<TL, TN>(c40, c41, c42, c43, ref Unsafe.Add(ref c, 4 * ldc), w, count, accumulate);
        StoreRow<TL, TN>(c50, c51, c52, c53, ref Unsafe.Add(ref c, 5 * ldc), w, count, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TL, TN>(TL s0, TL s1, TL s2, TL s3, ref T c, int w, int count, bool accumulate)
        where TL : struct, ILanes<TL, T> where TN : struct, IConstant
    {
        if (TN.Value == 1 && count < w) { StorePartial(s0, ref c, count, accumulate); return; }
        Store(s0, ref c, 0, accumulate);
        if (TN.Value > 1) Store(s1, ref c, w, accumulate);
        if (TN.Value > 2) { Store(s2, ref c, 2 * w, accumulate); Store(s3, ref c, 3 * w, accumulate); }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TL>(TL v, ref T c, int offset, bool accumulate) where TL : struct, ILanes<TL, T>
    {
        if (accumulate) v = TL.Load(ref c, offset) + v;
        TL.Store(v, ref c, offset);
    }

    /// <summary>Stores the first <paramref name="count"/> lanes of v.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StorePartial<TL>(TL v, ref T c, int count, bool accumulate) where TL : struct, ILanes<TL, T>
    {
        Span<T> lanes = stackalloc T[TL.Count];
        TL.Store(v, ref MemoryMarshal.GetReference(lanes), 0);
        for (int l = 0; l < count; l++)
        {
            ref T t = ref Unsafe.Add(ref c, l);
            t = accumulate ? t + lanes[l] : lanes[l];
        }
    }
}
