using MorIcl.Construction;
using MorIcl.Export;
using MorIcl.Mixture;
using MorIcl.Runtime;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Export;

public class OnnxRuntimeParityTests
{
    [Fact]
    public void ConstructedModelInDouble()
    {
        var spec = new ConstructionSpec(3, 2, 0.5, new[] { 0.6, 0.4 }, 2, 2, 0.5, maxPromptLength: 100);
        var model = Compiler.Compile(spec);
        using var ort = new OnnxRunner(OnnxExport.Transformer(model, ExportPrecision.Double));
        var exec = new ModelExecutor<double>(model);
        var truth = Fixtures.Spec(3, 2, 0.5, 4);
        foreach (int n in new[] { 7, 40 })
        {
            var p = PromptSampler.Sample(truth, n, 11, n);
            var want = exec.Forward(p.Examples, p.Query, trace: false);
            var got = ort.Run(p.Examples, p.Query);
            Console.WriteLine($"n={n} pred {got["prediction"][0]:R} vs {want.Prediction:R}");
            Assert.True(Math.Abs(got["prediction"][0] - want.Prediction) <= 1e-12 * Math.Abs(want.Prediction));
        }
    }
}
