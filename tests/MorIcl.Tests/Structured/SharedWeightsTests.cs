using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Runtime;

namespace MorIcl.Tests.Structured;

/// <summary>
/// docs/math.md §9.6, fused rows, item 9: the example means of a gradient step (one RoleConstantKeys head per component,
/// the same Q, K and admission) form their per-role weights once; the later heads take them and sum only their own values.
/// The pass keeps the bits of the pass without shortcuts, and a head whose query, key or admission was edited does not take
/// another head's weights: the edit changes the layer's certificate, so a head that took them would give other bits.
/// </summary>
public class SharedWeightsTests
{
    // K = 3 components: three mean heads per gradient step (step0, step1, step2); S·T = 2·2 steps.
    private static readonly ConstructionSpec Spec = new(3, 3, 0.5, null, 2, 2, 0.5);

    private static Prompt Sample(int n) =>
        PromptSampler.Sample(new MixtureSpec(RegressionVectors.DrawNormalised(3, 3, SeedSequence.Create(41)), new[] { 0.3, 0.3, 0.4 }, 0.5), n, 41, 0);

    private static ModelExecutor<double> Plain(TransformerModel m) => new(m) { FusedRows = false };

    private static int[] StepLayers(TransformerModel m) =>
        Enumerable.Range(0, m.Layers.Count).Where(l => m.Layers[l] is AttentionLayer a && a.Heads.Any(h => h.Name == "step0")).ToArray();

    [Fact]
    public void TheMeanHeadsOfAGradientStepTakeTheFirstOnesWeights()
    {
        var model = Compiler.Compile(Spec);
        var exec = new ModelExecutor<double>(model) { FuseBlocks = false };   // the block schedule's phases do not share
        var steps = StepLayers(model);
        Assert.Equal(4, steps.Length);
        foreach (int l in steps)
        {
            var names = ((AttentionLayer)model.Layers[l]).Heads.Select(h => h.Name).ToArray();
            Assert.Equal(new[] { "step0", "step1", "step2" }, names);
            Assert.Equal(new[] { -1, 0, 0 }, Enumerable.Range(0, 3).Select(h => exec.WeightsSharedWith(l, h)));
        }
        foreach (int n in new[] { 1, 20, 37 })
            BlockScheduleTests.AssertSameBits(exec, Plain(model), Sample(n), $"n = {n}");
        // Two heads of each of the 4 step layers take the weights, on each of the 3 passes.
        Assert.Equal(3 * 4 * 2, exec.Counts.WeightsShared);
    }

    public static TheoryData<string> Edits => new() { "query", "key", "admission" };

    [Theory]
    [MemberData(nameof(Edits))]
    public void AHeadWithAnotherQueryKeyOrAdmissionFormsItsOwnWeights(string edit)
    {
        var model = Compiler.Compile(Spec);
        var edited = StructuredCertificateTests.Edit(model, "step1", h => edit switch
        {
            "query" => StructuredCertificateTests.With(h, q: StructuredCertificateTests.Map(h.Query, (r, c) => true, v => v * 0.5)),
            "key" => StructuredCertificateTests.With(h, k: StructuredCertificateTests.Map(h.Key, (r, c) => true, v => v * 0.5)),
            // The query token no longer admits the examples: its pair counts, so its margin and leakage, change.
            _ => new AttentionHead(h.Name, h.Activation, h.Query, h.Key, h.Value, h.PositionalDims,
                new Admission(h.Admission.Roles, h.Admission.Table.Select((a, i) => i == TokenRoles.Query * h.Admission.Roles + TokenRoles.Example ? Admit.No : a).ToArray()), h.Description),
        }, out int l);
        var exec = new ModelExecutor<double>(edited) { FuseBlocks = false };
        // Still a structured RoleConstantKeys head: the plan compared it with step0 and found another Q, K or admission.
        Assert.True(exec.RunsStructured(l, 1), $"{edit}: step1 no longer runs structured");
        Assert.Equal(-1, exec.WeightsSharedWith(l, 1));
        Assert.Equal(0, exec.WeightsSharedWith(l, 2));     // step2 still has step0's Q, K and admission
        var p = Sample(20);
        double[]? hb = null, ha = null;
        var before = Plain(model).Forward(p.Examples, p.Query, false, h => hb = h);
        var after = Plain(edited).Forward(p.Examples, p.Query, false, h => ha = h);
        // The edit shows in the layer's certificate (its margin: scores halved, or a query role that admits no key) or in the
        // stream, so a head that took step0's weights would not give the bits below.
        Assert.True(before.Certificate.Layers[l].MinMargin != after.Certificate.Layers[l].MinMargin || !hb!.SequenceEqual(ha!), $"{edit}: the edit changes nothing");
        BlockScheduleTests.AssertSameBits(exec, Plain(edited), p, edit);
        Assert.True(exec.Counts.WeightsShared > 0);
    }

    /// <summary>The first step layer with its mean heads changed by <paramref name="edit"/> (the heads of the layer in, the new ones out).</summary>
    private static TransformerModel EditFirstStep(TransformerModel m, Func<AttentionHead[], AttentionHead[]> edit, out int layer)
    {
        var layers = m.Layers.ToList();
        layer = StepLayers(m)[0];
        var att = (AttentionLayer)layers[layer];
        layers[layer] = new AttentionLayer(edit(att.Heads), att.Provenance, att.Domain);
        return new TransformerModel(m.Spec, m.Layout, m.Embedding, layers, m.ReadOut, m.Margin);
    }

    [Fact]
    public void HeadsWhoseQueriesDifferFromTokenToTokenKeepNoWeights()
    {
        var model = Compiler.Compile(Spec);
        int x0 = model.Embedding.X[0];
        // All three mean heads of the first step read x_1 in their query too, alike: the plan still pairs them, but on a
        // prompt of more than one example the queries are not role-constant, so each head forms per-token scores and keeps nothing.
        var edited = EditFirstStep(model, heads => heads.Select(h =>
        {
            var b = new SparseMatrix.Builder(h.Query.Rows, h.Query.Cols);
            for (int e = 0; e < h.Query.NonZeros; e++) b.Add(h.Query.RowIndex[e], h.Query.ColIndex[e], h.Query.Values[e]);
            b.Add(x0, 0, 1.0);
            return StructuredCertificateTests.With(h, q: b.Build());
        }).ToArray(), out int l);
        var exec = new ModelExecutor<double>(edited) { FuseBlocks = false };
        Assert.Equal(new[] { true, true, true }, Enumerable.Range(0, 3).Select(h => exec.RunsStructured(l, h)));
        Assert.Equal(new[] { -1, 0, 0 }, Enumerable.Range(0, 3).Select(h => exec.WeightsSharedWith(l, h)));
        BlockScheduleTests.AssertSameBits(exec, Plain(edited), Sample(20), "queries per token");
        // Only the 3 other step layers share (two heads each).
        Assert.Equal(3 * 2, exec.Counts.WeightsShared);
    }

    private static AttentionHead WithKeys(AttentionHead h, params (int Col, double Weight)[] extra)
    {
        var b = new SparseMatrix.Builder(h.Key.Rows, h.Key.Cols);
        for (int e = 0; e < h.Key.NonZeros; e++) b.Add(h.Key.RowIndex[e], h.Key.ColIndex[e], h.Key.Values[e]);
        foreach (var (col, weight) in extra) b.Add(0, col, weight);
        return StructuredCertificateTests.With(h, k: b.Build());
    }

    [Fact]
    public void InFloatAKeyWeightThatRoundsToZeroStillMakesAnotherKey()
    {
        var model = Compiler.Compile(Spec);
        var rows = ((AttentionLayer)model.Layers[StepLayers(model)[0]]).Heads[1].Value.NonZeroRows();
        int w = rows[0], c = rows[1];                        // rows of β_1: written by the layers, so checked on each prompt
        TransformerModel Edited(double tiny) => EditFirstStep(model, heads => heads.Select(h => h.Name switch
        {
            // step0 and step1 read row w in their keys alike (2⁻²⁰, exact in float); step1 reads row c too, with `tiny`.
            "step0" => WithKeys(h, (w, Math.ScaleB(1.0, -20))),
            "step1" => tiny == 0 ? WithKeys(h, (w, Math.ScaleB(1.0, -20))) : WithKeys(h, (w, Math.ScaleB(1.0, -20)), (c, tiny)),
            _ => h,
        }).ToArray(), out _);
        int l = StepLayers(model)[0];
        var alike = new ModelExecutor<float>(Edited(0)) { FuseBlocks = false };
        Assert.True(alike.RunsStructured(l, 1));
        Assert.Equal(0, alike.WeightsSharedWith(l, 1));      // the control: the same keys share
        // 1e-300 is 0 in float: step1's float K rows are step0's, but its per-prompt check reads one more row of H.
        var edited = Edited(1e-300);
        var f = new ModelExecutor<float>(edited) { FuseBlocks = false };
        Assert.True(f.RunsStructured(l, 1));
        Assert.Equal(-1, f.WeightsSharedWith(l, 1));
        BlockScheduleTests.AssertSameBits(f, new ModelExecutor<float>(edited) { FusedRows = false }, Sample(20), "float, a weight rounded to 0");
    }

    [Fact]
    public void AHeadBetweenTwoThatShareLeavesTheLaterOneItsWeights()
    {
        var model = Compiler.Compile(Spec);
        // A mean head with its query halved, between step0 and step1: it forms its own weights and keeps none.
        var edited = EditFirstStep(model, heads => heads.Take(1)
            .Append(StructuredCertificateTests.With(heads[0], q: StructuredCertificateTests.Map(heads[0].Query, (r, c) => true, v => v * 0.5)))
            .Concat(heads.Skip(1)).ToArray(), out int l);
        var exec = new ModelExecutor<double>(edited) { FuseBlocks = false };
        Assert.Equal(new[] { true, true, true, true }, Enumerable.Range(0, 4).Select(h => exec.RunsStructured(l, h)));
        Assert.Equal(new[] { -1, -1, 0, 0 }, Enumerable.Range(0, 4).Select(h => exec.WeightsSharedWith(l, h)));
        BlockScheduleTests.AssertSameBits(exec, Plain(edited), Sample(20), "a head between");
        Assert.Equal(4 * 2, exec.Counts.WeightsShared);
    }
}

/// <summary><see cref="MorIcl.Runtime.Structured.SharedWeights{T}"/> holds weights only for the head and layer epoch that formed them, and only once formed.</summary>
public class SharedWeightsMemoTests
{
    [Fact]
    public void WeightsAreHeldForTheirHeadAndEpochOnly()
    {
        var w = new MorIcl.Runtime.Structured.SharedWeights<double>(5);
        Assert.False(w.Holds(0, 0));
        w.Begin(2, new[] { 0, 1, -1, -1, -1 });
        w.Set(0, new[] { 1.0, 0.5 }, 1.5, false, 3, 0);
        Assert.False(w.Holds(7, 0));                  // not yet done
        w.Done(7, 0);
        Assert.True(w.Holds(7, 0));
        Assert.False(w.Holds(8, 0));                  // the next layer
        Assert.False(w.Holds(7, 1));                  // another head
        Assert.Equal(new[] { 1.0, 0.5 }, w.Of(0).ToArray());
        w.Forget();
        Assert.False(w.Holds(7, 0));
        w.Done(9, 2);
        w.Begin(1, new[] { 0, 0, 0, 0, 0 });          // a head that starts forming again holds nothing until done
        Assert.False(w.Holds(9, 2));
    }
}
