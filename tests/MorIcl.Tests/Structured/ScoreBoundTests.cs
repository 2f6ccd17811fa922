using System.Numerics;
using System.Runtime.Intrinsics;
using MorIcl.Runtime.Structured;

namespace MorIcl.Tests.Structured;

/// <summary>
/// The upward rounding of the unformed-score bound (docs/math.md §9.3). <see cref="ScoreBound.NextUp"/> must be the
/// next double (checked against the runtime's <see cref="Math.BitIncrement"/> and the order of the doubles), and
/// <see cref="ScoreBound.Upper"/> must bound every score of the block, computed fused, unfused or exactly (exact
/// dyadic arithmetic in BigInteger), on inputs where a bound rounded to nearest falls below: exact ties, subnormal
/// products, a sum whose rounding error is absorbed. Each check is also run on a wrong version, which it must reject.
/// </summary>
public class ScoreBoundTests
{
    private delegate double UpperBound(double positionalMax, ReadOnlySpan<double> maxAbsQ, ReadOnlySpan<double> maxAbsK, bool single);

    private static readonly double[] Specials =
    [
        0.0, -0.0, double.Epsilon, -double.Epsilon, 2 * double.Epsilon, -2 * double.Epsilon,
        BitConverter.Int64BitsToDouble(0x000F_FFFF_FFFF_FFFF), -BitConverter.Int64BitsToDouble(0x000F_FFFF_FFFF_FFFF),   // the largest subnormal
        2.2250738585072014E-308, -2.2250738585072014E-308, 1, -1, 0.5, -0.5, 1 + Math.ScaleB(1, -52), 3, -3,
        double.MaxValue, -double.MaxValue, Math.BitDecrement(double.MaxValue), 1e300, -1e-300, 4096, -4096,
    ];

    /// <summary>Why <paramref name="up"/> is not the next double above x (null when it is on every sample).</summary>
    private static string? NextDoubleViolation(Func<double, double> up)
    {
        var rng = new Random(2026);
        var samples = Specials.Concat(Enumerable.Range(0, 20000).Select(_ => BitConverter.Int64BitsToDouble(rng.NextInt64(long.MinValue, long.MaxValue))));
        foreach (double x in samples)
        {
            double u = up(x);
            if (!double.IsFinite(x))
            {
                if (BitConverter.DoubleToInt64Bits(u) != BitConverter.DoubleToInt64Bits(x) && !(double.IsNaN(x) && double.IsNaN(u)))
                    return $"{x:R} ↦ {u:R}: a non-finite value must stay as it is";
                continue;
            }
            if (!(u > x)) return $"{x:R} ↦ {u:R}: not above";
            // No double strictly between: the double below u is at most x (BitDecrement(+ε) = +0 ≤ −0 counts as equal).
            if (Math.BitDecrement(u) > x) return $"{x:R} ↦ {u:R}: skips {Math.BitDecrement(u):R}";
            if (BitConverter.DoubleToInt64Bits(u) != BitConverter.DoubleToInt64Bits(Math.BitIncrement(x))) return $"{x:R} ↦ {u:R}: not BitIncrement";
        }
        return null;
    }

    [Fact]
    public void NextUpIsTheNextDoubleAndRejectsWrongVersions()
    {
        Assert.Null(NextDoubleViolation(ScoreBound.NextUp));
        Assert.True(double.IsNaN(ScoreBound.NextUp(double.NaN)));
        Assert.Equal(double.PositiveInfinity, ScoreBound.NextUp(double.PositiveInfinity));
        Assert.Equal(double.NegativeInfinity, ScoreBound.NextUp(double.NegativeInfinity));
        Assert.Equal(double.PositiveInfinity, ScoreBound.NextUp(double.MaxValue));
        Assert.Equal(double.Epsilon, ScoreBound.NextUp(-0.0));
        Assert.Equal(0.0, ScoreBound.NextUp(-double.Epsilon));
        // Round to nearest (no step), a relative step (vanishes on subnormals and at 0), an absolute one (absorbed by large values).
        Assert.NotNull(NextDoubleViolation(x => x));
        Assert.NotNull(NextDoubleViolation(x => x * (1 + Math.ScaleB(1, -52))));
        Assert.NotNull(NextDoubleViolation(x => x + double.Epsilon));
        // Bits + 1 whatever the sign: goes down for negative values, and −0 + 1 bit is −ε.
        Assert.NotNull(NextDoubleViolation(x => double.IsFinite(x) ? BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(x) + 1) : x));
    }

    /// <summary>An exact dyadic number: value = M · 2^−Scale.</summary>
    private const int Scale = 2 * 1074 + 8;

    private static BigInteger Exact(double x)
    {
        if (!double.IsFinite(x)) throw new ArgumentException("finite only");
        long bits = BitConverter.DoubleToInt64Bits(x);
        int e = (int)((bits >> 52) & 0x7FF);
        long m = bits & 0x000F_FFFF_FFFF_FFFF;
        if (e == 0) e = 1; else m |= 1L << 52;
        var value = new BigInteger(m) << (e - 1075 + Scale);   // x = m · 2^(e − 1075), and e − 1075 ≥ −1074
        return bits < 0 ? -value : value;
    }

    /// <summary>Exact product of two doubles, on the scale 2^−Scale (exponents ≥ −2·1074 ≥ −Scale).</summary>
    private static BigInteger ExactProduct(double x, double y) => Exact(x) * Exact(y) >> Scale;

    /// <summary>
    /// Why <paramref name="upper"/> does not bound the scores (null when it does): for each case, scores with
    /// |q_a| ≤ maxAbsQ[a], |k_a| ≤ maxAbsK[a] (the maxima themselves, signs drawn, and fractions of them) and a
    /// positional part P ≤ positionalMax, computed in T unfused (RN(acc + RN(q·k))), fused, and exactly.
    /// </summary>
    private static string? BoundViolation(UpperBound upper, bool single)
    {
        foreach (var (p, q, k) in Cases(single))
        {
            double u = upper(p, q, k, single);
            if (double.IsNaN(u)) return $"NaN bound on finite case P = {p:R}";
            var rng = new Random(17);
            for (int draw = 0; draw < 8; draw++)
            {
                var qs = q.Select(m => Draw(rng, m, draw, single)).ToArray();
                var ks = k.Select(m => Draw(rng, m, draw, single)).ToArray();
                // P itself (an integer ≤ positionalMax; the cases' P are exact in T) and the scores from it.
                BigInteger exact = Exact(p);
                double unfused = p, fused = p;
                float unfusedF = (float)p, fusedF = (float)p;
                for (int a = 0; a < qs.Length; a++)
                {
                    exact += ExactProduct(qs[a], ks[a]);
                    unfused += qs[a] * ks[a];
                    fused = Math.FusedMultiplyAdd(qs[a], ks[a], fused);
                    unfusedF += (float)qs[a] * (float)ks[a];
                    fusedF = MathF.FusedMultiplyAdd((float)qs[a], (float)ks[a], fusedF);
                }
                if (u == double.PositiveInfinity) continue;
                var bound = Exact(u);
                if (bound < exact) return $"P = {p:R}, q = [{string.Join(", ", qs)}], k = [{string.Join(", ", ks)}]: bound {u:R} below the exact score";
                double[] computed = single ? [unfusedF, fusedF] : [unfused, fused];
                foreach (double s in computed)
                    if (!(u >= s)) return $"P = {p:R}: bound {u:R} below a computed score {s:R}";
            }
        }
        return null;
    }

    /// <summary>|value| ≤ max: the maximum (draw 0), with a random sign, or a random fraction of it, representable in T.</summary>
    private static double Draw(Random rng, double max, int draw, bool single)
    {
        double v = draw == 0 ? max : rng.Next(2) == 0 ? -max : max * rng.NextDouble();
        if (single) { float f = (float)v; if (Math.Abs((double)f) > max) f = MathF.BitDecrement(Math.Abs(f)) * Math.Sign(f); v = f; }
        return v;
    }

    private static IEnumerable<(double P, double[] Q, double[] K)> Cases(bool single)
    {
        double half = single ? Math.ScaleB(1, -24) : Math.ScaleB(1, -53);   // half an ulp of 1 in T
        double tiny = single ? float.Epsilon : double.Epsilon;
        // Exact ties: 1 + half an ulp rounds (to even) down to 1, twice.
        yield return (1, [half], [1]);
        yield return (1, [half, half], [1, 1]);
        yield return (-4096 + 1, [1, half], [1, 1]);
        // A subnormal product: ε·½ is a tie between 0 and ε, rounded to 0.
        yield return (0, [tiny], [0.5]);
        yield return (0, [tiny, tiny], [0.5, 0.25]);
        // A large positional part absorbing small products: each sum rounds back to P.
        yield return (single ? 1 << 20 : 1L << 50, [0.01, 0.02, 0.03], [0.01, 0.02, 0.03]);
        yield return (-8, [], []);
        var rng = new Random(5);
        for (int c = 0; c < 200; c++)
        {
            int dc = rng.Next(1, 12);
            double Pick() => rng.Next(6) switch
            {
                0 => 0,
                1 => tiny * rng.Next(1, 64),
                2 => half * rng.Next(1, 4),
                _ => single ? (float)(rng.NextDouble() * Math.Pow(2, rng.Next(-20, 20))) : rng.NextDouble() * Math.Pow(2, rng.Next(-40, 40)),
            };
            yield return (-rng.Next(0, 5000), Enumerable.Range(0, dc).Select(_ => Pick()).ToArray(), Enumerable.Range(0, dc).Select(_ => Pick()).ToArray());
        }
    }

    /// <summary>The steps of §9.3 rounded to nearest instead of upward: what a naive bound would compute.</summary>
    private static double Nearest(double positionalMax, ReadOnlySpan<double> maxAbsQ, ReadOnlySpan<double> maxAbsK, bool single)
    {
        double u = positionalMax;
        for (int a = 0; a < maxAbsQ.Length; a++)
            u = single ? (float)u + (float)maxAbsQ[a] * (float)maxAbsK[a] : u + maxAbsQ[a] * maxAbsK[a];
        return u;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void UpperBoundsEveryScoreAndRejectsRoundingToNearest(bool single)
    {
        Assert.Null(BoundViolation(ScoreBound.Upper, single));
        Assert.NotNull(BoundViolation(Nearest, single));
        // Upward in double, then only to the float below: a float sum rounded down again.
        if (single) Assert.NotNull(BoundViolation((p, q, k, _) => (float)ScoreBound.Upper(p, q, k, false), single));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NonFiniteMaximaProveNothing(bool single)
    {
        Assert.True(double.IsNaN(ScoreBound.Upper(0, [double.NaN], [1], single)));
        Assert.True(double.IsNaN(ScoreBound.Upper(0, [double.PositiveInfinity], [0], single)));   // ∞·0
        Assert.True(double.IsNaN(ScoreBound.Upper(double.NaN, [1], [1], single)));
        Assert.True(double.IsNaN(ScoreBound.Upper(-1, [double.PositiveInfinity, 1], [1, double.NaN], single)));
        Assert.Equal(double.PositiveInfinity, ScoreBound.Upper(-1, [double.PositiveInfinity], [1], single));
        Assert.Equal(double.PositiveInfinity, ScoreBound.Upper(0, [double.MaxValue], [2], single));             // the product overflows
        Assert.Equal(double.PositiveInfinity, ScoreBound.Upper(double.MaxValue, [1], [1], single));             // the sum's next-up overflows
        if (single) Assert.Equal(double.PositiveInfinity, ScoreBound.Upper(0, [1e39], [1], single));           // beyond float
    }
    [Fact]
    public void TheVectorNextUpIsTheScalarOneInEveryLane()
    {
        var rng = new Random(99);
        var values = Specials.Concat([double.NaN, double.PositiveInfinity, double.NegativeInfinity, BitConverter.Int64BitsToDouble(0x7FF8_0000_0000_0001)])
            .Concat(Enumerable.Range(0, 4000).Select(_ => BitConverter.Int64BitsToDouble(rng.NextInt64(long.MinValue, long.MaxValue)))).ToArray();
        for (int i = 0; i + 4 <= values.Length; i++)
        {
            var got = ScoreBound.NextUp(Vector256.Create(values.AsSpan(i, 4)));
            for (int l = 0; l < 4; l++)
                Assert.Equal(BitConverter.DoubleToInt64Bits(ScoreBound.NextUp(values[i + l])), BitConverter.DoubleToInt64Bits(got[l]));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BlocksBoundedTogetherHaveTheBitsOfOneUpperEach(bool single)
    {
        // Maxima with zeros, subnormals, ties, NaN and +∞ (the stride and offsets of the per-role maxima).
        var rng = new Random(single ? 3 : 4);
        double[] pool = [0, double.Epsilon, 3 * double.Epsilon, Math.ScaleB(1, -53), 0.5, 1, 1e-300, 1e300, double.NaN, double.PositiveInfinity, 2.2250738585072014E-308];
        double Pick() => rng.Next(4) == 0 ? pool[rng.Next(pool.Length)] : rng.NextDouble() * Math.Pow(2, rng.Next(-60, 60));
        for (int trial = 0; trial < 300; trial++)
        {
            int dk = rng.Next(1, 20), dc = rng.Next(0, dk + 1), roles = rng.Next(1, 6), count = rng.Next(0, roles * roles + 1);
            var maxQ = Enumerable.Range(0, roles * dk).Select(_ => Pick()).ToArray();
            var maxK = Enumerable.Range(0, roles * dk).Select(_ => Pick()).ToArray();
            var qOffset = Enumerable.Range(0, count).Select(_ => rng.Next(roles) * dk).ToArray();
            var kOffset = Enumerable.Range(0, count).Select(_ => rng.Next(roles) * dk).ToArray();
            var positional = Enumerable.Range(0, count).Select(_ => rng.Next(5) == 0 ? pool[rng.Next(pool.Length)] : -(double)rng.Next(0, 100000)).ToArray();
            var bound = new double[count];
            ScoreBound.UpperOfBlocks(positional, qOffset, kOffset, maxQ, maxK, dc, single, bound);
            for (int i = 0; i < count; i++)
            {
                double want = ScoreBound.Upper(positional[i], maxQ.AsSpan(qOffset[i], dc), maxK.AsSpan(kOffset[i], dc), single);
                Assert.Equal(BitConverter.DoubleToInt64Bits(want), BitConverter.DoubleToInt64Bits(bound[i]));
            }
        }
    }
}
