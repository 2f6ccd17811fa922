using System.Numerics;
using System.Numerics.Tensors;

namespace MorIcl.Runtime.Structured;

/// <summary>
/// Reductions of the structured kernels in an order fixed by the data's length alone (never by the
/// vector width or the thread count), so every machine gives the same bits.
/// </summary>
internal static class FixedOrder<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>max_j |x_j| as a double (exact; NaN when some x_j is NaN; 0 for an empty span).</summary>
    public static double MaxAbs(ReadOnlySpan<T> x) =>
        x.IsEmpty ? 0 : Math.Abs(double.CreateChecked(TensorPrimitives.MaxMagnitude(x)));

    /// <summary>
    /// One token's projection dst_a = Σ over row a's non-zeros w·h[col] in column order, with the same
    /// roundings as the executor's feature-major projection (first product, then d + w·x unfused).
    /// </summary>
    public static void ProjectToken(CompiledModel<T>.SparseRows m, T[] h, int ld, int token, Span<T> dst)
    {
        int[] start = m.Start;
        for (int a = 0; a < m.Rows; a++)
        {
            int e0 = start[a], e1 = start[a + 1];
            if (e0 == e1) { dst[a] = T.Zero; continue; }
            var cols = m.Cols.AsSpan(e0, e1 - e0); var values = m.Values.AsSpan(e0, e1 - e0);
            T acc = h[cols[0] * ld + token] * values[0];
            for (int e = 1; e < cols.Length; e++) acc += values[e] * h[cols[e] * ld + token];
            dst[a] = acc;
        }
    }
}
