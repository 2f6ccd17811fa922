using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Numerics;
using MorIcl.Runtime.Bounds;
using Xunit.Abstractions;

namespace MorIcl.Tests.Bounds;

/// <summary>
/// Linear ReLU pairs in the MLP bounds (docs/math.md §8.11): units u, u + 1 with opposite W₁ rows and b₁
/// and opposite W₂ columns are W₂ᵤ·z in exact arithmetic, so the exact side may stay linear where the
/// sign of z is not certified (a reset of a row whose value is within its error of 0 stays exact). On the
/// construction's reset layer with inputs whose sign is uncertain, every exact output (double-double, over
/// inputs spread through the input enclosure) must lie inside the bound; the pair treatment must give a
/// much smaller bound than unit-by-unit; a mutant whose follower's W₂ entry is ×1.5 must not be detected
/// as a pair, and the analysis run with the pair flags of the unmutated layer (a wrong exactness
/// assumption) must be caught by the same comparison.
/// </summary>
public class LinearPairTests(ITestOutputHelper output)
{
    private static (TransformerModel Model, BoundsModel.Mlp Mlp) ResetLayer()
    {
        var model = Compiler.Compile(new ConstructionSpec(2, 2, 0.5, null, 1, 1, 0.5));
        var bounds = BoundsModel.Create<double>(model);
        foreach (var layer in bounds.Layers)
            if (layer is BoundsModel.Mlp m && m.PairLeader.Count(p => p) >= 2 && m.BiasRows.Length == 0) return (model, m);
        throw new InvalidOperationException("the construction has an MLP of linear pairs");
    }

    /// <summary>Largest |Ĥ − H|/bound over the written rows and the sampled exact inputs, and the largest bound.</summary>
    private static (double Ratio, double Bound) Check(TransformerModel model, BoundsModel.Mlp mlp, double center, double radius)
    {
        int D = model.Dimension;
        var read = new SortedSet<int>(mlp.W1.Cols);
        var h = new double[D];
        foreach (int c in read) h[c] = center;
        var stream = new Enclosure(D, 1, 0);
        for (int c = 0; c < D; c++) { stream.Center[c] = h[c]; stream.Exact[c] = read.Contains(c) ? radius : 0; }
        var residual = new ResidualBounds();
        residual.Begin(mlp.Written, D, 1, 0);
        new MlpBounds<double>(Rounding.DoubleUnit).Run(mlp, stream, residual);
        residual.Commit<double>(stream, stream.G, stream.Exact, Rounding.DoubleUnit, Rounding.SelfInflation(mlp.LongestSum(1)));
        var pass = Evaluate(mlp, h.Select(v => (DoubleDouble)v).ToArray(), D, roundToDouble: true);
        var rng = new Random(7);
        double ratio = 0, bound = mlp.Written.Max(r => stream.Exact[r]);
        for (int sample = 0; sample < 64; sample++)
        {
            var x = new DoubleDouble[D];
            for (int c = 0; c < D; c++)
            {
                double t = sample < 2 ? (sample == 0 ? -1 : 1) : 2 * rng.NextDouble() - 1;
                x[c] = read.Contains(c) ? (DoubleDouble)h[c] + t * radius : h[c];
            }
            var exact = Evaluate(mlp, x, D, roundToDouble: false);
            foreach (int r in mlp.Written)
            {
                var gap = pass[r] - exact[r];
                ratio = Math.Max(ratio, Math.Abs(gap.Hi + gap.Lo) / stream.Exact[r]);
            }
        }
        return (ratio, bound);
    }

    /// <summary>h + W₂ReLU(W₁h + b₁) + b₂, in double-double, or with every operation rounded to double (the pass).</summary>
    private static DoubleDouble[] Evaluate(BoundsModel.Mlp mlp, DoubleDouble[] h, int D, bool roundToDouble)
    {
        DoubleDouble R(DoubleDouble v) => roundToDouble ? (DoubleDouble)(v.Hi + v.Lo) : v;
        var z = new DoubleDouble[mlp.W1.Count];
        for (int u = 0; u < mlp.W1.Count; u++)
        {
            DoubleDouble acc = mlp.B1[mlp.W1.Output[u]];
            for (int e = mlp.W1.Start[u]; e < mlp.W1.Start[u + 1]; e++) acc = R(acc + R((DoubleDouble)mlp.W1.Values[e] * h[mlp.W1.Cols[e]]));
            z[u] = DoubleDouble.Max(acc, DoubleDouble.Zero);
        }
        var result = (DoubleDouble[])h.Clone();
        for (int r = 0; r < mlp.W2.Count; r++)
        {
            DoubleDouble acc = DoubleDouble.Zero;
            for (int e = mlp.W2.Start[r]; e < mlp.W2.Start[r + 1]; e++) acc = R(acc + R((DoubleDouble)mlp.W2.Values[e] * z[mlp.W2.Cols[e]]));
            int row = mlp.W2.Output[r];
            result[row] = R(result[row] + acc);
        }
        return result;
    }

    [Fact]
    public void AResetOfUncertainSignStaysExactAndAWrongPairIsCaught()
    {
        var (model, mlp) = ResetLayer();
        // Inputs 0.01 ± 0.1: every unit's sign is uncertain.
        var paired = Check(model, mlp, 0.01, 0.1);
        Assert.True(paired.Ratio <= 1, $"exact outputs inside the pair bound (largest |Ĥ − H|/bound {paired.Ratio:G3})");
        var leaders = (bool[])mlp.PairLeader.Clone();
        Array.Clear(mlp.PairLeader);
        var single = Check(model, mlp, 0.01, 0.1);
        Assert.True(single.Ratio <= 1, $"exact outputs inside the unit-by-unit bound ({single.Ratio:G3})");
        Assert.True(paired.Bound < 1e-3 * single.Bound, $"the pair bound {paired.Bound:G3} is far below the unit-by-unit {single.Bound:G3}");

        // The mutant: one follower's W₂ entry ×1.5 (the two units no longer one linear map).
        int u = Array.IndexOf(leaders, true), entry = -1;
        for (int e = 0; e < mlp.W2.Values.Length && entry < 0; e++) if (mlp.W2.Cols[e] == u + 1) entry = e;
        mlp.W2.Values[entry] *= 1.5;
        Assert.False(LinearPairs.Leaders(mlp.W1, mlp.B1, mlp.W2)[u], "a pair with a ×1.5 follower is not a linear pair");
        var honest = Check(model, mlp, 0.01, 0.1);
        Assert.True(honest.Ratio <= 1, $"the mutant, analysed as it is, stays inside its bound ({honest.Ratio:G3})");
        Array.Copy(leaders, mlp.PairLeader, leaders.Length);
        var wrong = Check(model, mlp, 0.01, 0.1);
        output.WriteLine($"pair: bound {paired.Bound:G3}, worst ratio {paired.Ratio:G3}; unit by unit: bound {single.Bound:G3}, ratio {single.Ratio:G3}; mutant: {honest.Bound:G3}, {honest.Ratio:G3}; mutant as a pair: {wrong.Bound:G3}, {wrong.Ratio:G3}");
        Assert.True(wrong.Ratio > 1, $"the mutant analysed as a linear pair is caught (largest |Ĥ − H|/bound {wrong.Ratio:G3})");
    }
}
