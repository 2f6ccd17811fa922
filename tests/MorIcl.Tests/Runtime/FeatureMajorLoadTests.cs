using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Runtime;

namespace MorIcl.Tests.Runtime;

/// <summary>
/// The sparse load of a prompt's embedding (<see cref="FeatureMajorLoad{T}"/> with <see cref="LiveRows"/>): only the
/// rows the embedding can write are staged, the others cleared in bulk. It must give the full load's H, finiteness
/// flags and count bit for bit (NaN, ±∞ and −0 included), and refuse a token that is not +0 outside the live rows
/// (−0 included: the full load would keep its sign) or tokens out of order.
/// </summary>
public class FeatureMajorLoadTests
{
    private static readonly TransformerModel Model = Compiler.Compile(new ConstructionSpec(3, 2, 0.5, null, 1, 1, 0.5));

    private static (double[] H, bool[] Finite, int Bad) Load<T>(double[][] tokens, LiveRows? live) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int D = Model.Dimension, N = tokens.Length, ld = N + 5;
        var h = Enumerable.Repeat(T.CreateChecked(7.5), D * ld).ToArray();     // not cleared beforehand: every number must be written
        var finite = new bool[D];
        var stage = new T[FeatureMajorLoad<T>.Block * D];
        Action<PromptTokens.TokenAction> give = write => { for (int i = 0; i < N; i++) write(i, tokens[i]); };
        int bad = live is null ? FeatureMajorLoad<T>.Load(h, ld, D, N, give, finite, stage) : FeatureMajorLoad<T>.Load(h, ld, D, N, give, finite, stage, live);
        return (h.Select(v => double.CreateChecked(v)).ToArray(), finite, bad);
    }

    /// <summary>A prompt's tokens (n examples) with some live coordinates replaced by special values.</summary>
    private static double[][] Tokens(int n, LiveRows live, int seed)
    {
        var truth = new MixtureSpec(RegressionVectors.DrawNormalised(3, 2, SeedSequence.Create(seed, 2, 3)), new[] { 0.5, 0.5 }, 0.5, MixtureMode.PerSample);
        var prompt = PromptSampler.Sample(truth, n, seed, 0);
        var flat = PromptTokens.Embed(Model, prompt.Examples, prompt.Query);
        int D = Model.Dimension;
        var tokens = Enumerable.Range(0, flat.Length / D).Select(i => flat.AsSpan(i * D, D).ToArray()).ToArray();
        var rng = new Random(seed);
        double[] specials = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, 1e-310];
        for (int k = 0; k < 12; k++) tokens[rng.Next(tokens.Length)][live.Rows[rng.Next(live.Rows.Length)]] = specials[k % specials.Length];
        return tokens;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(70)]
    [InlineData(1000)]
    public void TheSparseLoadIsTheFullLoadBitForBit(int n)
    {
        var live = LiveRows.Of(Model);
        Assert.True(live.Rows.Length < Model.Dimension, "the embedding leaves rows at 0 (else nothing is sparse)");
        var tokens = Tokens(n, live, n);
        Same(Load<double>(tokens, null), Load<double>(tokens, live));
        Same(Load<float>(tokens, null), Load<float>(tokens, live));
    }

    private static void Same((double[] H, bool[] Finite, int Bad) full, (double[] H, bool[] Finite, int Bad) sparse)
    {
        Assert.Equal(full.Bad, sparse.Bad);
        Assert.Equal(full.Finite, sparse.Finite);
        Assert.Equal(full.H.Select(BitConverter.DoubleToInt64Bits), sparse.H.Select(BitConverter.DoubleToInt64Bits));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(-0.0)]
    [InlineData(double.NaN)]
    public void ATokenWithANumberOutsideTheLiveRowsIsRefused(double value)
    {
        var live = LiveRows.Of(Model);
        var tokens = Tokens(40, live, 3);
        int dead = Enumerable.Range(0, Model.Dimension).First(c => !live.Rows.Contains(c));
        tokens[17][dead] = value;
        Load<double>(tokens, null);                    // the full load takes it
        var e = Assert.Throws<InvalidOperationException>(() => Load<double>(tokens, live));
        Assert.Contains("token 17", e.Message);
    }

    [Fact]
    public void TokensOutOfOrderAreRefused()
    {
        var live = LiveRows.Of(Model);
        var tokens = Tokens(10, live, 4);
        int D = Model.Dimension, N = tokens.Length, ld = N + 3;
        Action<PromptTokens.TokenAction> swapped = write => { for (int i = 0; i < N; i++) write(i == 2 ? 3 : i == 3 ? 2 : i, tokens[i]); };
        Assert.Throws<InvalidOperationException>(() => FeatureMajorLoad<double>.Load(new double[D * ld], ld, D, N, swapped, new bool[D], new double[FeatureMajorLoad<double>.Block * D], live));
    }
}
