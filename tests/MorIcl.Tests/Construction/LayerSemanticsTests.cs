using MorIcl.Construction;
using MorIcl.Runtime;
using MorIcl.Tests.Support;
using MorIcl.Verification;

namespace MorIcl.Tests.Construction;

/// <summary>
/// Every layer alone against the operation its provenance claims (tracr style), through
/// <see cref="LayerSemantics"/> — the per-layer check the Proposition E.2 check also uses: the state
/// before the layer comes from a real forward pass, the rows it writes are recomputed from the
/// operator's definition (docs/math.md §2–3) with plain arithmetic. Here: every layer is covered and exact on
/// random configurations, and a damaged layer is caught at that layer.
/// </summary>
public class LayerSemanticsTests
{
    [Theory]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(13)]
    [InlineData(21)]
    public void EachLayerDoesWhatItsOperatorSays(int seed)
    {
        var c = ConstructedEqualsGradientEmTests.Draw(seed) with { N = 30, S = 2, T = 2 };
        var (spec, prompt) = ConstructedEqualsGradientEmTests.Build(c);
        var model = Compiler.Compile(spec);
        var trace = new ModelExecutor<double>(model).Forward(prompt.Examples, prompt.Query, trace: true).Trace!;
        var errors = LayerSemantics.Check(model, trace, prompt.N);
        Assert.Equal(Enumerable.Range(0, model.Layers.Count), errors.Select(e => e.Layer));
        foreach (var e in errors)
            Assert.True(e.Error <= 1e-11, $"layer {e.Layer} ({e.Operator}: {e.Checked}): relative error {e.Error:G3} [{c}]");
    }

    [Fact]
    public void ADamagedLayerIsCaughtAtThatLayer()
    {
        var c = ConstructedEqualsGradientEmTests.Draw(5) with { N = 30, S = 2, T = 2 };
        var (spec, prompt) = ConstructedEqualsGradientEmTests.Build(c);
        var damaged = ModelSurgery.ScaleFirstGdStepValue(Compiler.Compile(spec), 1.001);
        var trace = new ModelExecutor<double>(damaged).Forward(prompt.Examples, prompt.Query, trace: true).Trace!;
        var errors = LayerSemantics.Check(damaged, trace, prompt.N);
        int first = damaged.Layers.ToList().FindIndex(l => l.Provenance.Operator == "gd_step" && l.Provenance.Decode == MorIcl.Construction.Model.DecodeKind.Beta);
        var bad = errors.Where(e => e.Error > 1e-11).ToList();
        Assert.NotEmpty(bad);
        Assert.Equal(first, bad[0].Layer);
    }
}
