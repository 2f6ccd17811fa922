using System.Numerics;
using MorIcl.Numerics.Simd;
using MorIcl.Runtime.Structured;

namespace MorIcl.Tests.Structured;

/// <summary>
/// <see cref="ExpRowMemo{T}"/>: a row of arguments gets the bits of <see cref="SimdSpan.Exp{T}(ReadOnlySpan{T}, Span{T})"/>,
/// remembered only for a row bitwise equal to one seen before. Rows that differ in one element anywhere, or in length,
/// must be computed (a memo that compared a prefix, or the length alone, fails here).
/// </summary>
public class ExpRowMemoTests
{
    private static T[] Row<T>(int length, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(seed);
        var row = new T[length];
        for (int i = 0; i < length; i++) row[i] = T.CreateChecked(-30 * rng.NextDouble());
        if (length > 3) { row[0] = T.Zero; row[1] = T.NegativeZero; row[2] = T.NaN; row[3] = T.NegativeInfinity; }
        return row;
    }

    private static T[] Exp<T>(T[] x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = new T[x.Length];
        SimdSpan.Exp<T>(x, y);
        return y;
    }

    private static void AssertBits<T>(T[] expected, T[] actual, string what) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(StructuredScratch<T>.Bits(expected[i]) == StructuredScratch<T>.Bits(actual[i]), $"{what}: element {i} is {actual[i]}, expected {expected[i]}");
    }

    private static void Check<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var memo = new ExpRowMemo<T>(4);
        foreach (int length in new[] { 1, 7, 8, 33, 200 })
        {
            var x = Row<T>(length, length);
            var first = (T[])x.Clone();
            Assert.False(memo.InPlace(first), $"n = {length}: a row never seen was remembered");
            AssertBits(Exp(x), first, $"n = {length}, computed");
            var again = (T[])x.Clone();
            Assert.True(memo.InPlace(again), $"n = {length}: the same row was not remembered");
            AssertBits(Exp(x), again, $"n = {length}, remembered");
            // One element changed by one unit in the last place, at the start, the middle and the end.
            foreach (int at in new[] { 0, length / 2, length - 1 }.Distinct())
            {
                var y = (T[])x.Clone();
                y[at] = T.IsNaN(y[at]) ? T.One : T.BitIncrement(y[at]);
                var expected = Exp(y);
                Assert.False(memo.InPlace(y), $"n = {length}: a row differing at {at} was taken as remembered");
                AssertBits(expected, y, $"n = {length}, changed at {at}");
            }
        }
        // A prefix of a remembered row is another row.
        var longRow = Row<T>(40, 3);
        memo.InPlace((T[])longRow.Clone());
        var prefix = longRow[..20];
        var expectedPrefix = Exp(prefix);
        Assert.False(memo.InPlace(prefix), "a prefix of a remembered row was taken as remembered");
        AssertBits(expectedPrefix, prefix, "prefix");
    }

    /// <summary>
    /// K = 5 E-step gates, each forming the same K rows in its own slot order (its own component first), with the memo the
    /// scratch gives a prompt of K + 2 roles: every row after the first gate's is remembered (a memo of four rows, which
    /// evicts a row before the next gate asks for it, remembers 16 of the 20).
    /// </summary>
    [Fact]
    public void AllButTheFirstGatesRowsAreRememberedForFiveComponents()
    {
        const int K = 5;
        var memo = new ExpRowMemo<double>(K + 2);
        var rows = Enumerable.Range(0, K).Select(c => Row<double>(50, 100 + c)).ToArray();
        int hits = 0;
        for (int gate = 0; gate < K; gate++)
            foreach (int c in new[] { gate }.Concat(Enumerable.Range(0, K).Where(c => c != gate)))
            {
                var x = (double[])rows[c].Clone();
                if (memo.InPlace(x)) hits++;
                AssertBits(Exp(rows[c]), x, $"gate {gate}, component {c}");
            }
        Assert.Equal(K * K - K, hits);
    }

    [Fact] public void RowsGetTheBitsOfExpAndOnlyEqualRowsAreRemembered_Double() => Check<double>();
    [Fact] public void RowsGetTheBitsOfExpAndOnlyEqualRowsAreRemembered_Float() => Check<float>();
}
