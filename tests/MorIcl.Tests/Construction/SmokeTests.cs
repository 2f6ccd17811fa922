using MorIcl.Construction;
using MorIcl.Mixture;
using MorIcl.Runtime;
using MorIcl.Tests.Support;
using Xunit.Abstractions;

namespace MorIcl.Tests.Construction;

public class SmokeTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(3, 2, false)]
    [InlineData(3, 2, true)]
    [InlineData(2, 3, false)]
    [InlineData(2, 1, false)]
    public void ConstructedEqualsReference(int d, int k, bool symmetric)
    {
        var mixing = symmetric ? new[] { 0.6, 0.4 } : Enumerable.Repeat(1.0 / k, k).ToArray();
        var spec = new ConstructionSpec(d, k, 0.5, mixing, 3, 2, 0.5, symmetric: symmetric);
        var model = Compiler.Compile(spec);
        var truth = symmetric ? MixtureSpec.SymmetricTwoComponent(Fixtures.Spec(d, 1, 0.5, 3).Beta[0], 0.6, 0.5) : Fixtures.Spec(d, k, 0.5, 3, mixing);
        var prompt = PromptSampler.Sample(truth, 20, 1, 0);
        var reference = ConstructionReference.Run(spec, prompt);
        var fast = new ModelExecutor<double>(model).Forward(prompt.Examples, prompt.Query, trace: true);
        var slow = ScalarExecutor.Forward(model, prompt.Examples, prompt.Query);
        output.WriteLine($"layers {model.Layers.Count}, D {model.Dimension}; {fast.Certificate.Summary()}; scalar {slow.Certificate.Summary()}");
        output.WriteLine($"pred {fast.Prediction} ref {reference.Prediction} slow {slow.Prediction}");
        var (estep, inner) = ConstructionReference.Decode(model, fast.Trace!, prompt.N);
        output.WriteLine($"E {ConstructionReference.RelativeError(estep.SelectMany(x => x), reference.EStep.SelectMany(x => x))} inner {ConstructionReference.RelativeError(inner.SelectMany(x => x), reference.InnerSteps.SelectMany(x => x))}");
        Assert.True(fast.Certificate.InDomain, fast.Certificate.Summary());
        Assert.True(ConstructionReference.RelativeError(fast.Beta, reference.Beta) < 1e-10);
    }
}
