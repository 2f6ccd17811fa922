using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Mixture;
using MorIcl.Runtime;

namespace MorIcl.Tests.Support;

/// <summary>Test-side shorthands over the library's <see cref="ReferenceRun"/> and <see cref="TraceDecoder"/>.</summary>
internal static class ConstructionReference
{
    public static ReferenceRun Run(ConstructionSpec spec, Prompt prompt) => ReferenceRun.Of(spec, prompt.Examples, prompt.Query);

    public static (List<double[][]> EStep, List<double[][]> Inner) Decode(TransformerModel model, double[][] trace, int n)
    {
        var (e, i) = TraceDecoder.Decode(model, trace, n);
        return (e.Select(x => x.Values).ToList(), i.Select(x => x.Values).ToList());
    }

    public static double RelativeError(IEnumerable<double[]> got, IEnumerable<double[]> want)
    {
        var g = got.ToList(); var w = want.ToList();
        Assert.Equal(w.Count, g.Count);
        return TraceDecoder.RelativeError(g, w);
    }
}
