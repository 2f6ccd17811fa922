using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Mixture;
using MorIcl.Runtime;
using MorIcl.Runtime.Structured;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Structured;

/// <summary>
/// The structured certificate is never more optimistic than the dense one (docs/math.md §9): inputs outside
/// the domain (x scaled by 10⁶, prompts past the positional scheme) are out of domain on both paths, with
/// the dense numbers; a head whose weights were edited so that its pattern no longer holds is planned
/// densely (positional part, keys) or falls back on the prompt (content too large, keys that differ
/// between tokens); and a head with an all-zero V runs.
/// </summary>
public class StructuredCertificateTests
{
    private static readonly ConstructionSpec Spec = new(3, 2, 0.5, null, 2, 2, 0.5, new[] { new[] { 1.0, 0, 0 }, new[] { -1.0, 0, 0 } }, maxPromptLength: 31);

    private static Prompt Sample(int n, double scale = 1)
    {
        var p = PromptSampler.Sample(Fixtures.Spec(3, 2, 0.5, 1), n, 2, 0);
        return new Prompt(new RegressionData(n, 3, p.Examples.Columns.Select(v => v * scale).ToArray(), p.Examples.Y.Select(v => v * scale).ToArray()),
            p.Query.Select(v => v * scale).ToArray(), p.QueryLabel, p.Components);
    }

    /// <summary>
    /// Both paths on the whole prompt: the same verdict and the same numbers; and every layer alone on the
    /// dense pass's input (the same input for both): its certificate no more optimistic.
    /// </summary>
    private static (ForwardResult Structured, ForwardResult Dense) Both(TransformerModel model, Prompt p)
    {
        var fast = new ModelExecutor<double>(model);
        var dense = new ModelExecutor<double>(model, ExecutorKind.Dense);
        var a = fast.Forward(p.Examples, p.Query, trace: true);
        var b = dense.Forward(p.Examples, p.Query, trace: true);
        Assert.Equal(b.Certificate.InDomain, a.Certificate.InDomain);
        for (int l = 0; l < model.Layers.Count; l++)
            StructuredEqualsDenseTests.NoMoreOptimistic(fast.ForwardLayer(l, b.Trace![l], p.N).Certificate, dense.ForwardLayer(l, b.Trace[l], p.N).Certificate, $"layer {l}");
        for (int l = 0; l < a.Trace!.Length; l++)
        {
            double err = StructuredEqualsDenseTests.Relative(a.Trace[l], b.Trace![l]);
            Assert.True(err <= 1e-13 || (double.IsInfinity(err) && a.Trace[l].Zip(b.Trace[l]).All(x => x.First.Equals(x.Second) || Math.Abs(x.First - x.Second) <= 1e-13 * Math.Abs(x.Second))),
                $"after layer {l - 1}: streams differ by {err:G3}");
        }
        return (a, b);
    }

    /// <summary>A copy of m with the first head named <paramref name="name"/> replaced by edit(head); its layer index.</summary>
    internal static TransformerModel Edit(TransformerModel m, string name, Func<AttentionHead, AttentionHead> edit, out int layer)
    {
        var layers = m.Layers.ToList();
        layer = layers.FindIndex(x => x is AttentionLayer a && a.Heads.Any(h => h.Name == name));
        var att = (AttentionLayer)layers[layer];
        layers[layer] = new AttentionLayer(att.Heads.Select(h => h.Name == name ? edit(h) : h).ToArray(), att.Provenance, att.Domain);
        return new TransformerModel(m.Spec, m.Layout, m.Embedding, layers, m.ReadOut, m.Margin);
    }

    internal static AttentionHead With(AttentionHead h, SparseMatrix? q = null, SparseMatrix? k = null, SparseMatrix? v = null) =>
        new(h.Name, h.Activation, q ?? h.Query, k ?? h.Key, v ?? h.Value, h.PositionalDims, h.Admission, h.Description);

    /// <summary>A copy of m with every entry of row <paramref name="row"/> for which <paramref name="pick"/> holds changed by f.</summary>
    internal static SparseMatrix Map(SparseMatrix m, Func<int, int, bool> pick, Func<double, double> f)
    {
        var b = new SparseMatrix.Builder(m.Rows, m.Cols);
        for (int e = 0; e < m.NonZeros; e++) b.Add(m.RowIndex[e], m.ColIndex[e], pick(m.RowIndex[e], m.ColIndex[e]) ? f(m.Values[e]) : m.Values[e]);
        return b.Build();
    }

    [Fact]
    public void XScaledByAMillionIsOutOfDomainOnBothPaths()
    {
        var (a, _) = Both(Compiler.Compile(Spec), Sample(20, 1e6));
        Assert.False(a.Certificate.InDomain);
        Assert.True(a.Certificate.MinMargin < 0);
    }

    [Fact]
    public void PromptsPastThePositionalSchemeAreOutOfDomainOnBothPaths()
    {
        var model = Compiler.Compile(Spec);                       // one base-32 digit: positions 0 … 31
        var (a, _) = Both(model, Sample(40));
        Assert.False(a.Certificate.PositionsInRange);
        Assert.True(a.Certificate.MinMargin < 0);               // the wrapped positions collide; the dense margins say so
        Assert.True(Both(model, Sample(31)).Structured.Certificate.InDomain);
    }

    [Fact]
    public void AnEditedPositionalPartIsPlannedDensely()
    {
        // E2's first head ("uu0+"): one positional weight off by one, so −R·Σ(p − q)² no longer holds.
        var edited = Edit(Compiler.Compile(Spec), "uu0+", h => With(h, q: Map(h.Query, (r, c) => r == 0, v => v + 1)), out int l);
        var plan = new ModelExecutor<double>(edited).Plan.Heads[l];
        Assert.Equal(HeadPattern.Dense, plan[0].Pattern);
        Assert.Contains("positional part", plan[0].Reason);
        Assert.Equal(HeadPattern.AdmittedKeysOnly, plan[1].Pattern);   // its partner is untouched
        Both(edited, Sample(20));
    }

    [Fact]
    public void AnEditedKeyThatReadsContentIsPlannedDensely()
    {
        // The gradient step's mean head ("step0") reads t; make it read x[0] too: keys now differ between examples.
        var model = Compiler.Compile(Spec);
        int x0 = model.Embedding.X[0];
        var edited = Edit(model, "step0", h =>
        {
            var k = new SparseMatrix.Builder(h.Key.Rows, h.Key.Cols);
            for (int e = 0; e < h.Key.NonZeros; e++) k.Add(h.Key.RowIndex[e], h.Key.ColIndex[e], h.Key.Values[e]);
            return With(h, k: k.Add(0, x0, 1e-3).Build());
        }, out int l);
        var plan = new ModelExecutor<double>(edited).Plan.Heads[l][0];
        Assert.Equal(HeadPattern.Dense, plan.Pattern);
        Assert.Contains("x[0]", plan.Reason);
        Both(edited, Sample(20));
    }

    [Fact]
    public void ContentBeyondTheMarginFallsBackToTheDenseCertificate()
    {
        // E2's "uu0+" with its content weight scaled: the pattern still holds, but the bound R − max|q|·max|k|
        // is negative on this prompt, so the head runs densely and the layer's certificate is the dense one.
        var edited = Edit(Compiler.Compile(Spec), "uu0+", h => With(h, q: Map(h.Query, (r, c) => r >= h.PositionalDims, v => v * 1e5)), out int l);
        var exec = new ModelExecutor<double>(edited);
        Assert.Equal(HeadPattern.AdmittedKeysOnly, exec.Plan.Heads[l][0].Pattern);
        var p = Sample(20);
        var (a, b) = Both(edited, p);
        Assert.False(a.Certificate.Layers[l].InDomain);
        Assert.Equal(b.Certificate.Layers[l].MinMargin, a.Certificate.Layers[l].MinMargin);
    }

    [Fact]
    public void AnAdmissionTableThatExcludesTheTokenItselfIsOutOfDomain()
    {
        // "uu0+" with nothing admitted: its self scores u_i (positional part 0 for j = i) are now unadmitted,
        // and positive for some examples, so the layer is out of domain — the bound must use the positional
        // maximum over equal positions (0), not over distinct ones (−R).
        var model = Compiler.Compile(Spec);
        int roles = TokenRoles.Count(model.Embedding.AuxiliaryCount);
        var edited = Edit(model, "uu0+", h => new AttentionHead(h.Name, h.Activation, h.Query, h.Key, h.Value, h.PositionalDims,
            Admission.Build(roles, (q, k) => Admit.No), h.Description), out int l);
        Assert.Equal(HeadPattern.AdmittedKeysOnly, new ModelExecutor<double>(edited).Plan.Heads[l][0].Pattern);
        var (a, _) = Both(edited, Sample(20));
        Assert.False(a.Certificate.Layers[l].InDomain);
    }

    [Fact]
    public void KeysThatDifferBetweenTokensOfARoleRunDensely()
    {
        // E1 ("u0±") reads β_0 from every key; it is the same in every token, which each prompt checks. On a
        // stream where one example's β_0 differs, the head must run densely: a kernel that trusted the first
        // token's key would give every query the wrong score against that example.
        var model = Compiler.Compile(Spec);
        int l = model.Layers.ToList().FindIndex(x => x is AttentionLayer a && a.Heads[0].Name == "u0+");
        Assert.Equal(HeadPattern.RoleConstantKeys, new ModelExecutor<double>(model).Plan.Heads[l][0].Pattern);
        var p = Sample(20);
        var before = new ModelExecutor<double>(model, ExecutorKind.Dense).Forward(p.Examples, p.Query, trace: true).Trace![l];
        int D = model.Dimension, beta = model.Layout["beta0"][0];
        before[3 * D + beta] += 0.5;
        var (a, _) = new ModelExecutor<double>(model).ForwardLayer(l, before, p.N);
        var (b, _) = new ModelExecutor<double>(model, ExecutorKind.Dense).ForwardLayer(l, before, p.N);
        Assert.True(StructuredEqualsDenseTests.Relative(a, b) <= 1e-15);
        // Without the check the answer would differ: a score of 0.5·x_3[0] against example 3 that no kernel sees.
        Assert.NotEqual(0, p.Examples.X(3, 0));
    }

    [Fact]
    public void AHeadWithAnAllZeroValueRunsOnBothPaths()
    {
        // A valid hand-built model: the gate head keeps its scores (and margins) but writes nothing.
        var model = Compiler.Compile(Spec);
        var edited = Edit(model, "gate0", h => With(h, v: new SparseMatrix(model.Dimension, model.Dimension, Array.Empty<int>(), Array.Empty<int>(), Array.Empty<double>())), out int l);
        var p = Sample(20);
        var (a, b) = Both(edited, p);
        var scalar = ScalarExecutor.Forward(edited, p.Examples, p.Query, trace: true);
        Assert.True(StructuredEqualsDenseTests.Relative(b.Trace![^1], scalar.Trace![^1]) <= 1e-12);
        Assert.True(double.IsFinite(b.Certificate.Layers[l].MinMargin));
    }
}
