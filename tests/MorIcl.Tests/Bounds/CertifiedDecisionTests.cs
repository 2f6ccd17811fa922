using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Mixture;
using MorIcl.Runtime;

namespace MorIcl.Tests.Bounds;

/// <summary>
/// A decision is certified only when its margin exceeds its score's error bound (docs/math.md §8.3). A
/// hand-built model whose ReLU head excludes every pair by an exact margin of 10^-6, on a score that
/// cancels two quantities of size ~100: the float pass cannot tell the margin from its own rounding
/// (≈ 10^-5) and refuses to certify it; the double pass certifies it. Its computed margin is ≥ 0 in both,
/// so a certificate that compared margins with 0 (as before the rounding analysis) would accept both.
/// </summary>
public class CertifiedDecisionTests
{
    private const double Margin = 1e-6;

    /// <summary>Layer 0 (MLP): r ← x₀ + 10^-6 exactly (a ReLU pair); layer 1: one ReLU head with score 1·(x₀ − r) = −10^-6 on every pair, none admitted.</summary>
    public static TransformerModel SmallMarginModel()
    {
        var t = Compiler.Compile(new ConstructionSpec(2, 2, 0.5, null, 1, 1, 0.5));
        int D = t.Dimension, x0 = t.Embedding.X[0], one = t.Embedding.One.Row, r = t.Layout["Nu"][0], sink = t.Layout["uu"][0];
        int roles = TokenRoles.Count(t.Embedding.AuxiliaryCount);
        var w1 = new SparseMatrix.Builder(2, D).Add(0, x0, 1).Add(0, one, Margin).Add(1, x0, -1).Add(1, one, -Margin).Build();
        var w2 = new SparseMatrix.Builder(D, 2).Add(r, 0, 1).Add(r, 1, -1).Build();
        var mlp = new MlpLayer(w1, new double[2], w2, new double[D], new Provenance("test", 0, 0, "test", "r = x0 + 1e-6"), "exact");
        var head = new AttentionHead("guard", Activation.Relu, new SparseMatrix.Builder(1, D).Add(0, one, 1).Build(),
            new SparseMatrix.Builder(1, D).Add(0, x0, 1).Add(0, r, -1).Build(), new SparseMatrix.Builder(D, D).Add(sink, one, 1).Build(), 0,
            Admission.Build(roles, (_, _) => Admit.No), "score x0 − r = −1e-6: excluded by a margin of 1e-6");
        var att = new AttentionLayer(new[] { head }, new Provenance("test", 0, 0, "test", "guarded head"), "exact while x0 − r ≤ 0");
        return new TransformerModel(t.Spec, t.Layout, t.Embedding, new Layer[] { mlp, att }, t.ReadOut, t.Margin, ModelOrigin.HandBuilt);
    }

    private static (RegressionData, double[]) Prompt()
    {
        int n = 8;
        var cols = new double[2 * n];
        for (int i = 0; i < n; i++) { cols[i] = 50 + 6.1 * i + 0.123456789; cols[n + i] = 1; }
        return (new RegressionData(n, 2, cols, new double[n]), new[] { 77.7777777, 1 });
    }

    [Fact]
    public void FloatRefusesAMarginThatDoubleCertifies()
    {
        var model = SmallMarginModel();
        var (data, query) = Prompt();
        var f = new ModelExecutor<float>(model, boundRounding: true).Forward(data, query).Certificate;
        var d = new ModelExecutor<double>(model, boundRounding: true).Forward(data, query).Certificate;
        var lf = f.Layers[1]; var ld = d.Layers[1];
        Assert.True(lf.MinMargin >= 0 && ld.MinMargin >= 0, $"the passes' own margins: float {lf.MinMargin}, double {ld.MinMargin}");
        Assert.True(lf.ScoreErrorBound > Margin, $"float score error bound {lf.ScoreErrorBound:G3}");
        Assert.False(lf.Certified);
        Assert.True(lf.CertifiedMargin < 0);
        Assert.False(f.InDomain);
        Assert.Contains("not certified in float", f.Summary());
        Assert.True(ld.Certified, $"double: certified margin {ld.CertifiedMargin:G3}, score error bound {ld.ScoreErrorBound:G3}");
        Assert.InRange(ld.CertifiedMargin, 0.99 * Margin, Margin);
        Assert.True(d.InDomain, d.Summary());
    }

    /// <summary>The same model on inputs 1000 times smaller: the float rounding (≈ 10^-8) is below the margin, and float certifies it too.</summary>
    [Fact]
    public void ALargerMarginIsCertifiedInFloatToo()
    {
        var model = SmallMarginModel();
        var (data, query) = Prompt();
        for (int i = 0; i < data.N; i++) data.Columns[i] /= 1000;   // x₀ ≈ 0.05 … 0.1: float rounding ≈ 10^-8
        query[0] /= 1000;
        var f = new ModelExecutor<float>(model, boundRounding: true).Forward(data, query).Certificate;
        Assert.True(f.Layers[1].Certified, $"float: certified margin {f.Layers[1].CertifiedMargin:G3}");
        Assert.True(f.InDomain);
    }
}
