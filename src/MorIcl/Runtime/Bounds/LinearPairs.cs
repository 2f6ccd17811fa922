namespace MorIcl.Runtime.Bounds;

/// <summary>
/// Two ReLUs that are one linear map in exact arithmetic (docs/math.md §8.11): hidden units u, u + 1 of an
/// MLP with W₁[u + 1, ·] = −W₁[u, ·], b₁[u + 1] = −b₁[u] and W₂[·, u + 1] = −W₂[·, u] (the construction's
/// affine maps, §9.4), so that W₂[·, u]·ReLU(z) + W₂[·, u + 1]·ReLU(−z) = W₂[·, u]·z for every real z. The
/// identity holds for the exact transformer whatever the sign of z, so the analysis may treat the exact
/// side of the pair as the leader u certainly active (deviation dev z, Jacobian W₂[·, u]·W₁[u, ·]) and the
/// follower u + 1 as contributing no deviation, even where the sign of z is not certified. The pass side is
/// not affected (each unit's rounding is bounded on its own). Only the model's exact double weights are
/// compared, bit for bit.
/// </summary>
internal static class LinearPairs
{
    /// <summary>Per hidden unit: whether it leads such a pair with the next unit (pairs taken greedily from unit 0).</summary>
    public static bool[] Leaders(BoundsModel.Rows w1, double[] b1, BoundsModel.Rows w2)
    {
        int H = w1.Count;
        var columns = new List<(int Row, double Value)>[H];
        for (int u = 0; u < H; u++) columns[u] = new();
        for (int r = 0; r < w2.Count; r++)
            for (int e = w2.Start[r]; e < w2.Start[r + 1]; e++) columns[w2.Cols[e]].Add((w2.Output[r], w2.Values[e]));
        var leader = new bool[H];
        for (int u = 0; u + 1 < H; u++)
        {
            if (!Opposite(w1, u, u + 1) || b1[u + 1] != -b1[u] || !Opposite(columns[u], columns[u + 1])) continue;
            leader[u] = true;
            u++;
        }
        return leader;
    }

    /// <summary>Rows a and b of <paramref name="m"/> have the same columns and exactly opposite values (and at least one entry).</summary>
    private static bool Opposite(BoundsModel.Rows m, int a, int b)
    {
        int na = m.Start[a + 1] - m.Start[a];
        if (na == 0 || na != m.Start[b + 1] - m.Start[b]) return false;
        for (int t = 0; t < na; t++)
        {
            int ea = m.Start[a] + t, eb = m.Start[b] + t;
            if (m.Cols[ea] != m.Cols[eb] || m.Values[eb] != -m.Values[ea]) return false;
        }
        return true;
    }

    private static bool Opposite(List<(int Row, double Value)> a, List<(int Row, double Value)> b)
    {
        if (a.Count == 0 || a.Count != b.Count) return false;
        for (int t = 0; t < a.Count; t++)
            if (a[t].Row != b[t].Row || b[t].Value != -a[t].Value) return false;
        return true;
    }
}
