using System.Diagnostics;
using MorIcl.Construction;
using MorIcl.Mixture;
using MorIcl.Runtime;
using MorIcl.Tests.Construction;
using Xunit.Abstractions;

namespace MorIcl.Tests.Bounds;

public class RoundingBoundTiming(ITestOutputHelper output)
{
    [Theory]
    [InlineData(5, 2, 100, 2, 2)]
    [InlineData(10, 3, 200, 2, 2)]
    [InlineData(20, 5, 300, 1, 1)]
    public void Time(int d, int k, int n, int s, int t)
    {
        var c = ConstructedEqualsGradientEmTests.Draw(1) with { D = d, K = k, N = n, S = s, T = t, Symmetric = false };
        var (spec, prompt) = ConstructedEqualsGradientEmTests.Build(c);
        var model = Compiler.Compile(spec);
        var plain = new ModelExecutor<float>(model, boundRounding: false);
        var bounded = new ModelExecutor<float>(model, boundRounding: true);
        plain.Forward(prompt.Examples, prompt.Query); bounded.Forward(prompt.Examples, prompt.Query);
        var prof = new Dictionary<string, double>();
        MorIcl.Runtime.Bounds.RoundingErrorAnalysis<float>.Profile = (k, ms) => { lock (prof) prof[k] = prof.GetValueOrDefault(k) + ms; };
        var sw = Stopwatch.StartNew();
        plain.Forward(prompt.Examples, prompt.Query);
        double tp = sw.Elapsed.TotalMilliseconds; sw.Restart();
        var r = bounded.Forward(prompt.Examples, prompt.Query);
        double tb = sw.Elapsed.TotalMilliseconds;
        MorIcl.Runtime.Bounds.RoundingErrorAnalysis<float>.Profile = null;
        foreach (var kv in prof.OrderByDescending(kv => kv.Value).Take(8)) output.WriteLine($"   {kv.Key}: {kv.Value:F1} ms");
        output.WriteLine($"{c}: D={model.Dimension} layers={model.Layers.Count} symbols={new MorIcl.Runtime.Bounds.RoundingErrorAnalysis<float>(model).Symbols}: pass {tp:F1} ms, with bounds {tb:F1} ms; pred bound {r.Certificate.PredictionErrorBound:G3} |ŷ| {Math.Abs(r.Prediction):G3}");
    }
}
public class RoundingPlanDump(ITestOutputHelper output)
{
    [Fact]
    public void Dump()
    {
        var model = Compiler.Compile(new ConstructionSpec(2, 2, 0.5, null, 1, 1, 0.5));
        var plan = new MorIcl.Runtime.Bounds.ReplicationPlan(model, MorIcl.Runtime.Bounds.BoundsModel.Create<float>(model));
        var names = model.Layout.RowNames();
        for (int l = 0; l < model.Layers.Count; l++) output.WriteLine($"layer {l} {model.Layers[l].Provenance.Operator}: rebased {string.Join(",", plan.Rebased[l].Select(r => names[r]))}");
    }
}
