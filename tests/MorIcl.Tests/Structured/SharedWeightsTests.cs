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
        var exec = new ModelExecutor<double>(model);
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
        var exec = new ModelExecutor<double>(edited);
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
