using System.Numerics;
using MorIcl.Numerics.Simd;

namespace MorIcl.Tests.Simd;

/// <summary>
/// The span reductions of <see cref="SimdSpan"/>: the documented order (lane i mod L, the tail as the
/// last L elements with only the fresh lanes kept, fixed tree), written out independently here, and the same bits from every realisation.
/// </summary>
public sealed class ReductionTests
{
    /// <summary>The order SimdSpan documents, by hand: lanes of 64 bytes, then halves folded.</summary>
    private static T ReferenceSum<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int L = 64 / System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        var lanes = new T[L];
        int full = x.Length / L * L;
        for (int i = 0; i < full; i++) lanes[i % L] += x[i];
        int rest = x.Length - full;
        if (rest > 0 && x.Length < L) for (int l = 0; l < L; l++) lanes[l] += l < x.Length ? x[l] : T.Zero;
        else if (rest > 0) for (int l = 0; l < L; l++) lanes[l] += l >= L - rest ? x[x.Length - L + l] : T.Zero;   // the last L elements, fresh lanes only
        for (int w = L / 2; w >= 1; w /= 2)
            for (int l = 0; l < w; l++) lanes[l] += lanes[l + w];
        return lanes[0];
    }

    public static IEnumerable<object[]> Lengths => new[] { 0, 1, 7, 8, 15, 16, 17, 33, 100, 1001 }.Select(n => new object[] { n });

    [Theory, MemberData(nameof(Lengths))]
    public void Sum_and_dot_follow_the_documented_order_on_every_realisation(int n)
    {
        var rng = new Random(n + 1);
        var x = Enumerable.Range(0, n).Select(_ => (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-8, 9))).ToArray();
        var y = Enumerable.Range(0, n).Select(_ => rng.NextDouble() - 0.5).ToArray();
        Check(x, y);
        Check(x.Select(v => (float)v).ToArray(), y.Select(v => (float)v).ToArray());
    }

    [Fact]
    public void One_element_sums_keep_the_sign_rule_of_the_lanes()
    {
        // Lane 0 holds 0 + x: a sum or dot of one −0 is +0, as in the documented order.
        Assert.Equal(BitConverter.DoubleToInt64Bits(ReferenceSum<double>(new[] { -0.0 })), BitConverter.DoubleToInt64Bits(SimdSpan.Sum<double>(new[] { -0.0 })));
        Assert.Equal(0L, BitConverter.DoubleToInt64Bits(SimdSpan.Dot<double>(new[] { -0.0 }, new[] { 2.0 })));
        Assert.Equal(0, BitConverter.SingleToInt32Bits(SimdSpan.Sum<float>(new[] { -0.0f })));
    }

    [Theory, MemberData(nameof(Lengths))]
    public void A_sum_given_in_pieces_has_the_bits_of_one_call(int n)
    {
        // The block schedule's reductions (docs/math.md §9.6): pieces on multiples of the lane count, the last one
        // holding at least the last L elements; Sum, and Dot against a constant, of the whole.
        var rng = new Random(n + 7);
        var x = Enumerable.Range(0, n).Select(_ => (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-8, 9))).ToArray();
        Pieces(x, 0.3);
        Pieces(x.Select(v => (float)v).ToArray(), -0.7f);
    }

    private static void Pieces<T>(T[] x, T w) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int L = SimdSpan.VirtualLanes<T>();
        var filled = Enumerable.Repeat(w, x.Length).ToArray();
        foreach (int block in new[] { L, 2 * L, 5 * L })
            foreach (bool weighted in new[] { false, true })
            {
                var lanes = new T[L];
                for (int lo = 0; lo < x.Length;)
                {
                    int hi = x.Length - lo < block + L ? x.Length : lo + block;
                    SimdSpan.AccumulateSum<T>(lanes, x.AsSpan(lo, hi - lo), lo, x.Length, w, weighted);
                    lo = hi;
                }
                T got = SimdSpan.SumOfLanes<T>(lanes), want = weighted ? SimdSpan.Dot<T>(x, filled) : SimdSpan.Sum<T>(x);
                Assert.True(got.Equals(want) && T.IsNegative(got) == T.IsNegative(want), $"n = {x.Length}, blocks of {block}, weighted {weighted}: {got} vs {want}");
            }
        // Several rows at once (the example means' value sums): each the Dot of its row against its weight.
        int n = x.Length / 3;
        var rows = Enumerable.Range(0, 6).Select(k => k % 3 * n).ToArray();
        var weights = Enumerable.Range(0, 6).Select(k => T.CreateChecked(k - 2.5)).ToArray();
        var sums = new T[6];
        SimdSpan.WeightedSums<T>(x, rows, weights, n, sums);
        for (int k = 0; k < 6; k++)
        {
            T want = SimdSpan.Dot<T>(x.AsSpan(rows[k], n), Enumerable.Repeat(weights[k], n).ToArray());
            Assert.True(sums[k].Equals(want) && T.IsNegative(sums[k]) == T.IsNegative(want), $"row {k} of {n}: {sums[k]} vs {want}");
        }
    }

    private static void Check<T>(T[] x, T[] y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T sum = ReferenceSum<T>(x);
        T dot = ReferenceSum<T>(x.Zip(y, (a, b) => a * b).ToArray());
        T max = x.Length == 0 ? T.NegativeInfinity : x.Aggregate(T.NegativeInfinity, T.Max);
        Assert.Equal(Bits.Of(sum), Bits.Of(SimdSpan.Sum<T>(x)));
        Assert.Equal(Bits.Of(dot), Bits.Of(SimdSpan.Dot<T>(x, y)));
        Assert.Equal(Bits.Of(max), Bits.Of(SimdSpan.Max<T>(x)));
        foreach (var (s, d, m) in new[] { Via<Lanes512<T>, T>(x, y), Via<Lanes256x2<T>, T>(x, y), Via<Lanes128x4<T>, T>(x, y) })
        {
            Assert.Equal(Bits.Of(sum), Bits.Of(s));
            Assert.Equal(Bits.Of(dot), Bits.Of(d));
            Assert.Equal(Bits.Of(max), Bits.Of(m));
        }
    }

    private static (T, T, T) Via<TW, T>(T[] x, T[] y) where TW : struct, IWideLanes<TW, T> where T : unmanaged, IFloatingPointIeee754<T> =>
        (Reductions<TW, T>.Sum(x), Reductions<TW, T>.Dot(x, y), Reductions<TW, T>.Max(x));

    [Fact]
    public void Weighted_sums_of_rows_shorter_than_the_lanes_are_the_documented_dots_on_every_realisation()
    {
        // Rows of 0 … L elements (the single-token roles' value sums) with signed zeros, NaN and ±∞: each the documented
        // order's sum of the products (ReferenceSum), on each realisation of the lanes.
        ShortRows(new[] { -0.0, -0.0, 1e-300, -1e-300, double.NaN, double.PositiveInfinity, 3.5, -2.25, 1e16, -1e16, 1, 0.1, -0.0, 7, 1e-17, 0.3, 5 }, new[] { 1.0, -1.0, 0.5, -0.0 });
        ShortRows(new[] { -0.0f, -0.0f, 1e-30f, -1e-30f, float.NaN, float.NegativeInfinity, 3.5f, -2.25f, 1e8f, -1e8f, 1, 0.1f, -0.0f, 7, 1e-9f, 0.3f, 5 }, new[] { 1.0f, -1.0f, 0.5f, -0.0f });
    }

    private static void ShortRows<T>(T[] x, T[] weights) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int L = SimdSpan.VirtualLanes<T>();
        foreach (int n in new[] { 0, 1, 2, 3, L - 1, L })
            for (int from = 0; from + n <= x.Length; from += 3)
            {
                // Four rows at different offsets and one more (the four-row pass and the single rows after it).
                var offsets = Enumerable.Range(0, 5).Select(k => Math.Min(from + k, x.Length - n)).ToArray();
                var w = Enumerable.Range(0, 5).Select(k => weights[k % weights.Length]).ToArray();
                var want = offsets.Select((o, k) => ReferenceSum<T>(x.AsSpan(o, n).ToArray().Select(v => v * w[k]).ToArray())).ToArray();
                foreach (var got in new[] { Sums<Lanes512<T>, T>(x, offsets, w, n), Sums<Lanes256x2<T>, T>(x, offsets, w, n), Sums<Lanes128x4<T>, T>(x, offsets, w, n) })
                    for (int k = 0; k < 5; k++) Assert.True(Bits.Of(want[k]) == Bits.Of(got[k]) || (T.IsNaN(want[k]) && T.IsNaN(got[k])), $"n = {n}, row at {offsets[k]}: {got[k]} vs {want[k]}");
            }
    }

    private static T[] Sums<TW, T>(T[] x, int[] offsets, T[] w, int n) where TW : struct, IWideLanes<TW, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        var sums = new T[offsets.Length];
        Reductions<TW, T>.WeightedSums(x, offsets, w, n, sums);
        return sums;
    }

    [Fact]
    public void A_different_order_gives_different_bits_so_the_check_can_fail()
    {
        // Left-to-right summation of these values differs from the lane order: the comparison above is not vacuous.
        var rng = new Random(5);
        var x = Enumerable.Range(0, 1001).Select(_ => (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-8, 9))).ToArray();
        double sequential = 0; foreach (double v in x) sequential += v;
        Assert.NotEqual(sequential, SimdSpan.Sum<double>(x));
    }
}
