using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Construction.Operators;
using MorIcl.Numerics;
using MorIcl.Runtime.Bounds;
using Xunit.Abstractions;

namespace MorIcl.Tests.Bounds;

/// <summary>
/// The log interpolant's layer (estimated π) with its pass radius measured a posteriori (docs/math.md
/// §8.9), on adversarial inputs: π̂ at p_min, exactly at breakpoints and one ulp either side, and at 1.
/// "Exact" is the same MLP in double-double on the same input; "the pass" is the MLP evaluated in T
/// in two summation orders (the measured bound may assume none). Every observed |Ĥ − H| must lie inside
/// the bound (and inside the a-priori one), and a bound that drops the remainder |H − c̃| (only the
/// measured |c̃ − Ĥ|) must be rejected by the same comparison.
/// </summary>
public class MeasuredLogLayerTests(ITestOutputHelper output)
{
    private static (TransformerModel Model, int Layer) LogLayer()
    {
        var spec = new ConstructionSpec(2, 2, 0.5, null, 1, 1, 0.5, estimateMixing: true);
        var model = Compiler.Compile(spec);
        int l = -1;
        for (int i = 0; i < model.Layers.Count && l < 0; i++) if (model.Layers[i] is MlpLayer { DeclaredError: > 0 }) l = i;
        Assert.True(l >= 0, "the estimated-π construction has an approximate log layer");
        return (model, l);
    }

    private static double[] Inputs(double floor)
    {
        var log = new LogApproximation(floor, ConstructionSpec.LogTargetError);
        var xs = new List<double> { floor, (double)(float)floor, 1, (double)MathF.BitIncrement(1f) };
        foreach (int j in new[] { 1, 2, log.Knots.Length / 2, log.Knots.Length - 2 })
        {
            float k = (float)log.Knots[j];
            xs.AddRange(new double[] { log.Knots[j], k, MathF.BitDecrement(k), MathF.BitIncrement(k) });
        }
        return xs.ToArray();
    }

    /// <summary>Observed |Ĥ − H| and the bounds (a priori, measured, measured without remainder) on the layer's written rows, at input value p.</summary>
    private static (double Observed, double APriori, double Measured, double Wrong) Run<T>(TransformerModel model, int l, double p, bool reverse) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var mlp = (BoundsModel.Mlp)BoundsModel.Create<T>(model).Layers[l];
        int D = model.Dimension;
        double u = Rounding.Unit<T>();
        var h = new double[D];
        for (int e = 0; e < mlp.W1.Start[^1]; e++) h[mlp.W1.Cols[e]] = double.CreateChecked(T.CreateChecked(p));
        // The pass in T, and the exact MLP in double-double, on the same input.
        int H = mlp.W1.Count;
        var z = new T[H]; var zx = new DoubleDouble[H];
        for (int r = 0; r < H; r++)
        {
            int unit = mlp.W1.Output[r];
            T acc = T.CreateChecked(mlp.B1[unit]); DoubleDouble ex = mlp.B1[unit];
            for (int e = mlp.W1.Start[r]; e < mlp.W1.Start[r + 1]; e++)
            {
                acc += T.CreateChecked(mlp.W1.Values[e]) * T.CreateChecked(h[mlp.W1.Cols[e]]);
                ex += (DoubleDouble)mlp.W1.Values[e] * h[mlp.W1.Cols[e]];
            }
            z[unit] = T.Max(acc, T.Zero); zx[unit] = DoubleDouble.Max(ex, DoubleDouble.Zero);
        }
        var hat = h.Select(T.CreateChecked).ToArray(); var exact = h.Select(v => (DoubleDouble)v).ToArray();
        var delta = new T[D]; var deltaX = new DoubleDouble[D];
        for (int r = 0; r < mlp.W2.Count; r++)
        {
            int row = mlp.W2.Output[r];
            var order = Enumerable.Range(mlp.W2.Start[r], mlp.W2.Start[r + 1] - mlp.W2.Start[r]);
            T acc = T.Zero;
            foreach (int e in reverse ? order.Reverse() : order)
            {
                acc += T.CreateChecked(mlp.W2.Values[e]) * z[mlp.W2.Cols[e]];
                deltaX[row] += (DoubleDouble)mlp.W2.Values[e] * zx[mlp.W2.Cols[e]];
            }
            delta[row] += acc;
        }
        for (int b = 0; b < mlp.BiasRows.Length; b++) { delta[mlp.BiasRows[b]] += T.CreateChecked(mlp.Bias[b]); deltaX[mlp.BiasRows[b]] += mlp.Bias[b]; }
        foreach (int row in mlp.Written) { hat[row] += delta[row]; exact[row] += deltaX[row]; }

        // The analysis: the input known exactly (H_in = Ĥ_in), one token.
        var stream = new Enclosure(D, 1, 0);
        for (int c = 0; c < D; c++) stream.Center[c] = h[c];
        var residual = new ResidualBounds();
        residual.Begin(mlp.Written, D, 1, 0);
        new MlpBounds<T>(u).Run(mlp, stream, residual);
        MeasuredPassRadius measured = new(), wrong = new(withRemainder: false);
        var x = stream.Exact;
        var keep = (double[])x.Clone();
        residual.Commit<T>(stream, stream.G, x, u, Rounding.SelfInflation(mlp.LongestSum(1)), measured);
        var apriori = (double[])x.Clone();
        Array.Copy(keep, x, x.Length);
        residual.Commit<T>(stream, stream.G, x, u, Rounding.SelfInflation(mlp.LongestSum(1)), wrong);
        for (int c = 0; c < D; c++) stream.Center[c] = double.CreateChecked(hat[c]);   // the next layer's input
        var right = (double[])apriori.Clone(); var bad = (double[])apriori.Clone();
        Array.Copy(apriori, x, x.Length); measured.Apply(stream); Array.Copy(x, right, x.Length);
        Array.Copy(apriori, x, x.Length); wrong.Apply(stream); Array.Copy(x, bad, x.Length);
        double obs = 0, a = 0, m = 0, w = 0;
        foreach (int row in mlp.Written)
        {
            var diff = (DoubleDouble)double.CreateChecked(hat[row]) - exact[row];
            double o = Math.Abs(diff.Hi + diff.Lo);
            if (o > obs) { obs = o; a = apriori[row]; m = right[row]; w = bad[row]; }
            Assert.True(o <= right[row] && o <= apriori[row], $"{typeof(T).Name} p = {p:R} row {model.Layout.RowName(row)}: |Ĥ − H| = {o:G3} > measured {right[row]:G3} or a priori {apriori[row]:G3}");
        }
        return (obs, a, m, w);
    }

    [Fact]
    public void TheMeasuredBoundContainsTheErrorAtBreakpointsAndAtTheFloorAndItsRemainderIsNeeded()
    {
        var (model, l) = LogLayer();
        int rejected = 0;
        double worstRatio = 0;
        foreach (double p in Inputs(model.Spec.MixingFloor))
            foreach (bool reverse in new[] { false, true })
            {
                var f = Run<float>(model, l, p, reverse);
                worstRatio = Math.Max(worstRatio, f.Measured / f.APriori);
                var d = Run<double>(model, l, p, reverse);
                if (d.Observed > d.Wrong || f.Observed > f.Wrong) rejected++;
                output.WriteLine($"p = {p:R}{(reverse ? " reversed" : "")}: float observed {f.Observed:G3}, measured {f.Measured:G3}, a priori {f.APriori:G3}; double observed {d.Observed:G3}, measured {d.Measured:G3}, without remainder {d.Wrong:G3}");
            }
        Assert.True(worstRatio < 1, $"the measured bound is tighter than the a-priori one (largest ratio {worstRatio:G3})");
        Assert.True(rejected > 0, "a measured bound without the remainder |H − c̃| is rejected on some adversarial input");
    }
}
