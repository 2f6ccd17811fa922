using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Runtime;
using MorIcl.Runtime.Structured;
using MorIcl.Tests.Construction;
using MorIcl.Tests.Support;
using Xunit.Abstractions;

namespace MorIcl.Tests.Structured;

/// <summary>
/// docs/math.md §9: the structured path computes what the dense one does. Every layer is run alone, by both
/// executors, on the same input (the dense pass's stream before it), so differences cannot accumulate:
/// the outputs agree to 1e-15 relative to the layer's largest entry, and the structured certificate is
/// never more optimistic than the dense one (margin ≤, leakage ≥, in domain only where dense is).
/// </summary>
public class StructuredEqualsDenseTests(ITestOutputHelper output)
{
    /// <summary>Random specs: d ≤ 20, K ≤ 5, symmetric and estimated mixing among them, n from 10 to 300.</summary>
    public static (ConstructionSpec Spec, Prompt Prompt, string Name) Case(int seed)
    {
        var c = ConstructedEqualsGradientEmTests.Draw(seed) with { N = 10 + seed * 37 % 60 };
        var (spec, prompt) = ConstructedEqualsGradientEmTests.Build(c);
        if (seed % 4 == 3 && !spec.Symmetric)
        {
            spec = new ConstructionSpec(spec.Dimension, spec.Components, spec.Sigma, spec.Mixing, spec.EmIterations, spec.GradientSteps, spec.StepSize,
                spec.InitialBeta, estimateMixing: true);
            return (spec, prompt, c + " estimated π");
        }
        return (spec, prompt, c.ToString());
    }

    /// <summary>Largest |a − b| over the stream, relative to the largest |b|.</summary>
    internal static double Relative(double[] a, double[] b) => TraceDecoder.RelativeError(new[] { a }, new[] { b });

    [Fact]
    public void EveryLayerAloneEqualsDenseAndItsCertificateIsNoMoreOptimistic()
    {
        double worst = 0;
        int heads = 0, structured = 0;
        bool symmetric = false, estimated = false;
        foreach (int seed in new[] { 1, 2, 5, 6, 7 })   // d from 2 to 20, K from 2 to 5, symmetric, estimated π
        {
            var (spec, prompt, name) = Case(seed);
            symmetric |= spec.Symmetric; estimated |= spec.EstimateMixing;
            var model = Compiler.Compile(spec);
            var fast = new ModelExecutor<double>(model);
            var dense = new ModelExecutor<double>(model, ExecutorKind.Dense);
            Assert.Equal(0, fast.Plan.Counts()[HeadPattern.Dense]);   // every head of the construction has a pattern
            var trace = dense.Forward(prompt.Examples, prompt.Query, trace: true).Trace!;
            // The whole pass too (what the structured path knows about rows carries from layer to layer): the
            // streams agree up to the rounding that accumulates over the layers.
            var whole = fast.Forward(prompt.Examples, prompt.Query, trace: true);
            Assert.True(whole.Certificate.InDomain, name);
            for (int l = 0; l < trace.Length; l++)
                Assert.True(Relative(whole.Trace![l], trace[l]) <= 1e-13, $"{name}: whole pass differs after layer {l - 1} by {Relative(whole.Trace[l], trace[l]):G3}");
            for (int l = 0; l < model.Layers.Count; l++)
            {
                var (a, ca) = fast.ForwardLayer(l, trace[l], prompt.N);
                var (b, cb) = dense.ForwardLayer(l, trace[l], prompt.N);
                double err = Relative(a, b);
                worst = Math.Max(worst, err);
                Assert.True(err <= 1e-15, $"{name}: layer {l} ({model.Layers[l].Provenance.Operator}) differs by {err:G3}");
                NoMoreOptimistic(ca, cb, $"{name}: layer {l}");
                Assert.True(cb.InDomain, $"{name}: layer {l} dense out of domain");
            }
            foreach (var layer in fast.Plan.Heads) { heads += layer.Length; structured += layer.Count(h => fast.RunsStructured(h.Layer, h.Head)); }
        }
        Assert.True(symmetric && estimated);
        Assert.Equal(heads, structured);
        output.WriteLine($"worst per-layer relative difference {worst:G3} over {heads} heads, all structured");
    }

    /// <summary>The structured layer certificate claims no more than the dense one.</summary>
    internal static void NoMoreOptimistic(LayerCertificate structured, LayerCertificate dense, string where)
    {
        Assert.True(!structured.InDomain || dense.InDomain, $"{where}: structured says in domain, dense says out");
        Assert.True(!(structured.MinMargin > dense.MinMargin), $"{where}: margin {structured.MinMargin:R} above the dense {dense.MinMargin:R}");
        Assert.True(!(structured.MaxLeakage < dense.MaxLeakage), $"{where}: leakage {structured.MaxLeakage:R} below the dense {dense.MaxLeakage:R}");
    }
}
