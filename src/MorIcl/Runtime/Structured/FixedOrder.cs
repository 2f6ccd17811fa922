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
    public static void ProjectToken(CompiledModel<T>.SparseRows m, T[] h, int ld, int token, Span<T> dst) =>
        ProjectTokens(m, h, ld, token, 1, dst, m.Rows);

    /// <summary>
    /// <see cref="ProjectToken"/> of the <paramref name="tokens"/> consecutive tokens from <paramref name="first"/>: token
    /// first + j into dst[j·stride …], each with exactly its own operations (one pass over the weights for all of them).
    /// </summary>
    public static void ProjectTokens(CompiledModel<T>.SparseRows m, T[] h, int ld, int first, int tokens, Span<T> dst, int stride)
    {
        int[] start = m.Start, cols = m.Cols;
        T[] values = m.Values;
        int rows = m.Rows;
        if (tokens <= 0) return;
        if (rows > stride || dst.Length < (tokens - 1) * stride + rows) throw new ArgumentException("dst is shorter than the projections");
        if (first < 0 || first + tokens > ld) throw new ArgumentOutOfRangeException(nameof(first));
        Span<T> acc = stackalloc T[tokens];
        for (int a = 0; a < rows; a++)
        {
            int e0 = start[a], e1 = start[a + 1];
            if (e0 == e1) { for (int j = 0; j < tokens; j++) dst[j * stride + a] = T.Zero; continue; }
            int row = cols[e0] * ld + first;
            T w = values[e0];
            for (int j = 0; j < tokens; j++) acc[j] = h[row + j] * w;
            for (int e = e0 + 1; e < e1; e++)
            {
                row = cols[e] * ld + first; w = values[e];
                for (int j = 0; j < tokens; j++) acc[j] += w * h[row + j];
            }
            for (int j = 0; j < tokens; j++) dst[j * stride + a] = acc[j];
        }
    }
}
