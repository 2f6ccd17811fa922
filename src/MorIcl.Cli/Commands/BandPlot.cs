namespace MorIcl.Cli.Commands;

/// <summary>
/// Curves with confidence bands, in panels, written as one PNG. The y axis is logarithmic, or — when
/// any value (a mean or an interval end) is zero or negative — the symmetric log scale of
/// <see cref="AxisScale"/>, so a negative value (an excess MSE below the oracle's on a finite sample) is
/// drawn below the zero line at its true size, never as a tiny positive. Ticks are labelled with the
/// values. Every panel has the same y scale and range, so panels compare at a glance, and its legend
/// sits right of its data area, so it never covers a curve.
/// </summary>
internal static class BandPlot
{
    /// <summary>A curve: means with (optional) interval bounds; <paramref name="Colour"/> picks the palette colour, <paramref name="Style"/> the line pattern and marker.</summary>
    public sealed record Band(string Name, double[] X, double[] Mean, double[]? Low, double[]? High, int Colour, int Style = 0);

    /// <summary>One panel: a title and its curves.</summary>
    public sealed record Panel(string Title, IReadOnlyList<Band> Bands);

    private static readonly ScottPlot.LinePattern[] Patterns = { ScottPlot.LinePattern.Solid, ScottPlot.LinePattern.Dashed, ScottPlot.LinePattern.Dotted, ScottPlot.LinePattern.DenselyDashed };
    private static readonly ScottPlot.MarkerShape[] Markers = { ScottPlot.MarkerShape.FilledCircle, ScottPlot.MarkerShape.FilledSquare, ScottPlot.MarkerShape.FilledTriangleUp, ScottPlot.MarkerShape.FilledDiamond };

    public static void WritePanels(string path, string title, string xLabel, string yLabel, IReadOnlyList<Panel> panels, bool logX, int columns = 2)
    {
        if (panels.Count == 0) throw new SpecificationException("nothing to plot");
        var bands = panels.SelectMany(p => p.Bands).ToArray();
        var ys = bands.SelectMany(b => b.Mean.Concat(b.Low ?? Array.Empty<double>()).Concat(b.High ?? Array.Empty<double>())).Where(double.IsFinite).ToArray();
        var xs = bands.SelectMany(b => b.X).Where(double.IsFinite).ToArray();
        var yScale = AxisScale.For(ys, log: true);
        var xScale = AxisScale.For(xs, logX);
        double lo = ys.Length == 0 ? -1 : yScale.Map(ys.Min()), hi = ys.Length == 0 ? 1 : yScale.Map(ys.Max());
        if (yScale.Type == AxisScale.Kind.SymLog) { lo = Math.Min(lo, 0); hi = Math.Max(hi, 0); }
        double pad = 0.05 * Math.Max(hi - lo, 1e-9);
        var plots = new List<ScottPlot.Plot>();
        foreach (var panel in panels)
        {
            var plt = Draw(panel.Bands, xScale, yScale);
            if (yScale.Ticks(ys) is { } yt) plt.Axes.Left.TickGenerator = yt;
            // Few x values (a sweep's grid): a labelled tick at each; many: the scale's ticks.
            var grid = xs.Distinct().OrderBy(v => v).ToArray();
            if (grid.Length <= 8) plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(grid.Select(xScale.Map).ToArray(), grid.Select(AxisScale.Label).ToArray());
            else if (xScale.Ticks(xs) is { } xt) plt.Axes.Bottom.TickGenerator = xt;
            if (xs.Length > 0)
            {
                double x0 = xScale.Map(xs.Min()), x1 = xScale.Map(xs.Max()), m = 0.06 * Math.Max(x1 - x0, 0.5);
                plt.Axes.SetLimitsX(x0 - m, x1 + m);
            }
            plt.Axes.SetLimitsY(lo - pad, hi + pad);
            plt.Title(panel.Title, size: 13);
            plt.XLabel(xLabel + xScale.Note);
            plt.YLabel(yLabel + yScale.Note);
            plt.Axes.Left.Label.FontSize = 12;
            plt.Axes.Bottom.Label.FontSize = 13;
            plt.ShowLegend(ScottPlot.Edge.Right);   // on every panel, outside its data area: equal panel widths, nothing covered
            plots.Add(plt);
        }
        PanelImage.Write(path, title, plots, columns, 760, 470);
    }

    /// <summary>One plot of curves with their bands (no title, labels or ticks).</summary>
    private static ScottPlot.Plot Draw(IReadOnlyList<Band> bands, AxisScale xScale, AxisScale yScale)
    {
        var palette = new ScottPlot.Palettes.Category10();
        var plt = new ScottPlot.Plot();
        if (yScale.Type == AxisScale.Kind.SymLog) plt.Add.HorizontalLine(0, 1, ScottPlot.Colors.Gray, ScottPlot.LinePattern.Dotted);
        foreach (var b in bands)
        {
            var colour = palette.GetColor(b.Colour);
            var keep = Enumerable.Range(0, b.X.Length).Where(i => double.IsFinite(b.Mean[i]) && double.IsFinite(b.X[i])).ToArray();
            if (keep.Length == 0) continue;
            if (b.Low is { } low && b.High is { } high)
            {
                var band = keep.Where(i => double.IsFinite(low[i]) && double.IsFinite(high[i])).ToArray();
                if (band.Length > 1)
                {
                    var fill = plt.Add.FillY(band.Select(i => xScale.Map(b.X[i])).ToArray(), band.Select(i => yScale.Map(low[i])).ToArray(), band.Select(i => yScale.Map(high[i])).ToArray());
                    fill.FillColor = colour.WithAlpha(0.18);
                    fill.LineWidth = 0;
                }
                else if (band.Length == 1)
                {
                    int i = band[0];
                    var bar = plt.Add.Line(xScale.Map(b.X[i]), yScale.Map(low[i]), xScale.Map(b.X[i]), yScale.Map(high[i]));
                    bar.Color = colour.WithAlpha(0.5);
                    bar.LineWidth = 3;
                }
            }
            var sc = plt.Add.Scatter(keep.Select(i => xScale.Map(b.X[i])).ToArray(), keep.Select(i => yScale.Map(b.Mean[i])).ToArray());
            sc.Color = colour;
            sc.LinePattern = Patterns[b.Style % Patterns.Length];
            sc.MarkerShape = Markers[b.Style % Markers.Length];
            sc.MarkerSize = b.X.Length > 40 ? 3 : 6;
            int left = b.X.Length - keep.Length;
            sc.LegendText = left == 0 ? b.Name : $"{b.Name} ({left} non-finite not drawn)";
        }
        return plt;
    }
}
