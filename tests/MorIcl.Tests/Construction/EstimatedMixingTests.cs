using MorIcl.Construction;
using MorIcl.Construction.Operators;
using MorIcl.Mixture;
using MorIcl.Runtime;
using MorIcl.Tests.Support;
using MorIcl.Verification;

namespace MorIcl.Tests.Construction;

/// <summary>
/// Estimated mixing weights (SPEC §3's approximate operator): every layer equals its operator's
/// definition — the log layer its declared piecewise-linear interpolant L — and L's declared bound
/// holds on [p_min, 1].
/// </summary>
public class EstimatedMixingTests
{
    [Fact]
    public void EveryLayerEqualsItsDefinition()
    {
        var spec = new ConstructionSpec(3, 3, 0.4, new[] { 0.2, 0.3, 0.5 }, 3, 2, 0.6, estimateMixing: true);
        var model = Compiler.Compile(spec);
        Assert.True(model.DeclaredApproximationError > 0);
        var truth = Fixtures.Spec(3, 3, 0.4, 5, new[] { 0.2, 0.3, 0.5 });
        var prompt = PromptSampler.Sample(truth, 60, 3, 0);
        var r = new ModelExecutor<double>(model).Forward(prompt.Examples, prompt.Query, trace: true);
        Assert.True(r.Certificate.InDomain, r.Certificate.Summary());
        foreach (var e in LayerSemantics.Check(model, r.Trace!, prompt.N))
            Assert.True(e.Error <= 1e-10, $"layer {e.Layer} ({e.Operator}: {e.Checked}): {e.Error}");
        var pi = model.ReadOut.Mixing!;
        double sum = Enumerable.Range(0, 3).Sum(k => r.Trace![^1][prompt.N * model.Dimension + pi[k]]);
        Assert.Equal(1.0, sum, 12);
    }
}
