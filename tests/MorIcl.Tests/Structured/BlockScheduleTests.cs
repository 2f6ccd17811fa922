using System.Numerics;
using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Runtime;

namespace MorIcl.Tests.Structured;

/// <summary>
/// docs/math.md §9.6, the block schedule: a phase of layers run block by block over the tokens gives the bits of the
/// same layers run one after another — ŷ, β̂, π̂, the whole final stream (responsibilities included) and every
/// layer's certificate — for random specifications, in float and double, with blocks small enough that every prompt
/// has several, a short remainder, and a tail the reductions read again. Edited layers leave the schedule; a bound that
/// fails after the blocks sends the prompt through again layer by layer.
/// </summary>
public class BlockScheduleTests
{
    /// <summary>The fused and the layer-by-layer executor on one prompt: everything they report, bit for bit.</summary>
    private static void AssertSameBits<T>(TransformerModel model, Prompt prompt, string name, int block = 32) where T : unmanaged, IFloatingPointIeee754<T> =>
        AssertSameBits(new ModelExecutor<T>(model) { FuseBlocks = true, BlockTokens = block }, new ModelExecutor<T>(model) { FuseBlocks = false }, prompt, name);

    internal static void AssertSameBits<T>(ModelExecutor<T> fused, ModelExecutor<T> alone, Prompt prompt, string name) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double[]? hf = null, ha = null;
        var a = fused.Forward(prompt.Examples, prompt.Query, false, h => hf = h);
        var b = alone.Forward(prompt.Examples, prompt.Query, false, h => ha = h);
        Assert.True(Bits(a.Prediction) == Bits(b.Prediction), $"{name}: ŷ {a.Prediction:R} vs {b.Prediction:R}");
        Assert.Equal(b.Beta.SelectMany(x => x).Select(Bits), a.Beta.SelectMany(x => x).Select(Bits));
        Assert.Equal(b.Mixing?.Select(Bits), a.Mixing?.Select(Bits));
        int differ = Enumerable.Range(0, ha!.Length).Count(i => Bits(ha[i]) != Bits(hf![i]));
        Assert.True(differ == 0, $"{name}: {differ} numbers of the final stream differ");
        var (ca, cb) = (a.Certificate, b.Certificate);
        Assert.Equal(cb.InDomain, ca.InDomain);
        for (int l = 0; l < cb.Layers.Count; l++)
        {
            var (x, y) = (ca.Layers[l], cb.Layers[l]);
            Assert.True(Bits(x.MinMargin) == Bits(y.MinMargin) && Bits(x.MaxLeakage) == Bits(y.MaxLeakage) && x.InDomain == y.InDomain && x.Finite == y.Finite,
                $"{name}: layer {l} certificate {x} vs {y}");
        }
    }

    private static long Bits(double v) => BitConverter.DoubleToInt64Bits(v);

    [Fact]
    public void FusedEqualsLayerByLayerBitForBitOnRandomSpecsInFloatAndDouble()
    {
        bool symmetric = false, estimated = false;
        int phases = 0;
        foreach (int seed in new[] { 1, 2, 5, 6, 7 })   // d from 2 to 20, K from 2 to 5, symmetric, estimated π
        {
            var (spec, prompt, name) = StructuredEqualsDenseTests.Case(seed);
            symmetric |= spec.Symmetric; estimated |= spec.EstimateMixing;
            var model = Compiler.Compile(spec);
            phases += new ModelExecutor<double>(model).Phases.Count;
            // n from 10 to 70, and n = 1 and 70 + 5 (a remainder shorter than the lanes) with blocks of 16 and 32.
            var longer = PromptSampler.Sample(new MixtureSpec(RegressionVectors.DrawNormalised(spec.Dimension, spec.Components, SeedSequence.Create(seed)),
                Enumerable.Repeat(1.0 / spec.Components, spec.Components).ToArray(), spec.Sigma), 69 + 6, seed, 1);
            var one = PromptSampler.Sample(new MixtureSpec(RegressionVectors.DrawNormalised(spec.Dimension, spec.Components, SeedSequence.Create(seed)),
                Enumerable.Repeat(1.0 / spec.Components, spec.Components).ToArray(), spec.Sigma), 1, seed, 2);
            AssertSameBits<double>(model, prompt, $"{name}, n = {prompt.N}, blocks of 32, double", 32);
            AssertSameBits<float>(model, prompt, $"{name}, n = {prompt.N}, blocks of 32, float", 32);
            AssertSameBits<double>(model, longer, $"{name}, n = {longer.N}, blocks of 16, double", 16);
            AssertSameBits<float>(model, one, $"{name}, n = 1, float", 16);
        }
        Assert.True(symmetric && estimated, "the cases include symmetric and estimated mixing");
        Assert.True(phases >= 10, $"the schedule has {phases} phases over these models");
    }

    [Fact]
    public void ReplicatedRowsKeptPerRoleGiveTheBitsOfRowsFilledAtOnce()
    {
        // docs/math.md §9.6: β_k after an example mean kept at each role's first token until a layer reads it token by
        // token, against every token written at the commit; random specifications, float and double.
        foreach (int seed in new[] { 2, 5, 6 })
        {
            var (spec, prompt, name) = StructuredEqualsDenseTests.Case(seed);
            var model = Compiler.Compile(spec);
            AssertSameBits(new ModelExecutor<double>(model), new ModelExecutor<double>(model) { ReplicatedRowsPerRole = false }, prompt, $"{name}, double");
            AssertSameBits(new ModelExecutor<float>(model), new ModelExecutor<float>(model) { ReplicatedRowsPerRole = false }, prompt, $"{name}, float");
        }
    }

    [Fact]
    public void TheLongPromptModelRunsEveryGradientStepAsOnePhase()
    {
        // d = 3, K = 2, S = 2, T = 2: each gradient step (per-token gradient, example mean, reset) is one phase.
        var model = Compiler.Compile(new ConstructionSpec(3, 2, 0.5, null, 2, 2, 0.5));
        var exec = new ModelExecutor<double>(model);
        string Op(int l) => model.Layers[l].Provenance.Operator;
        var steps = exec.Phases.Where(p => Enumerable.Range(p.First, p.Count).Count(l => Op(l) == "gd_step") == 2).ToArray();
        Assert.True(steps.Length == 4, $"phases {string.Join(", ", exec.Phases)}");
        Assert.Empty(new ModelExecutor<double>(model, MorIcl.Runtime.Structured.ExecutorKind.Dense).Phases);
    }

    [Fact]
    public void AnEditedLayerLeavesTheScheduleAndTheResultIsTheSame()
    {
        var spec = new ConstructionSpec(3, 2, 0.5, null, 2, 2, 0.5);
        var model = Compiler.Compile(spec);
        var prompt = PromptSampler.Sample(new MixtureSpec(RegressionVectors.DrawNormalised(3, 2, SeedSequence.Create(9)), new[] { 0.5, 0.5 }, 0.5), 90, 9, 0);
        var names = model.Layout.RowNames();
        int stepLayer = model.Layers.ToList().FindIndex(l => l is AttentionLayer a && a.Provenance.Operator == "gd_step" && a.Heads[0].Activation == Activation.Softmax);
        var step = ((AttentionLayer)model.Layers[stepLayer]).Heads[0];
        // The example mean with its query reading x_0: a per-token query, so no longer a reduction of the schedule.
        var q = step.Query;
        int one = Array.IndexOf(names, "one"), x0 = Array.IndexOf(names, "x[0]");
        var perToken = new AttentionHead("step-x", step.Activation,
            new SparseMatrix(q.Rows, q.Cols, q.RowIndex, q.ColIndex.Select(c => c == one ? x0 : c).ToArray(), q.Values), step.Key, step.Value,
            step.PositionalDims, step.Admission, "step head, query x_0");
        var layers = model.Layers.ToList();
        var old = (AttentionLayer)layers[stepLayer];
        layers[stepLayer] = new AttentionLayer(old.Heads.Skip(1).Prepend(perToken).ToArray(), old.Provenance, old.Domain);
        var edited = new TransformerModel(model.Spec, model.Layout, model.Embedding, layers, model.ReadOut, model.Margin);
        Assert.Contains(new ModelExecutor<double>(model).Phases, p => p.First <= stepLayer && stepLayer < p.First + p.Count);
        Assert.DoesNotContain(new ModelExecutor<double>(edited).Phases, p => p.First <= stepLayer && stepLayer < p.First + p.Count);
        AssertSameBits<double>(edited, prompt, "edited example mean");
        // And the layer-by-layer pass still equals the dense executor on it.
        double a = new ModelExecutor<double>(edited).Forward(prompt.Examples, prompt.Query).Prediction;
        double b = new ModelExecutor<double>(edited, MorIcl.Runtime.Structured.ExecutorKind.Dense).Forward(prompt.Examples, prompt.Query).Prediction;
        Assert.True(Math.Abs(a - b) <= 1e-12 * Math.Max(1, Math.Abs(b)), $"edited: {a:R} vs dense {b:R}");
    }

    [Fact]
    public void ABoundThatFailsAfterTheBlocksRunsThePromptAgainLayerByLayer()
    {
        // x scaled by 10⁶: the per-token heads' bounds fail once every block has run; the prompt then runs layer by
        // layer (those heads densely) and the result, out of domain, is the layer-by-layer one.
        var spec = new ConstructionSpec(3, 2, 0.5, null, 2, 2, 0.5);
        var model = Compiler.Compile(spec);
        var p = PromptSampler.Sample(new MixtureSpec(RegressionVectors.DrawNormalised(3, 2, SeedSequence.Create(4)), new[] { 0.5, 0.5 }, 0.5), 60, 4, 0);
        var x = p.Examples.Columns.Select(v => v * 1e6).ToArray();
        var scaled = new Prompt(new RegressionData(p.N, p.Examples.D, x, p.Examples.Y), p.Query.Select(v => v * 1e6).ToArray(), p.QueryLabel, p.Components);
        Assert.False(new ModelExecutor<double>(model, MorIcl.Runtime.Structured.ExecutorKind.Dense).Forward(scaled.Examples, scaled.Query).Certificate.InDomain);
        AssertSameBits<double>(model, scaled, "x · 10⁶", block: 16);
    }
}
