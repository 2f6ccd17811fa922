using MorIcl.Construction;
using MorIcl.Runtime;
using MorIcl.Runtime.Bounds;
using MorIcl.Runtime.Structured;
using MorIcl.Tests.Construction;
using Xunit.Abstractions;

namespace MorIcl.Tests.Bounds;

/// <summary>
/// The O(N) bounds of AdmittedKeysOnly heads (docs/math.md §8.8) against the same analysis with every
/// head bounded densely, on the same passes: they are taken on the construction's heads, and they are
/// never more optimistic — every output bound and every layer's residual bound at least the dense one,
/// every certified margin at most the dense one, every leakage bound at least the dense one. (That the
/// bounds contain the true errors is <see cref="RoundingBoundTests"/>, which runs through them.)
/// </summary>
public class StructuredBoundsTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(5)]
    [InlineData(31)]
    public void AdmittedKeysOnlyBoundsAreNeverTighterThanTheDenseOnes(int seed)
    {
        var c = ConstructedEqualsGradientEmTests.Draw(seed) with { N = 40 + seed, S = 2, T = 2, Sigma = 0.5 };
        var (spec, prompt) = ConstructedEqualsGradientEmTests.Build(c);
        var model = Compiler.Compile(spec);
        Compare<float>(model, prompt, $"seed {seed} float");
        Compare<double>(model, prompt, $"seed {seed} double");
    }

    private void Compare<T>(MorIcl.Construction.Model.TransformerModel model, Mixture.Prompt prompt, string name) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        // The a-priori analyses (docs/math.md §8.8): the measured radius (§8.10) is applied to both alike afterwards.
        var structured = new RoundingErrorAnalysis<T>(model, Rounding.Unit<T>(), measurePassRadius: false);
        var dense = new RoundingErrorAnalysis<T>(model, Rounding.Unit<T>(), structuredHeads: false, measurePassRadius: false);
        var a = new ModelExecutor<T>(model, ExecutorKind.Structured, structured).Forward(prompt.Examples, prompt.Query).Certificate;
        var b = new ModelExecutor<T>(model, ExecutorKind.Structured, dense).Forward(prompt.Examples, prompt.Query).Certificate;
        Assert.True(structured.StructuredHeadRuns > 0, $"{name}: no head took the O(N) bounds");
        Assert.Equal(0, dense.StructuredHeadRuns);
        const double slack = 1 - 1e-12;
        Assert.True(a.PredictionErrorBound >= b.PredictionErrorBound * slack, $"{name}: ŷ bound {a.PredictionErrorBound:G6} < dense {b.PredictionErrorBound:G6}");
        Assert.True(a.BetaErrorBound >= b.BetaErrorBound * slack, $"{name}: β bound {a.BetaErrorBound:G6} < dense {b.BetaErrorBound:G6}");
        for (int l = 0; l < a.Layers.Count; l++)
        {
            var (x, y) = (a.Layers[l], b.Layers[l]);
            Assert.True(x.ResidualErrorBound >= y.ResidualErrorBound * slack, $"{name} layer {l}: residual bound {x.ResidualErrorBound:G6} < dense {y.ResidualErrorBound:G6}");
            Assert.True(!(x.CertifiedMargin > y.CertifiedMargin + 1e-9 * Math.Abs(y.CertifiedMargin)), $"{name} layer {l}: certified margin {x.CertifiedMargin:G9} > dense {y.CertifiedMargin:G9}");
            Assert.True(x.LeakageBound >= y.LeakageBound * slack, $"{name} layer {l}: leakage bound {x.LeakageBound:G6} < dense {y.LeakageBound:G6}");
            if (y.InDomain) continue;
            Assert.False(x.InDomain, $"{name} layer {l}: in domain where the dense bounds are not");
        }
        output.WriteLine($"{name}: ŷ bound {a.PredictionErrorBound:G3} (dense {b.PredictionErrorBound:G3}), {structured.StructuredHeadRuns} heads bounded in O(N)");
    }
}
