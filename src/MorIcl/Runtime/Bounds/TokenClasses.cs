using MorIcl.Construction.Model;

namespace MorIcl.Runtime.Bounds;

/// <summary>
/// Tokens a head cannot tell apart (docs/math.md §8.6): keys whose key and value enclosures are
/// identical (center, radii, coefficients) and whose role is the same contribute identical terms, so
/// a sum over them is one term times their number; queries whose query enclosure and role are the
/// same get identical rows. A product with a replicated quantity (every key alike) and an example mean
/// (every query alike) then cost O(N) instead of O(N²). Heads that admit a token's own key (Self)
/// are left as they are: there, each query's own key is special.
/// </summary>
internal static class TokenClasses
{
    /// <summary>
    /// Representatives of the classes of identical columns of <paramref name="blocks"/> (all with N
    /// tokens) with the same role: <paramref name="representative"/>[c], <paramref name="members"/> of
    /// class c (ascending token order), and the class of every token.
    /// </summary>
    public static int Classify(Enclosure[] blocks, int[] roles, int N, List<int> representative, List<List<int>> members, int[] classOf)
    {
        representative.Clear(); members.Clear();
        var byHash = new Dictionary<long, List<int>>();
        for (int j = 0; j < N; j++)
        {
            long h = roles[j];
            foreach (var b in blocks)
                for (int r = 0; r < b.Rows; r++)
                {
                    int k = r * N + j;
                    h = Mix(h, b.Center[k]); h = Mix(h, b.Pass[k]); h = Mix(h, b.Exact[k]);
                    for (int s = 0; s < b.Symbols; s++) h = Mix(h, b.G[k * b.Symbols + s]);
                }
            if (!byHash.TryGetValue(h, out var candidates)) byHash[h] = candidates = new List<int>();
            int found = -1;
            foreach (int c in candidates)
                if (roles[representative[c]] == roles[j] && Same(blocks, N, representative[c], j)) { found = c; break; }
            if (found < 0)
            {
                found = representative.Count;
                representative.Add(j); members.Add(new List<int>());
                candidates.Add(found);
            }
            members[found].Add(j);
            classOf[j] = found;
        }
        return representative.Count;
    }

    /// <summary>Copies the representatives' columns of <paramref name="source"/> into <paramref name="target"/> (rows × classes).</summary>
    public static void Compact(Enclosure source, List<int> representative, Enclosure target)
    {
        int N = source.Tokens, C = representative.Count, S = source.Symbols;
        target.Reshape(source.Rows, C, S);
        for (int r = 0; r < source.Rows; r++)
            for (int c = 0; c < C; c++)
            {
                int from = r * N + representative[c], to = r * C + c;
                target.Center[to] = source.Center[from]; target.Pass[to] = source.Pass[from];
                target.Exact[to] = source.Exact[from]; target.Integral[to] = source.Integral[from]; target.GNorm[to] = source.GNorm[from];
                if (S > 0) source.G.AsSpan(from * S, S).CopyTo(target.G.AsSpan(to * S, S));
            }
    }

    /// <summary>Whether any (query role, key role) pair of the head admits only a token's own key.</summary>
    public static bool AdmitsSelf(Admit[] admission) => admission.Any(a => a == Admit.Self);

    private static bool Same(Enclosure[] blocks, int N, int a, int b)
    {
        foreach (var e in blocks)
            for (int r = 0; r < e.Rows; r++)
            {
                int ka = r * N + a, kb = r * N + b;
                if (!Equal(e.Center[ka], e.Center[kb]) || !Equal(e.Pass[ka], e.Pass[kb]) || !Equal(e.Exact[ka], e.Exact[kb]) || e.Integral[ka] != e.Integral[kb]) return false;
                for (int s = 0; s < e.Symbols; s++) if (!Equal(e.G[ka * e.Symbols + s], e.G[kb * e.Symbols + s])) return false;
            }
        return true;
    }

    private static bool Equal(double x, double y) => BitConverter.DoubleToInt64Bits(x) == BitConverter.DoubleToInt64Bits(y);
    private static long Mix(long h, double v) => unchecked((h ^ BitConverter.DoubleToInt64Bits(v)) * 0x100000001B3L + 0x3C6EF372FE94F82AL);
}
