using System.Numerics;
using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Runtime;
using MorIcl.Tests.Simd;

namespace MorIcl.Tests.Runtime;

/// <summary>
/// The prompt's embedding written feature-major (<see cref="FeatureMajorEmbedding"/>) against staging the tokens of
/// <see cref="PromptTokens.Embed(TransformerModel, RegressionData, double[])"/> (Embedding.WriteToken, the definition):
/// the same H (every number and the padding, over a stream that held other numbers), finiteness flags and count, bit for
/// bit, in double and float, with NaN, ±∞, −0, subnormals and a float overflow in x and y, and with positions past the
/// scheme (they wrap as WriteToken wraps them).
/// </summary>
public class FeatureMajorEmbeddingTests
{
    private static (ulong[] H, bool[] Finite, int Bad) ByTokens<T>(TransformerModel model, RegressionData examples, double[] query, int ld) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int D = model.Dimension, N = model.Embedding.TokenCount(examples.N);
        var h = Enumerable.Repeat(T.CreateChecked(7.5), D * ld).ToArray();
        var finite = new bool[D];
        int bad = FeatureMajorLoad<T>.Load(h, ld, D, N, write => PromptTokens.Embed(model, examples, query, write), finite, new T[FeatureMajorLoad<T>.Block * D]);
        return (h.Select(Bits.Of).ToArray(), finite, bad);
    }

    private static (ulong[] H, bool[] Finite, int Bad) Direct<T>(TransformerModel model, RegressionData examples, double[] query, int ld) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int D = model.Dimension;
        var h = Enumerable.Repeat(T.CreateChecked(-3.25), D * ld).ToArray();
        var finite = Enumerable.Repeat(false, D).ToArray();
        var writer = FeatureMajorEmbedding.TryCreate(model);
        Assert.NotNull(writer);
        int bad = writer.Load(examples, query, h, ld, finite);
        return (h.Select(Bits.Of).ToArray(), finite, bad);
    }

    private static (RegressionData Examples, double[] Query) Prompt(int d, int n, int seed, bool specials)
    {
        var truth = new MixtureSpec(RegressionVectors.DrawNormalised(d, 2, SeedSequence.Create(seed, 2, d)), new[] { 0.5, 0.5 }, 0.5, MixtureMode.PerSample);
        var p = PromptSampler.Sample(truth, n, seed, 0);
        var cols = p.Examples.Columns.ToArray(); var y = p.Examples.Y.ToArray(); var q = p.Query.ToArray();
        if (specials)
        {
            double[] values = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, 1e-310, 1e39, -1e-45];
            var rng = new Random(seed);
            for (int k = 0; k < values.Length; k++) cols[rng.Next(cols.Length)] = values[k];
            y[rng.Next(n)] = -0.0; y[rng.Next(n)] = 1e39;
            q[0] = -0.0;
        }
        return (new RegressionData(n, d, cols, y), q);
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(31, true)]
    [InlineData(70, true)]
    [InlineData(1000, true)]
    public void TheDirectEmbeddingIsTheTokenOneBitForBit(int n, bool specials)
    {
        var model = Compiler.Compile(new ConstructionSpec(3, 2, 0.5, null, 1, 1, 0.5));
        var (examples, query) = Prompt(3, n, n, specials);
        int ld = model.Embedding.TokenCount(n) + 9;
        Same(ByTokens<double>(model, examples, query, ld), Direct<double>(model, examples, query, ld));
        Same(ByTokens<float>(model, examples, query, ld), Direct<float>(model, examples, query, ld));
        if (specials) Assert.True(Direct<double>(model, examples, query, ld).Bad > 0);
    }

    [Fact]
    public void PositionsPastTheSchemeWrapAsWriteTokenWrapsThem()
    {
        var model = Compiler.Compile(new ConstructionSpec(2, 2, 0.5, null, 1, 1, 0.5, maxPromptLength: 20));
        int n = (int)model.Embedding.MaxPosition + 40;
        var (examples, query) = Prompt(2, n, 5, specials: false);
        int ld = model.Embedding.TokenCount(n) + 3;
        Same(ByTokens<double>(model, examples, query, ld), Direct<double>(model, examples, query, ld));
    }

    [Fact]
    public void APromptOfAnotherDimensionIsRefused()
    {
        var model = Compiler.Compile(new ConstructionSpec(3, 2, 0.5, null, 1, 1, 0.5));
        var (examples, _) = Prompt(2, 10, 1, specials: false);
        var writer = FeatureMajorEmbedding.TryCreate(model)!;
        Assert.Throws<SpecificationException>(() => writer.Load(examples, new double[3], new double[model.Dimension * 16], 16, new bool[model.Dimension]));
        var (right, _) = Prompt(3, 10, 1, specials: false);
        Assert.Throws<SpecificationException>(() => writer.Load(right, new double[2], new double[model.Dimension * 16], 16, new bool[model.Dimension]));
    }

    private static void Same((ulong[] H, bool[] Finite, int Bad) tokens, (ulong[] H, bool[] Finite, int Bad) direct)
    {
        Assert.Equal(tokens.Bad, direct.Bad);
        Assert.Equal(tokens.Finite, direct.Finite);
        int first = Enumerable.Range(0, tokens.H.Length).FirstOrDefault(i => tokens.H[i] != direct.H[i], -1);
        Assert.True(first < 0, $"H differs at {first}");
    }
}
