namespace MorIcl.Runtime.Structured;

/// <summary>
/// A bound on every number the score kernels form while they sum a head's positional part (docs/math.md §9.5),
/// in their actual order: the projections q_a(h_i), k_a(h_j), each product q_a·k_a, and each prefix
/// S_A(i, j) = Σ_{a &lt; A} q_a(h_i)·k_a(h_j), A = 1 … P (the dense kernel adds the dimensions strictly in order
/// a = 0, 1, …; the first is a plain product, then each product is rounded and added, or fused).
/// <para>
/// Each q_a (k_a) is an integer combination of the monomials 1, p_d, p_d² of its token's position digits
/// (<see cref="PlanCompiler"/>), so on a block of roles (qr, kr) the prefix is the polynomial
/// S_A = Σ_{m, m'} M_A[m, m']·μ_m(p)·ν_m'(q) with M_A = Σ_{a &lt; A} q_a[qr] ⊗ k_a[kr]. Its terms split by digit:
/// the constant M_A[1, 1]; for each digit d the terms that involve digit d only (p_d, p_d² of the query
/// and q_d, q_d² of the key, alone or in products of each other), a function f_d(p_d, q_d); and cross terms
/// between different digits. The digits range independently over [0, B − 1] (a superset of the positions),
/// so max S_A ≤ c + Σ_d max f_d + Σ_cross |M|·max μ·max ν and min S_A ≥ c + Σ_d min f_d − the same, with
/// max f_d and min f_d found exactly by enumerating the B² digit pairs. (The construction has no cross
/// terms, so the bound is the exact extreme over the digit grid.)
/// </para>
/// <para>
/// For the construction's −R·Σ_d (p_d − q_d)², summed per digit as (−R p_d²)·1 + (2R p_d)·q_d + (−R)·q_d²,
/// the prefixes are S_{d−1} − R p_d², S_{d−1} + R(q_d² − (p_d − q_d)²) and S_d, all in [−G·R·(B−1)², R·(B−1)²];
/// the product 2R·p_d·q_d reaches 2R(B−1)². Summing |terms| instead (Σ_a max|q_a|·max|k_a| = 4R(B−1)² per digit)
/// overstates this G-fold more, which made the float prefix look inexact at G = 4, R = 4096.
/// </para>
/// When every weight and every role-constant row read is an integer, every one of these numbers is an integer,
/// and while the bound is ≤ 2^p each is representable in a p-bit significand, so every rounding is exact and
/// the prefix equals the exact positional part P(i, j) in that precision.
/// </summary>
internal static class PositionalPrefixBound
{
    /// <param name="q">Per positional dimension a and role r, q_a's coefficients on [1, p_0 … p_{G−1}, p_0² … p_{G−1}²].</param>
    /// <param name="k">The same for k_a.</param>
    /// <param name="qAbs">Per a, a bound on every partial sum of q_a's projection (Σ |w|·max|row|).</param>
    /// <param name="kAbs">The same for k_a.</param>
    public static double Bound(double[][][] q, double[][][] k, double[] qAbs, double[] kAbs, EmbeddingRows rows)
    {
        int P = q.Length, roles = rows.Roles, G = rows.Digits, B = rows.PositionBase, M = 1 + 2 * G;
        double bound = 0;
        for (int a = 0; a < P; a++) bound = Math.Max(bound, Math.Max(qAbs[a] * kAbs[a], Math.Max(qAbs[a], kAbs[a])));
        var m = new double[M, M];
        var hi = new double[G];
        var lo = new double[G];
        var changed = new bool[G];
        var ranges = new Dictionary<DigitTerms, (double Min, double Max)>();
        for (int qr = 0; qr < roles; qr++)
            for (int kr = 0; kr < roles; kr++)
            {
                Array.Clear(m); Array.Clear(hi); Array.Clear(lo);
                for (int a = 0; a < P; a++)
                {
                    Array.Clear(changed);
                    for (int i = 0; i < M; i++)
                        for (int j = 0; j < M; j++)
                        {
                            double t = q[a][qr][i] * k[a][kr][j];
                            if (t == 0) continue;
                            m[i, j] += t;
                            int di = Digit(i, G), dj = Digit(j, G);
                            if (di >= 0) changed[di] = true;
                            if (dj >= 0) changed[dj] = true;
                        }
                    for (int d = 0; d < G; d++)
                        if (changed[d]) (lo[d], hi[d]) = DigitRange(m, d, G, B, ranges);
                    double cross = Cross(m, G, B), c = m[0, 0];
                    double max = c + hi.Sum() + cross, min = c + lo.Sum() - cross;
                    bound = Math.Max(bound, Math.Max(Math.Abs(max), Math.Abs(min)));
                }
            }
        return bound;
    }

    /// <summary>The digit of monomial m (1 → −1, p_d and p_d² → d).</summary>
    private static int Digit(int m, int G) => m == 0 ? -1 : (m - 1) % G;

    /// <summary>
    /// The eight coefficients M[i, j] of one digit's f_d (i, j over 1, p_d, p_d², (i, j) ≠ (1, 1)), by their bits, and B:
    /// all that <see cref="DigitRange(double[,], int, int, int)"/> reads, so equal keys have equal ranges.
    /// </summary>
    internal readonly record struct DigitTerms(long M01, long M02, long M10, long M11, long M12, long M20, long M21, long M22, int B);

    /// <summary><see cref="DigitRange(double[,], int, int, int)"/>, remembered for the digits' coefficients seen before (the construction repeats a few).</summary>
    internal static (double Min, double Max) DigitRange(double[,] m, int d, int G, int B, Dictionary<DigitTerms, (double, double)> seen)
    {
        int i1 = 1 + d, i2 = 1 + G + d;
        static long Bits(double x) => BitConverter.DoubleToInt64Bits(x);
        var key = new DigitTerms(Bits(m[0, i1]), Bits(m[0, i2]), Bits(m[i1, 0]), Bits(m[i1, i1]), Bits(m[i1, i2]), Bits(m[i2, 0]), Bits(m[i2, i1]), Bits(m[i2, i2]), B);
        if (seen.TryGetValue(key, out var range)) return range;
        return seen[key] = DigitRange(m, d, G, B);
    }

    /// <summary>Exact min and max over p, q ∈ [0, B − 1] of f_d(p, q) = Σ M[i, j]·μ_i(p)·ν_j(q) over the monomials 1, p_d, p_d² (i, j) ≠ (1, 1).</summary>
    internal static (double Min, double Max) DigitRange(double[,] m, int d, int G, int B)
    {
        int[] idx = { 0, 1 + d, 1 + G + d };
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        Span<double> mu = stackalloc double[3], nu = stackalloc double[3];
        for (int p = 0; p < B; p++)
        {
            mu[0] = 1; mu[1] = p; mu[2] = (double)p * p;
            for (int s = 0; s < B; s++)
            {
                nu[0] = 1; nu[1] = s; nu[2] = (double)s * s;
                double f = 0;
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 3; j++)
                        if (i != 0 || j != 0) f += m[idx[i], idx[j]] * mu[i] * nu[j];
                min = Math.Min(min, f); max = Math.Max(max, f);
            }
        }
        return (min, max);
    }

    /// <summary>Σ |M[i, j]|·max μ_i·max ν_j over the terms whose query and key monomials are of different digits.</summary>
    private static double Cross(double[,] m, int G, int B)
    {
        int M = 1 + 2 * G;
        double sum = 0;
        for (int i = 1; i < M; i++)
            for (int j = 1; j < M; j++)
                if (m[i, j] != 0 && Digit(i, G) != Digit(j, G)) sum += Math.Abs(m[i, j]) * MaxMonomial(i, G, B) * MaxMonomial(j, G, B);
        return sum;
    }

    private static double MaxMonomial(int m, int G, int B) => m <= G ? B - 1 : (double)(B - 1) * (B - 1);
}
