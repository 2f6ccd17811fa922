using System.Numerics;
using System.Numerics.Tensors;
using MorIcl.Runtime.Kernels;

namespace MorIcl.Runtime.Structured;

/// <summary>
/// A token-wise MLP lowered once (docs/math.md §9, "per-token affine maps"). Two hidden units that are
/// consecutive, have b1 = 0, opposite W1 rows and opposite W2 columns form a linear pair:
/// w·ReLU(L) + (−w)·ReLU(−L) = w·L, because −L is computed exactly (every product and sum negates) and
/// one of the two terms is ±0, which leaves every partial sum as it is. Such a pair becomes one linear
/// unit z = L without ReLU, and a linear unit that is ±1 times one residual row is read from H itself
/// (its sign moves exactly into W2). The other units and the bias rows run as the dense kernel runs
/// them; each output row sums its terms in unit order. So the result is the dense one, with half the
/// hidden units (or none) for the construction's affine layers.
/// </summary>
internal sealed class LoweredMlp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Tokens per block: the hidden activations and the written rows' Delta of one block stay in cache.</summary>
    public const int Block = 1024;

    private readonly CompiledModel<T>.Mlp _mlp;
    /// <summary>The units kept, in order: their W1 row in the model, and whether it is linear (no ReLU).</summary>
    private readonly int[] _unit;
    private readonly bool[] _linear;
    /// <summary>Per kept unit: the residual row it equals up to sign (−1 when it is computed), and the sign.</summary>
    private readonly int[] _direct;
    private readonly T[] _directSign;
    /// <summary>Per output row: its terms (kept unit, weight) in unit order, as [start, end) into the arrays.</summary>
    private readonly int[] _termStart, _termUnit;
    private readonly T[] _termWeight;

    private LoweredMlp(CompiledModel<T>.Mlp mlp, List<(int Unit, bool Linear)> kept, Dictionary<int, int> keptIndex, Dictionary<int, int> pairOf)
    {
        _mlp = mlp;
        _unit = kept.Select(k => k.Unit).ToArray();
        _linear = kept.Select(k => k.Linear).ToArray();
        _direct = new int[kept.Count]; _directSign = new T[kept.Count];
        for (int k = 0; k < kept.Count; k++)
        {
            int u = _unit[k], e0 = mlp.W1Rows.Start[u], e1 = mlp.W1Rows.Start[u + 1];
            bool direct = _linear[k] && e1 == e0 + 1 && T.Abs(mlp.W1Rows.Values[e0]) == T.One;
            _direct[k] = direct ? mlp.W1Rows.Cols[e0] : -1;
            _directSign[k] = direct ? mlp.W1Rows.Values[e0] : T.One;
        }
        var w2 = mlp.W2Rows;
        _termStart = new int[w2.Rows + 1];
        var units = new List<int>(); var weights = new List<T>();
        for (int r = 0; r < w2.Rows; r++)
        {
            for (int e = w2.Start[r]; e < w2.Start[r + 1]; e++)
            {
                int u = w2.Cols[e];
                if (pairOf.ContainsKey(u) && !keptIndex.ContainsKey(u)) continue;   // the second unit of a pair
                int k = keptIndex[u];
                units.Add(k); weights.Add(w2.Values[e] * _directSign[k]);
            }
            _termStart[r + 1] = units.Count;
        }
        _termUnit = units.ToArray(); _termWeight = weights.ToArray();
        // An output row with one term and no bias, which no other output's term reads from H, is committed in place.
        var readByOthers = Enumerable.Range(0, w2.Rows).SelectMany(r => Enumerable.Range(_termStart[r], _termStart[r + 1] - _termStart[r])
            .Where(e => _direct[_termUnit[e]] >= 0).Select(e => (Row: r, Source: _direct[_termUnit[e]]))).ToArray();
        _inPlace = Enumerable.Range(0, w2.Rows).Select(r => _termStart[r + 1] - _termStart[r] == 1 && !mlp.BiasRows.Contains(mlp.OutRows[r])
            && !readByOthers.Any(t => t.Row != r && t.Source == mlp.OutRows[r])).ToArray();
        _committedInPlace = new bool[mlp.OutRows.Concat(mlp.BiasRows).DefaultIfEmpty(0).Max() + 1];
        for (int r = 0; r < w2.Rows; r++) if (_inPlace[r]) _committedInPlace[mlp.OutRows[r]] = true;
        Resets = Enumerable.Range(0, w2.Rows).Where(r => _inPlace[r] && _direct[_termUnit[_termStart[r]]] == mlp.OutRows[r]
            && _termWeight[_termStart[r]] == -T.One).Select(r => mlp.OutRows[r]).ToArray();
    }

    /// <summary>
    /// The output rows that are resets, h ← h + (0 + (−1)·h) (docs/math.md §9.6): committed in place from the row itself
    /// with weight −1. On a finite h this is +0 on every token: 0 + (−h) is −h (+0 when h = ±0) and h + (−h) = +0 in
    /// rounding to nearest; on ±∞ or NaN it is NaN. So a reset of a row known finite may be done without its pass
    /// (<see cref="Run"/>'s <c>skip</c>), the row then being the constant +0.
    /// </summary>
    public int[] Resets { get; }

    /// <summary>
    /// Whether row c is a reset (<see cref="Resets"/>) that no other unit or output reads: every unit with c among its inputs
    /// is the reset's own, read in place (direct), and only the reset's output takes it. Then a reset done without its pass
    /// reads nothing of the row.
    /// </summary>
    public bool ReadsOnlyForReset(int c)
    {
        if (!Resets.Contains(c)) return false;
        var w1 = _mlp.W1Rows;
        for (int k = 0; k < _unit.Length; k++)
        {
            int u = _unit[k];
            bool reads = false;
            for (int e = w1.Start[u]; e < w1.Start[u + 1]; e++) reads |= w1.Cols[e] == c;
            if (!reads) continue;
            if (_direct[k] != c) return false;
            for (int r = 0; r < _mlp.OutRows.Length; r++)
                for (int e = _termStart[r]; e < _termStart[r + 1]; e++)
                    if (_termUnit[e] == k && _mlp.OutRows[r] != c) return false;
        }
        // The second unit of a pair is not kept; its W1 row is the first one's negated, so it reads c only when the first does.
        return true;
    }

    /// <summary>
    /// Per output row: committed in place, h + (0 + t) (<see cref="StructuredRowKernels{T}.CommitScaled"/>), the bits of
    /// Delta (+0) taking its one term and the commit adding it, when no bias adds to it and no other output reads the row.
    /// </summary>
    private readonly bool[] _inPlace;
    /// <summary>Per residual row (up to the largest written): whether an in-place output row writes it.</summary>
    private readonly bool[] _committedInPlace;

    /// <summary>The lowered MLP, or null when it has no linear pair (the dense kernel is then as good).</summary>
    public static LoweredMlp<T>? TryLower(CompiledModel<T>.Mlp mlp)
    {
        var pairOf = new Dictionary<int, int>();
        for (int u = 0; u + 1 < mlp.Hidden; u++)
            if (!pairOf.ContainsKey(u) && IsPair(mlp, u, u + 1)) { pairOf[u] = u + 1; pairOf[u + 1] = u; }
        if (pairOf.Count == 0) return null;
        var kept = new List<(int, bool)>();
        var keptIndex = new Dictionary<int, int>();
        for (int u = 0; u < mlp.Hidden; u++)
        {
            if (pairOf.TryGetValue(u, out int partner) && partner < u) continue;
            keptIndex[u] = kept.Count;
            kept.Add((u, pairOf.ContainsKey(u)));
        }
        return new LoweredMlp<T>(mlp, kept, keptIndex, pairOf);
    }

    /// <summary>Units u and v: b1 = 0, W1 row v = −(W1 row u), W2 column v = −(W2 column u).</summary>
    private static bool IsPair(CompiledModel<T>.Mlp mlp, int u, int v)
    {
        if (mlp.B1[u] != T.Zero || mlp.B1[v] != T.Zero) return false;
        var w1 = mlp.W1Rows;
        int a0 = w1.Start[u], a1 = w1.Start[u + 1], b0 = w1.Start[v], b1 = w1.Start[v + 1];
        if (a1 - a0 != b1 - b0 || a1 == a0) return false;
        for (int e = 0; e < a1 - a0; e++)
            if (w1.Cols[a0 + e] != w1.Cols[b0 + e] || w1.Values[b0 + e] != -w1.Values[a0 + e]) return false;
        var w2 = mlp.W2Rows;
        for (int r = 0; r < w2.Rows; r++)
        {
            T wu = T.Zero, wv = T.Zero;
            for (int e = w2.Start[r]; e < w2.Start[r + 1]; e++)
            {
                if (w2.Cols[e] == u) wu = w2.Values[e];
                else if (w2.Cols[e] == v) wv = w2.Values[e];
            }
            if (wv != -wu) return false;
        }
        return true;
    }

    /// <summary>
    /// Delta += the MLP's output on every token (<paramref name="z"/> holds Block × hidden), then the commit
    /// block by block: h = h + Delta, Delta = 0 on the written rows, after the block's every output is formed
    /// (the MLP reads each token's h before it writes it; tokens are independent), so Delta stays in cache.
    /// <paramref name="finite"/>[c]: whether written row c is finite on every column, padding included (the
    /// caller clears the padding, as the dense commit).
    /// </summary>
    /// <para><paramref name="skip"/>[c]: a reset row (<see cref="Resets"/>) the caller sets to +0 itself; it is not written here.</para>
    public void Run(T[] h, T[] delta, int ld, T[] z, int[] written, bool[] finite, bool[]? skip = null)
    {
        foreach (int c in written) finite[c] = true;
        RunWindow(h, delta, ld, z, written, finite, 0, ld, skip);
    }

    /// <summary>
    /// As <see cref="Run"/> on the tokens [lo, lo + count) only (the block schedule, docs/math.md §9.6): tokens are
    /// independent, so these tokens get the bits the whole pass gives them. <paramref name="finite"/>[c] is and-ed.
    /// </summary>
    public void RunWindow(T[] h, T[] delta, int ld, T[] z, int[] written, bool[] finite, int lo, int count, bool[]? skip = null)
    {
        var w1 = _mlp.W1Rows;
        for (int j0 = lo; j0 < lo + count; j0 += Block)
        {
            int w = Math.Min(Block, lo + count - j0);
            for (int k = 0; k < _unit.Length; k++)
            {
                if (_direct[k] >= 0) continue;
                int u = _unit[k];
                var zk = z.AsSpan(k * Block, w);
                zk.Fill(_mlp.B1[u]);
                for (int e = w1.Start[u]; e < w1.Start[u + 1]; e++) RowKernels<T>.AddScaled(zk, h.AsSpan(w1.Cols[e] * ld + j0, w), w1.Values[e]);
                if (!_linear[k]) TensorPrimitives.Max(zk, T.Zero, zk);   // ReLU; NaN stays NaN
            }
            // Delta (+0 here) takes the terms one by one: ((0 + t_1) + t_2) + … has the bits of 0 + (t_1 + t_2 + …),
            // the dense kernel's sum: the two differ only where a partial sum is −0, and x + (±0) = x for x ≠ −0.
            for (int r = 0; r < _mlp.OutRows.Length; r++)
            {
                int row = _mlp.OutRows[r];
                if (_inPlace[r])
                {
                    if (skip is not null && skip[row]) continue;
                    int e1 = _termStart[r];
                    finite[row] &= StructuredRowKernels<T>.CommitScaled(h.AsSpan(row * ld + j0, w), Unit(_termUnit[e1], h, z, ld, j0, w), _termWeight[e1]);
                    continue;
                }
                var d = delta.AsSpan(row * ld + j0, w);
                for (int e = _termStart[r]; e < _termStart[r + 1]; e++) RowKernels<T>.AddScaled(d, Unit(_termUnit[e], h, z, ld, j0, w), _termWeight[e]);
            }
            for (int b = 0; b < _mlp.BiasRows.Length; b++)
            {
                var d = delta.AsSpan(_mlp.BiasRows[b] * ld + j0, w);
                TensorPrimitives.Add(d, _mlp.Bias[b], d);
            }
            foreach (int c in written)
                if (!_committedInPlace[c]) finite[c] &= RowKernels<T>.AddAndClear(h.AsSpan(c * ld + j0, w), delta.AsSpan(c * ld + j0, w));
        }
    }

    /// <summary>Kept unit k's activations on the block: a row of H for a direct unit (its sign is in the weights), else its row of z.</summary>
    private ReadOnlySpan<T> Unit(int k, T[] h, T[] z, int ld, int j0, int w) =>
        _direct[k] >= 0 ? h.AsSpan(_direct[k] * ld + j0, w) : z.AsSpan(k * Block, w);
}
