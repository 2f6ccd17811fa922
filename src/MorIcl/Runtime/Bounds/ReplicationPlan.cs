using MorIcl.Construction.Model;

namespace MorIcl.Runtime.Bounds;

/// <summary>
/// Which residual rows hold the same exact value on every token (docs/math.md §8.5), found from the
/// model's structure alone. In exact arithmetic a head's output at token i depends on i only through
/// its query Q·h_i (admission is a certificate notion; the exact head sums over every key), and an MLP
/// is token-wise, so: a row is replicated after a layer when it was before and every head writing it
/// reads only replicated rows in Q (every MLP unit feeding it reads only replicated rows). The
/// embedding's replicated rows are the constant 1 and the rows it leaves at 0.
/// <para>
/// The error of a replicated row is then one number per row, the same on every token up to the pass's
/// own (known) differences between tokens; the analysis gives each such row that a layer writes a
/// symbol — its error, scaled to [−1, 1] — so that every quantity computed from it (u = ⟨x, β⟩, the
/// gradient terms, the next β) keeps the sign of its dependence, and the gradient step's contraction
/// b ← (I − αA) b shows in the bound instead of the componentwise |I| + α|A|.
/// </para>
/// </summary>
internal sealed class ReplicationPlan
{
    /// <summary>First symbol slot of each residual row, or −1 (rows never written while replicated); see <see cref="SlotOf"/>.</summary>
    public int[] Slot { get; }
    /// <summary>Number of symbols: two generations per replicated row (docs/math.md §8.5).</summary>
    public int Symbols { get; }
    /// <summary>Per layer: the written rows that are replicated after it (they get a fresh symbol at the commit).</summary>
    public int[][] Rebased { get; }
    /// <summary>
    /// Per layer l: whether each row's value after l can still matter — a later layer reads it or adds to
    /// it before an MLP resets it to an exact 0, or the read-out reads it. Only the tightness of the
    /// bound depends on this (which symbols are worth keeping), never its validity.
    /// </summary>
    public bool[][] LiveAfter { get; }

    private readonly int _rows;

    /// <summary>The slot of row r's symbol of generation g (0 or 1).</summary>
    public int SlotOf(int row, int generation) => Slot[row] + generation * _rows;

    public ReplicationPlan(TransformerModel model, BoundsModel bounds)
    {
        int D = model.Dimension;
        var e = model.Embedding;
        var rep = new bool[D];
        Array.Fill(rep, true);
        foreach (var block in new[] { e.X, e.Y, e.IsExample, e.IsQuery, e.Positioned, e.PositionDigits, e.PositionDigitSquares, e.AuxiliaryFlags })
            for (int a = 0; a < block.Width; a++) rep[block[a]] = false;
        var slot = new int[D];
        Array.Fill(slot, -1);
        int symbols = 0;
        var rebased = new int[bounds.Layers.Length][];
        for (int l = 0; l < bounds.Layers.Length; l++)
        {
            var replicatedWrite = new Dictionary<int, bool>();
            void Note(int row, bool replicated) => replicatedWrite[row] = replicatedWrite.TryGetValue(row, out var r) ? r && replicated : replicated;
            switch (bounds.Layers[l])
            {
                case BoundsModel.Attention a:
                    foreach (var head in a.Heads)
                    {
                        bool q = head.Q.Cols.All(c => rep[c]);
                        foreach (int row in head.V.Output) Note(row, q);
                    }
                    break;
                case BoundsModel.Mlp m:
                    var unit = new bool[m.W1.Count];
                    for (int u = 0; u < m.W1.Count; u++)
                    {
                        unit[u] = true;
                        for (int k = m.W1.Start[u]; k < m.W1.Start[u + 1]; k++) unit[u] &= rep[m.W1.Cols[k]];
                    }
                    for (int r = 0; r < m.W2.Count; r++)
                    {
                        bool ok = true;
                        for (int k = m.W2.Start[r]; k < m.W2.Start[r + 1]; k++) ok &= unit[m.W2.Cols[k]];
                        Note(m.W2.Output[r], ok);
                    }
                    foreach (int row in m.BiasRows) Note(row, true);
                    break;
            }
            var list = new List<int>();
            foreach (var (row, replicated) in replicatedWrite.OrderBy(kv => kv.Key))
            {
                rep[row] = rep[row] && replicated;
                if (!rep[row] || !ReadBeforeRewrite(model, bounds, row, l)) continue;
                if (slot[row] < 0) slot[row] = symbols++;
                list.Add(row);
            }
            rebased[l] = list.ToArray();
        }
        Slot = slot; _rows = symbols; Symbols = 2 * symbols; Rebased = rebased;
        LiveAfter = Liveness(model, bounds);
    }

    /// <summary>
    /// <see cref="LiveAfter"/> by a backward sweep: after the last layer only the read-out rows are live;
    /// after layer l a row is live if layer l + 1 reads or writes it (an addition keeps its value), dead if
    /// layer l + 1 resets it, and otherwise as after l + 1.
    /// </summary>
    private static bool[][] Liveness(TransformerModel model, BoundsModel bounds)
    {
        int D = model.Dimension, L = bounds.Layers.Length;
        var live = new bool[L][];
        var r = model.ReadOut;
        var after = new bool[D];
        after[r.Prediction] = true;
        foreach (var b in r.Beta) for (int a = 0; a < b.Width; a++) after[b[a]] = true;
        if (r.Mixing is { } mix) for (int a = 0; a < mix.Width; a++) after[mix[a]] = true;
        for (int l = L - 1; l >= 0; l--)
        {
            live[l] = after;
            if (l == 0) break;
            var before = (bool[])after.Clone();
            var layer = bounds.Layers[l];
            var touched = new HashSet<int>(layer.Written);
            switch (layer)
            {
                case BoundsModel.Attention a:
                    foreach (var h in a.Heads) { touched.UnionWith(h.Q.Cols); touched.UnionWith(h.K.Cols); touched.UnionWith(h.V.Cols); }
                    break;
                case BoundsModel.Mlp m:
                    touched.UnionWith(m.W1.Cols);
                    foreach (int row in touched.ToArray()) if (Resets(m, row)) { touched.Remove(row); before[row] = false; }
                    break;
            }
            foreach (int row in touched) before[row] = true;
            after = before;
        }
        return live;
    }

    /// <summary>
    /// Whether the MLP discards the old value of <paramref name="row"/>: the units that read it read it
    /// alone (no bias) and feed only it, with Σ W₂·W₁ over those with W₁ &gt; 0 and over those with W₁ &lt; 0
    /// both −1, so they add −h for either sign (a reset; other units and b₂ may write a new value).
    /// </summary>
    private static bool Resets(BoundsModel.Mlp m, int row)
    {
        int r = Array.IndexOf(m.W2.Output, row);
        if (r < 0) return false;
        var weight = new Dictionary<int, double>();
        for (int e = m.W2.Start[r]; e < m.W2.Start[r + 1]; e++) weight[m.W2.Cols[e]] = m.W2.Values[e];
        var readers = new HashSet<int>();
        double up = 0, down = 0;
        for (int u = 0; u < m.W1.Count; u++)
        {
            bool reads = false;
            for (int e = m.W1.Start[u]; e < m.W1.Start[u + 1]; e++) reads |= m.W1.Cols[e] == row;
            if (!reads) continue;
            if (!weight.TryGetValue(u, out double w) || m.W1.Start[u + 1] - m.W1.Start[u] != 1 || m.B1[u] != 0) return false;
            readers.Add(u);
            double a = m.W1.Values[m.W1.Start[u]];
            if (a > 0) up += w * a; else down += w * a;
        }
        for (int q = 0; q < m.W2.Count; q++)
            if (q != r)
                for (int e = m.W2.Start[q]; e < m.W2.Start[q + 1]; e++) if (readers.Contains(m.W2.Cols[e])) return false;
        return up == -1 && down == -1;
    }

    /// <summary>Whether a layer after l reads <paramref name="row"/> before one writes it again (the read-out reads at the end).</summary>
    private static bool ReadBeforeRewrite(TransformerModel model, BoundsModel bounds, int row, int l)
    {
        for (int next = l + 1; next < bounds.Layers.Length; next++)
        {
            var layer = bounds.Layers[next];
            bool reads = layer switch
            {
                BoundsModel.Attention a => a.Heads.Any(h => h.Q.Cols.Contains(row) || h.K.Cols.Contains(row) || h.V.Cols.Contains(row)),
                BoundsModel.Mlp m => m.W1.Cols.Contains(row),
                _ => true,
            };
            if (reads) return true;
            if (layer.Written.Contains(row)) return false;
        }
        var r = model.ReadOut;
        return row == r.Prediction || r.Beta.Any(b => Enumerable.Range(0, b.Width).Any(a => b[a] == row))
            || (r.Mixing is { } mix && Enumerable.Range(0, mix.Width).Any(a => mix[a] == row));
    }
}
