using System.Numerics;
using System.Numerics.Tensors;

namespace MorIcl.Runtime.Structured;

/// <summary>
/// Reductions of the structured kernels in an order fixed by the data's length alone (never by the
/// vector width or the thread count), so every machine gives the same bits.
/// </summary>
internal static class FixedOrder<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Σ x_j: four partial sums over j mod 4 in ascending j, then (s0 + s1) + (s2 + s3).</summary>
    public static T Sum(ReadOnlySpan<T> x)
    {
        T s0 = T.Zero, s1 = T.Zero, s2 = T.Zero, s3 = T.Zero;
        int j = 0;
        for (; j + 4 <= x.Length; j += 4) { s0 += x[j]; s1 += x[j + 1]; s2 += x[j + 2]; s3 += x[j + 3]; }
        if (j < x.Length) s0 += x[j];
        if (j + 1 < x.Length) s1 += x[j + 1];
        if (j + 2 < x.Length) s2 += x[j + 2];
        return (s0 + s1) + (s2 + s3);
    }

    /// <summary>max_j |x_j| as a double (exact; NaN when some x_j is NaN; 0 for an empty span).</summary>
    public static double MaxAbs(ReadOnlySpan<T> x) =>
        x.IsEmpty ? 0 : Math.Abs(double.CreateChecked(TensorPrimitives.MaxMagnitude(x)));

    /// <summary>
    /// One token's projection dst_a = Σ over row a's non-zeros w·h[col] in column order, with the same
    /// roundings as the executor's feature-major projection (first product, then d + w·x unfused).
    /// </summary>
    public static void ProjectToken(CompiledModel<T>.SparseRows m, T[] h, int ld, int token, Span<T> dst)
    {
        for (int a = 0; a < m.Rows; a++)
        {
            int e0 = m.Start[a], e1 = m.Start[a + 1];
            if (e0 == e1) { dst[a] = T.Zero; continue; }
            T acc = h[m.Cols[e0] * ld + token] * m.Values[e0];
            for (int e = e0 + 1; e < e1; e++) acc += m.Values[e] * h[m.Cols[e] * ld + token];
            dst[a] = acc;
        }
    }
}
