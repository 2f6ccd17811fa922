using MorIcl.Construction;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Runtime;
using MorIcl.Runtime.Structured;

namespace MorIcl.Tests.Structured;

/// <summary>
/// The float-exactness rule of the positional prefix (docs/math.md §9.5). The construction's positional part
/// −R·Σ_d (p_d − q_d)² is summed per digit as (−R p_d²)·1 + (2R p_d)·q_d + (−R)·q_d²; every partial sum lies in
/// [−G·R·31², R·31²] and the product 2R·p_d·q_d reaches 2R·31², so the kernel's numbers are bounded by
/// max(G, 2)·R·31² — not by the sum of the terms' magnitudes, 4R·31² per digit. The plan must prove the prefix
/// exact in float at the default margin for n = 100 000 (G = 4), and refuse it just past 2^24.
/// </summary>
public class PositionalPrefixTests
{
    private const double TwoTo24 = 16777216, Square = 31 * 31;

    /// <summary>The model: d = 10, K = 3, S = 10, T = 5, α = 0.5, σ = 0.3, n ≤ 100 000 (G = 4 digits), R = 4096.</summary>
    [Fact]
    public void TheLongPromptModelRunsEveryRestrictedHeadStructuredInFloat()
    {
        var spec = new ConstructionSpec(10, 3, 0.3, null, 10, 5, 0.5, maxPromptLength: 100000);
        Assert.Equal(4, spec.PositionDigits);
        var model = Compiler.Compile(spec);
        var single = new ModelExecutor<float>(model);
        var restricted = single.Plan.Heads.SelectMany(l => l).Where(h => h.Pattern == HeadPattern.AdmittedKeysOnly).ToArray();
        Assert.NotEmpty(restricted);
        // G·R·31²: the full positional part at p_d − q_d = 31 on every digit; the middle product 2R·31² is smaller.
        double expected = 4 * 4096 * Square;
        Assert.All(restricted, h => Assert.Equal(expected, h.PositionalPartialSums));
        Assert.True(expected <= TwoTo24);
        // Summing |terms| (Σ_a max|q_a|·max|k_a| = 16·R·31² plus the gates' constants) puts every one over 2^24.
        Assert.All(restricted, h => Assert.True(h.PositionalMagnitude >= 16 * 4096 * Square && h.PositionalMagnitude > TwoTo24));
        foreach (var h in single.Plan.Heads.SelectMany(l => l).Where(h => h.Pattern != HeadPattern.Dense))
            Assert.True(single.RunsStructured(h.Layer, h.Head), $"layer {h.Layer} head {h.Head} ({h.Name}) runs densely in float: {h.PositionalPartialSums:R}");
    }

    /// <summary>
    /// What float now runs structured at G = 4 computes what the dense float pass does: every layer alone on the dense
    /// stream agrees to 9u = 9·2^-24 relative to the layer's largest entry (the double comparison's 1e-15 is the same
    /// multiple of its u; measured: 8.5e-9, the kernels' value sums round in another order), and its certificate is no
    /// more optimistic.
    /// </summary>
    [Fact]
    public void FloatStructuredAtFourDigitsEqualsFloatDense()
    {
        var model = Compiler.Compile(new ConstructionSpec(4, 3, 0.3, null, 2, 2, 0.5, maxPromptLength: 100000));
        var p = PromptSampler.Sample(new MixtureSpec(RegressionVectors.DrawNormalised(4, 3, SeedSequence.Create(3, 0, 3)), new[] { 0.2, 0.3, 0.5 }, 0.3), 40, 3, 1);
        var fast = new ModelExecutor<float>(model);
        var dense = new ModelExecutor<float>(model, ExecutorKind.Dense);
        Assert.All(fast.Plan.Heads.SelectMany(l => l), h => Assert.True(fast.RunsStructured(h.Layer, h.Head), h.Name));
        var trace = dense.Forward(p.Examples, p.Query, trace: true).Trace!;
        for (int l = 0; l < model.Layers.Count; l++)
        {
            var (a, ca) = fast.ForwardLayer(l, trace[l], p.N);
            var (b, cb) = dense.ForwardLayer(l, trace[l], p.N);
            double err = StructuredEqualsDenseTests.Relative(a, b);
            Assert.True(err <= 9.0 / TwoTo24, $"layer {l} ({model.Layers[l].Provenance.Operator}) differs by {err:G3}");
            StructuredEqualsDenseTests.NoMoreOptimistic(ca, cb, $"layer {l}");
        }
    }

    /// <summary>
    /// Two digits (n ≤ 1023, every digit pair occurs): the bound is 2·ρ·31² (the product and the full sum at p = 1023,
    /// q = 0 both reach it). Every positional query weight rescaled from R = 8192 to ρ: ρ = 8729 gives 16 777 138 ≤ 2^24
    /// and runs structured in float; ρ = 8730 gives 16 779 060 &gt; 2^24 and is refused in float (still structured in double).
    /// </summary>
    [Theory]
    [InlineData(8729, true)]
    [InlineData(8730, false)]
    public void APrefixJustPastTwoToThe24IsRefusedInFloat(double rho, bool exactInFloat)
    {
        var base_ = Compiler.Compile(new ConstructionSpec(2, 2, 0.5, null, 1, 1, 0.5, margin: 8192, maxPromptLength: 1023));
        var name = new ModelExecutor<double>(base_).Plan.Heads.SelectMany(l => l)
            .First(h => h.Pattern == HeadPattern.AdmittedKeysOnly && h.Forms!.Any(f => f.Kind == PositionalFormKind.Distance && f.Rho == 8192)).Name;
        var edited = StructuredCertificateTests.Edit(base_, name, h => StructuredCertificateTests.With(h,
            q: StructuredCertificateTests.Map(h.Query, (r, c) => r < h.PositionalDims, v => v / 8192 * rho)), out int layer);
        var single = new ModelExecutor<float>(edited);
        int head = Array.FindIndex(single.Plan.Heads[layer], h => h.Name == name);
        var plan = single.Plan.Heads[layer][head];
        Assert.Equal(HeadPattern.AdmittedKeysOnly, plan.Pattern);
        Assert.Contains(plan.Forms!, f => f.Kind == PositionalFormKind.Distance && f.Rho == rho);
        Assert.Equal(2 * rho * Square, plan.PositionalPartialSums);
        Assert.Equal(exactInFloat, plan.ExactIn(24));
        Assert.Equal(exactInFloat, single.RunsStructured(layer, head));
        Assert.True(new ModelExecutor<double>(edited).RunsStructured(layer, head));
    }
}

/// <summary>
/// The remembered digit ranges of <see cref="PositionalPrefixBound"/>: a range is reused only for a digit whose eight
/// coefficients (and base) are all the same bits. A key that left out any one coefficient would hand a digit that
/// differs only there the range of another; each is changed in turn here and must get its own exact range.
/// </summary>
public class DigitRangeMemoTests
{
    [Fact]
    public void EveryCoefficientAndTheBaseSelectTheRange()
    {
        const int G = 2, d = 1;
        int[] idx = { 0, 1 + d, 1 + G + d };
        var seen = new Dictionary<PositionalPrefixBound.DigitTerms, (double, double)>();
        double[,] Base()
        {
            var m = new double[1 + 2 * G, 1 + 2 * G];
            m[idx[2], idx[0]] = -4096; m[idx[1], idx[1]] = 8192; m[idx[0], idx[2]] = -4096;   // −R·(p − q)²
            return m;
        }
        var base_ = PositionalPrefixBound.DigitRange(Base(), d, G, 32, seen);
        Assert.Equal((-4096.0 * 31 * 31, 0.0), base_);
        int changedCount = 0;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
            {
                if (i == 0 && j == 0) continue;
                var m = Base();
                m[idx[i], idx[j]] += 3;
                var expected = PositionalPrefixBound.DigitRange(m, d, G, 32);
                Assert.NotEqual(base_, expected);
                Assert.Equal(expected, PositionalPrefixBound.DigitRange(m, d, G, 32, seen));
                changedCount++;
            }
        Assert.Equal(8, changedCount);
        // Another base: the same coefficients over p, q ∈ [0, 15].
        var small = PositionalPrefixBound.DigitRange(Base(), d, G, 16, seen);
        Assert.Equal((-4096.0 * 15 * 15, 0.0), small);
        // The same digit again is remembered (and gives its range).
        Assert.Equal(base_, PositionalPrefixBound.DigitRange(Base(), d, G, 32, seen));
        Assert.Equal(10, seen.Count);
    }
}
