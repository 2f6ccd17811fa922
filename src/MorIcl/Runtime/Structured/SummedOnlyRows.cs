using System.Numerics;

namespace MorIcl.Runtime.Structured;

/// <summary>
/// Rows summed only (docs/math.md §9.6): a gradient head's committed value rows whose examples only the next layer's
/// example mean reads, through the sums formed ahead, and which the layer after it resets. The commit forms their sums and
/// does not write the rows; what it would have written is kept here (its weights, value rows and scales) and written on
/// demand, bit for bit as the commit writes it, before anything else reads one of them (<see cref="Materialise"/>). A row
/// the reset sets to +0 without reading it is never written (<see cref="Forget"/>).
/// </summary>
internal sealed class SummedOnlyRows<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>One head's commit: the weights over its examples, the value rows and the layer that made it.</summary>
    private sealed class Commit
    {
        public T[] W = Array.Empty<T>();
        public int Start, Count, Layer, Pending;
        public bool Relu;
        public RowSources<T> Values = null!;
    }

    private readonly Commit?[] _of;
    private readonly int[] _value, _position;
    private readonly T[] _scale;
    private readonly List<int> _rows = new();
    private readonly Stack<Commit> _free = new();

    public SummedOnlyRows(int dimension)
    {
        _of = new Commit?[dimension]; _value = new int[dimension]; _position = new int[dimension]; _scale = new T[dimension];
    }

    /// <summary>Whether this pass may leave rows summed only (a pass without trace, bounds or block schedule).</summary>
    public bool On;

    /// <summary>The rows summed only, not yet written or forgotten.</summary>
    public IReadOnlyList<int> Rows => _rows;

    public bool Holds(int c) => _of[c] is not null;

    /// <summary>The layer whose commit left row c summed only.</summary>
    public int LayerOf(int c) => _of[c]!.Layer;

    /// <summary>
    /// Output rows <paramref name="rows"/>[r] of layer <paramref name="layer"/>'s commit h_i = +0 + (0 + (f(w_i)·x_v(i))·c_r) over
    /// the examples [start, start + w.Length), v = <paramref name="v"/>[r], left unwritten.
    /// </summary>
    public void Keep(ReadOnlySpan<int> rows, ReadOnlySpan<int> v, ReadOnlySpan<T> scale, ReadOnlySpan<T> w, int start, bool relu, RowSources<T> values, int layer,
        T[] h, int ld)
    {
        var k = _free.Count > 0 ? _free.Pop() : new Commit();
        if (k.W.Length < w.Length) k.W = new T[Math.Max(w.Length, 2 * k.W.Length)];
        w.CopyTo(k.W);
        k.Start = start; k.Count = w.Length; k.Relu = relu; k.Values = values; k.Layer = layer; k.Pending = rows.Length;
        for (int r = 0; r < rows.Length; r++)
        {
            int c = rows[r];
            if (_of[c] is not null) throw new InvalidOperationException($"row {c} is already summed only");
            _of[c] = k; _value[c] = v[r]; _scale[c] = scale[r];
            _position[c] = _rows.Count;
            _rows.Add(c);
            if (Poison) h.AsSpan(c * ld + start, w.Length).Fill(T.NaN);
        }
    }

    /// <summary>Row c's examples written into H as the fused commit writes them (<see cref="FusedRowKernels{T}.CommitWeightedValues"/>, onto +0).</summary>
    public void Materialise(int c, T[] h, int ld)
    {
        var k = _of[c] ?? throw new InvalidOperationException($"row {c} is not summed only");
        ReadOnlySpan<int> outRows = [c], v = [_value[c]];
        ReadOnlySpan<bool> constant = [true];
        ReadOnlySpan<T> bases = [T.Zero], scale = [_scale[c]];
        if (!SkipWrites) FusedRowKernels<T>.CommitWeightedValues(h, outRows, constant, bases, k.W.AsSpan(0, k.Count), k.Values, h, v, scale, k.Relu, ld, k.Start, checkFinite: false);
        Release(c);
        Materialised++;
    }

    /// <summary>The rows among <paramref name="columns"/> that are summed only, written into H (before a read of them).</summary>
    public void WriteAmong(int[] columns, T[] h, int ld)
    {
        if (_rows.Count == 0) return;
        foreach (int c in columns) if (_of[c] is not null) Materialise(c, h, ld);
    }

    /// <summary>Row c is set without being read (a reset to +0): its values are never needed.</summary>
    public void Forget(int c)
    {
        if (_of[c] is null) throw new InvalidOperationException($"row {c} is not summed only");
        Release(c);
    }

    /// <summary>Every row still summed only written into H.</summary>
    public void MaterialiseAll(T[] h, int ld)
    {
        while (_rows.Count > 0) Materialise(_rows[^1], h, ld);
    }

    /// <summary>A new stream: nothing is summed only.</summary>
    public void Clear()
    {
        while (_rows.Count > 0) Release(_rows[^1]);
    }

    /// <summary>For a test only: a row written on demand is not written (a wrong shortcut the tests must catch).</summary>
    public bool SkipWrites;
    /// <summary>For a test only: a row left summed only holds NaN on its examples until it is written, so a read before the write shows.</summary>
    public bool Poison;

    /// <summary>How many rows were written on demand (for tests: a row summed only that some layer read).</summary>
    public long Materialised;

    private void Release(int c)
    {
        var k = _of[c]!;
        _of[c] = null;
        // Out of the list in O(1): the last row takes its place.
        int at = _position[c], last = _rows[^1];
        _rows[at] = last; _position[last] = at;
        _rows.RemoveAt(_rows.Count - 1);
        if (--k.Pending == 0) { k.Values = null!; _free.Push(k); }
    }
}
