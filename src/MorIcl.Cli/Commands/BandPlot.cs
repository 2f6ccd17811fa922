using System.Globalization;
using MorIcl.IO;

namespace MorIcl.Cli.Commands;

/// <summary>
/// Curves with confidence bands on a symmetric-log y axis, written as a PNG (ScottPlot) atomically.
/// The axis maps y to sign(y)·log10(1 + |y|/c): logarithmic for |y| ≫ c, linear through 0 within ±c,
/// so a negative value (an excess MSE below the oracle's on a finite sample) is drawn below the zero
/// line at its true size — never as a tiny positive. Ticks are labelled with the values themselves.
/// The legend sits outside the data area (right of it), so it never covers a curve. Several series go
/// in panels with a shared y axis rather than one crowded plot.
/// </summary>
internal static class BandPlot
{
    /// <summary>A curve: means with (optional) interval bounds; <paramref name="Style"/> picks the line pattern and marker, <paramref name="Colour"/> the palette colour.</summary>
    public sealed record Band(string Name, double[] X, double[] Mean, double[]? Low, double[]? High, int Colour, int Style = 0);

    private static readonly ScottPlot.LinePattern[] Patterns = { ScottPlot.LinePattern.Solid, ScottPlot.LinePattern.Dashed, ScottPlot.LinePattern.Dotted, ScottPlot.LinePattern.DenselyDashed };
    private static readonly ScottPlot.MarkerShape[] Markers = { ScottPlot.MarkerShape.FilledCircle, ScottPlot.MarkerShape.FilledSquare, ScottPlot.MarkerShape.FilledTriangleUp, ScottPlot.MarkerShape.FilledDiamond };

    /// <summary>sign(y)·log10(1 + |y|/c).</summary>
    public static double SymLog(double y, double c) => Math.Sign(y) * Math.Log10(1 + Math.Abs(y) / c);

    /// <summary>
    /// The linear threshold c for data: a power of ten at or below the smallest non-zero |value|,
    /// clamped to [1e-6, 1e-2] so the log part spans the data's decades.
    /// </summary>
    public static double Threshold(IEnumerable<double> values)
    {
        double min = values.Where(v => double.IsFinite(v) && v != 0).Select(Math.Abs).DefaultIfEmpty(1e-3).Min();
        return Math.Clamp(Math.Pow(10, Math.Floor(Math.Log10(min))), 1e-6, 1e-2);
    }

    /// <summary>One panel: a title and its curves.</summary>
    public sealed record Panel(string Title, IReadOnlyList<Band> Bands);

    /// <summary>
    /// Panels side by side (up to <paramref name="columns"/> per row), all with the same symmetric-log
    /// y axis (one threshold c, one range) so they compare at a glance, under one overall title; each
    /// panel's legend sits right of its data area.
    /// </summary>
    public static void WritePanels(string path, string title, string xLabel, string yLabel, IReadOnlyList<Panel> panels, bool logX, int columns = 2, double? threshold = null)
    {
        if (panels.Count == 0) throw new SpecificationException("nothing to plot");
        var all = panels.SelectMany(p => p.Bands).SelectMany(b => b.Mean.Concat(b.Low ?? Array.Empty<double>()).Concat(b.High ?? Array.Empty<double>())).Where(double.IsFinite).ToArray();
        double c = threshold ?? Threshold(all);
        double lo = all.Length == 0 ? -1 : SymLog(all.Min(), c), hi = all.Length == 0 ? 1 : SymLog(all.Max(), c);
        double pad = 0.05 * Math.Max(hi - lo, 1e-9);
        var plots = new List<ScottPlot.Plot>();
        for (int i = 0; i < panels.Count; i++)
        {
            var plt = Draw(panels[i].Bands, c, logX, all);
            plt.Title(panels[i].Title, size: 13);
            plt.XLabel(xLabel + (logX ? " (log scale)" : ""));
            plt.YLabel($"{yLabel} (symlog, linear within ±{Label(c)})");
            plt.Axes.SetLimitsY(Math.Min(lo, 0) - pad, Math.Max(hi, 0) + pad);
            plt.ShowLegend(ScottPlot.Edge.Right);   // on every panel, outside its data area: equal panel widths, nothing covered
            plots.Add(plt);
        }
        PanelImage.Write(path, title, plots, columns, 760, 420);
    }

    /// <summary>One plot of curves with bands (no title or labels).</summary>
    private static ScottPlot.Plot Draw(IReadOnlyList<Band> bands, double c, bool logX, double[] all)
    {
        double X(double x) => logX ? Math.Log10(x) : x;
        var palette = new ScottPlot.Palettes.Category10();
        var plt = new ScottPlot.Plot();
        plt.Add.HorizontalLine(0, 1, ScottPlot.Colors.Gray, ScottPlot.LinePattern.Dotted);
        foreach (var b in bands)
        {
            var colour = palette.GetColor(b.Colour);
            var keep = Enumerable.Range(0, b.X.Length).Where(i => double.IsFinite(b.Mean[i]) && (!logX || b.X[i] > 0)).ToArray();
            if (keep.Length == 0) continue;
            var xs = keep.Select(i => X(b.X[i])).ToArray();
            if (b.Low is { } lo && b.High is { } hi)
            {
                var band = keep.Where(i => double.IsFinite(lo[i]) && double.IsFinite(hi[i])).ToArray();
                if (band.Length > 1)
                {
                    var fill = plt.Add.FillY(band.Select(i => X(b.X[i])).ToArray(), band.Select(i => SymLog(lo[i], c)).ToArray(), band.Select(i => SymLog(hi[i], c)).ToArray());
                    fill.FillColor = colour.WithAlpha(0.18);
                    fill.LineWidth = 0;
                }
                else if (band.Length == 1)
                {
                    int i = band[0];
                    var bar = plt.Add.Line(X(b.X[i]), SymLog(lo[i], c), X(b.X[i]), SymLog(hi[i], c));
                    bar.Color = colour.WithAlpha(0.5);
                    bar.LineWidth = 3;
                }
            }
            var sc = plt.Add.Scatter(xs, keep.Select(i => SymLog(b.Mean[i], c)).ToArray());
            sc.Color = colour;
            sc.LinePattern = Patterns[b.Style % Patterns.Length];
            sc.MarkerShape = Markers[b.Style % Markers.Length];
            sc.MarkerSize = 6;
            sc.LegendText = b.Name;
        }
        SetYTicks(plt, all, c);
        if (logX)
        {
            var xv = bands.SelectMany(b => b.X).Where(x => x > 0).Distinct().OrderBy(x => x).ToArray();
            // Few x values: a tick at each. Many: 1-2-5 steps over their range.
            var ticks = xv.Length <= 12 ? xv : OneTwoFive(xv[0], xv[^1]);
            plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.Select(Math.Log10).ToArray(), ticks.Select(Label).ToArray());
            if (xv.Length > 0)
            {
                double l0 = Math.Log10(xv[0]), l1 = Math.Log10(xv[^1]), m = 0.06 * Math.Max(l1 - l0, 0.5);
                plt.Axes.SetLimitsX(l0 - m, l1 + m);
            }
        }
        return plt;
    }

    private static double[] OneTwoFive(double lo, double hi)
    {
        var t = new List<double>();
        for (int e = (int)Math.Floor(Math.Log10(lo)); e <= (int)Math.Ceiling(Math.Log10(hi)); e++)
            foreach (var m in new[] { 1.0, 2, 5 })
            {
                double v = m * Math.Pow(10, e);
                if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) t.Add(v);
            }
        return t.ToArray();
    }

    /// <summary>Ticks at 0 and ±10^k over the data's range, labelled with the values.</summary>
    private static void SetYTicks(ScottPlot.Plot plt, double[] values, double c)
    {
        double max = values.Length == 0 ? 1 : values.Max(), min = values.Length == 0 ? 0 : values.Min();
        var ticks = new List<double> { 0 };
        // ±c itself is left out: its label would crowd the 0 tick (they are log10(2) apart).
        for (int k = (int)Math.Round(Math.Log10(c)) + 1; k <= 6; k++)
        {
            double v = Math.Pow(10, k);
            if (v <= max * 1.5) ticks.Add(v);
            if (-v >= min * 1.5) ticks.Add(-v);
        }
        ticks.Sort();
        plt.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.Select(t => SymLog(t, c)).ToArray(), ticks.Select(Label).ToArray());
    }

    /// <summary>A tick label: plain decimals from 1e-3 to 1e4, otherwise 1e-5, 2.5e6, ….</summary>
    private static string Label(double v)
    {
        if (v == 0) return "0";
        double a = Math.Abs(v);
        if (a >= 1e-3 && a < 1e4) return v.ToString("0.###", CultureInfo.InvariantCulture);
        int e = (int)Math.Floor(Math.Log10(a));
        double m = v / Math.Pow(10, e);
        return (Math.Abs(m - Math.Round(m)) < 1e-9 ? Math.Round(m).ToString(CultureInfo.InvariantCulture) : m.ToString("0.##", CultureInfo.InvariantCulture)) + "e" + e.ToString(CultureInfo.InvariantCulture);
    }
}
