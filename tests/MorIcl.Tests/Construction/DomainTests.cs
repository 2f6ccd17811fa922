using MorIcl.Construction;
using MorIcl.Mixture;
using MorIcl.Runtime;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Construction;

/// <summary>
/// Exactness domains: inputs outside them are reported by the certificate, never a silent number.
/// The per-token products are exact while every non-self score is ≤ 0, i.e. |score| ≤ R·(distance²):
/// the edge is |u_jk| = R for adjacent tokens.
/// </summary>
public class DomainTests
{
    private static (TransformerModelAndPrompt, Prompt) Setup(double scale, int n = 20, int maxLength = 1023)
    {
        var spec = new ConstructionSpec(3, 2, 0.5, null, 2, 2, 0.5, new[] { new[] { 1.0, 0, 0 }, new[] { -1.0, 0, 0 } }, maxPromptLength: maxLength);
        var truth = Fixtures.Spec(3, 2, 0.5, 1);
        var prompt = PromptSampler.Sample(truth, n, 2, 0);
        var x = prompt.Examples.Columns.Select(v => v * scale).ToArray();
        var scaled = new Prompt(new RegressionData(n, 3, x, prompt.Examples.Y.Select(v => v * scale).ToArray()), prompt.Query.Select(v => v * scale).ToArray(), prompt.QueryLabel, prompt.Components);
        return (new TransformerModelAndPrompt(spec, Compiler.Compile(spec)), scaled);
    }

    public sealed record TransformerModelAndPrompt(ConstructionSpec Spec, MorIcl.Construction.Model.TransformerModel Model);

    [Fact]
    public void XScaledByAMillionIsOutOfDomain()
    {
        var (m, prompt) = Setup(1e6);
        var r = new ModelExecutor<double>(m.Model).Forward(prompt.Examples, prompt.Query);
        Assert.False(r.Certificate.InDomain);
        Assert.True(r.Certificate.MinMargin < 0);
        Assert.Contains("out of domain", r.Certificate.Summary());
        var f = new ModelExecutor<float>(m.Model).Forward(prompt.Examples, prompt.Query);
        Assert.False(f.Certificate.InDomain);
    }

    [Fact]
    public void PromptLongerThanThePositionalSchemeIsOutOfDomain()
    {
        var (m, prompt) = Setup(1, n: 40, maxLength: 31); // base 32, one digit: positions 0 … 31
        Assert.Equal(31, m.Model.Embedding.MaxPromptLength);
        var r = new ModelExecutor<double>(m.Model).Forward(prompt.Examples, prompt.Query);
        Assert.False(r.Certificate.PositionsInRange);
        Assert.False(r.Certificate.InDomain);
        Assert.Contains("exceeds the positional scheme", r.Certificate.Summary());
        // Positions wrap, so tokens collide in the per-token products: the margins say so too.
        Assert.True(r.Certificate.MinMargin < 0);
        var (ok, inRange) = Setup(1, n: 31, maxLength: 31);
        Assert.True(new ModelExecutor<double>(ok.Model).Forward(inRange.Examples, inRange.Query).Certificate.InDomain);
    }

    [Theory]
    [InlineData(0.999, true)]
    [InlineData(1.001, false)]
    public void TokenProductAtTheEdgeOfItsDomain(double fraction, bool inDomain)
    {
        // β⁽⁰⁾ = (c, 0, 0) and x_j = (1, 0, 0) on one example: u_j = c. The E2 product head's excluded
        // scores are u_j − R·(distance)², largest for the neighbours of j: in domain iff |u_j| ≤ R.
        var spec = new ConstructionSpec(3, 2, 1000, null, 1, 1, 0.1, new[] { new[] { fraction * 4096, 0, 0 }, new[] { 0.0, 0, 0 } });
        var model = Compiler.Compile(spec);
        int n = 5;
        var rows = Enumerable.Range(0, n).Select(i => i == 2 ? new[] { 1.0, 0, 0 } : new[] { 0.0, 0.0, 0.0 }).ToArray();
        var data = RegressionData.FromRows(rows, new double[n]);
        var r = new ModelExecutor<double>(model).Forward(data, new[] { 0.0, 0, 0 }, trace: true);
        Assert.Equal(inDomain, r.Certificate.InDomain);
        int e2 = 2 + 1 + 1; // prologue (3 layers) then E1, E2
        var layer = r.Certificate.Layers[e2];
        Assert.Equal(inDomain, layer.MinMargin >= 0);
        Assert.Equal(4096 * (1 - fraction), layer.MinMargin, 6);
        // Inside the domain u² is exact; outside, the neighbours' products pick up the leaked term.
        int D = model.Dimension, uu = model.Layout["uu"][0];
        var h = r.Trace![e2 + 1];
        double u = fraction * 4096;
        Assert.Equal(u * u, h[2 * D + uu], 6);
        Assert.Equal(inDomain ? 0.0 : 1.0, h[1 * D + uu] == 0 ? 0.0 : 1.0);
    }
}
