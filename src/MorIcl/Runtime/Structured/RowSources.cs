using System.Numerics;

namespace MorIcl.Runtime.Structured;

/// <summary>
/// Where the rows of a projection m·h come from, decided once per head (docs/math.md §9): a row that is ±1
/// times one residual row is read from H itself with its sign (negation is exact, so every product and
/// sum with it rounds as with the projected row); every other row is projected, by the executor's own
/// <see cref="ModelExecutor{T}.Project(CompiledModel{T}.SparseRows, T[], int, T[])"/>, into a buffer. Saves a pass over the tokens per direct row.
/// </summary>
internal sealed class RowSources<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Per row of m: the residual row it reads (direct rows), else −1.</summary>
    public readonly int[] Column;
    /// <summary>Per row of m: +1 or −1 for direct rows, 1 otherwise.</summary>
    public readonly T[] Sign;
    /// <summary>Per row of m that is projected: its row in the buffer (−1 for direct rows).</summary>
    public readonly int[] BufferRow;
    /// <summary>The rows that are projected, in order (what <see cref="Project(T[], int, T[])"/> computes).</summary>
    public readonly CompiledModel<T>.SparseRows Projected;
    public int Rows => Column.Length;

    public RowSources(CompiledModel<T>.SparseRows m)
    {
        int rows = m.Rows;
        Column = new int[rows]; Sign = new T[rows]; BufferRow = new int[rows];
        var start = new List<int> { 0 }; var cols = new List<int>(); var values = new List<T>();
        for (int a = 0; a < rows; a++)
        {
            int e0 = m.Start[a], e1 = m.Start[a + 1];
            bool direct = e1 == e0 + 1 && T.Abs(m.Values[e0]) == T.One;
            Column[a] = direct ? m.Cols[e0] : -1;
            Sign[a] = direct ? m.Values[e0] : T.One;
            BufferRow[a] = direct ? -1 : start.Count - 1;
            if (direct) continue;
            for (int e = e0; e < e1; e++) { cols.Add(m.Cols[e]); values.Add(m.Values[e]); }
            start.Add(cols.Count);
        }
        Projected = new CompiledModel<T>.SparseRows { Start = start.ToArray(), Cols = cols.ToArray(), Values = values.ToArray() };
    }

    /// <summary>Projects the rows that are not direct into <paramref name="buffer"/> (rows of length ld).</summary>
    public void Project(T[] h, int ld, T[] buffer)
    {
        if (Projected.Rows > 0) ModelExecutor<T>.Project(Projected, h, ld, buffer);
    }

    /// <summary>As above on the tokens [lo, lo + count) only.</summary>
    public void Project(T[] h, int ld, T[] buffer, int lo, int count)
    {
        if (Projected.Rows > 0) ModelExecutor<T>.Project(Projected, h, ld, buffer, lo, count);
    }

    /// <summary>Row a over tokens [start, start + count): the span holding it up to <see cref="Sign"/>[a].</summary>
    public ReadOnlySpan<T> Row(int a, T[] h, T[] buffer, int ld, int start, int count) =>
        Column[a] >= 0 ? h.AsSpan(Column[a] * ld + start, count) : buffer.AsSpan(BufferRow[a] * ld + start, count);

    /// <summary>Row a at one token (sign applied).</summary>
    public T At(int a, T[] h, T[] buffer, int ld, int token) =>
        Column[a] >= 0 ? Sign[a] * h[Column[a] * ld + token] : buffer[BufferRow[a] * ld + token];
}
