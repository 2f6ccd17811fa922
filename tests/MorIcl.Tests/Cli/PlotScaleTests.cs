using MorIcl.Cli.Commands;

namespace MorIcl.Tests.Cli;

/// <summary>Plots never drop zeros or negatives on log axes, nor fade unit weights in heat maps.</summary>
public class PlotScaleTests
{
    [Fact]
    public void PositiveValuesGetALogAxis()
    {
        var s = AxisScale.For(new[] { 1e-3, 0.5, 20.0 }, log: true);
        Assert.Equal(AxisScale.Kind.Log, s.Type);
        Assert.Equal(-3, s.Map(1e-3), 12);
        var labels = s.TickMarks(new[] { 1e-3, 0.5, 20.0 }).Select(t => t.Label).ToArray();
        Assert.Contains("0.001", labels); Assert.Contains("100", labels);
    }

    [Fact]
    public void ZerosAndNegativesTurnTheAxisSymmetricLog()
    {
        var values = new[] { 0.0, 2e-3, 0.01, -0.01 };
        var s = AxisScale.For(values, log: true);
        Assert.Equal(AxisScale.Kind.SymLog, s.Type);
        Assert.Equal(2e-3, s.Threshold);
        Assert.Equal(0, s.Map(0));
        Assert.Equal(Math.Log10(2), s.Map(2e-3), 12);          // the smallest value half a decade above zero
        Assert.Equal(-s.Map(0.01), s.Map(-0.01));              // negatives mirror positives
        Assert.True(s.Map(2e-3) < s.Map(0.01));
        var ticks = s.TickMarks(values);
        Assert.Contains(ticks, t => t.Label == "0" && t.Position == 0);
        Assert.Contains(ticks, t => t.Label == "-0.01");
    }

    [Fact]
    public void CurvePlotDrawsEveryFinitePointWhereItIs()
    {
        // seed 003 Figure 3's message: the gap is exactly 0 at N = m.
        var curve = new CurvePlot.Curve("gap", new[] { 90.0, 100, 110 }, new[] { 5e-3, 0, 4e-3 });
        var nan = new CurvePlot.Curve("with NaN", new[] { 90.0, 100, 110 }, new[] { 1e-3, double.NaN, 2e-3 });
        var plt = CurvePlot.Build("t", "N", "gap", new[] { curve, nan });
        var scatters = plt.GetPlottables<ScottPlot.Plottables.Scatter>().ToArray();
        var points = scatters[0].Data.GetScatterPoints();
        Assert.Equal(3, points.Count);
        Assert.Equal(0, points[1].Y);                           // at zero, not at a tiny positive
        Assert.True(points[0].Y > 0 && points[2].Y > 0);
        Assert.Equal(2, scatters[1].Data.GetScatterPoints().Count);
        Assert.Contains("1 non-finite point not drawn", scatters[1].LegendText);
    }

    [Fact]
    public void HeatmapColoursAreSymmetricAndUnitWeightsShowNextToMargins()
    {
        var scale = Heatmap.ColourScale.Of(new[] { 8192.0, -8192, 1, -1, 0, 0.5 });
        Assert.True(scale.Log);
        Assert.Equal(1, scale.Map(8192), 12);
        Assert.Equal(-1, scale.Map(-8192), 12);
        Assert.Equal(0, scale.Map(0));
        Assert.Equal(-scale.Map(1), scale.Map(-1));
        Assert.True(scale.Map(1) >= 0.3, $"a unit weight maps to {scale.Map(1)}, too close to white");
        Assert.True(scale.Map(0.5) >= 0.3 && scale.Map(0.5) < scale.Map(1));
        var linear = Heatmap.ColourScale.Of(new[] { 1.0, -2, 0.5 });
        Assert.False(linear.Log);
        Assert.Equal(-1, linear.Map(-2), 12);
    }
}
