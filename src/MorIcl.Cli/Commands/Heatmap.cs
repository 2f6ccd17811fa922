using MorIcl.IO;

namespace MorIcl.Cli.Commands;

/// <summary>
/// A heat map of a signed matrix with named rows and columns: a diverging colour scale (blue
/// negative, white zero, red positive) over a range symmetric about 0, and a colour bar labelled in
/// the values. When the non-zero magnitudes span more than a decade the colour is logarithmic in |w|:
/// <c>w ↦ sign(w)·(f₀ + (1 − f₀)·log(|w|/w_min)/log(w_max/w_min))</c> with f₀ = 0.3, so the smallest
/// non-zero entry is already clearly coloured, exact zeros alone are white, and ±1 next to ±8192 does
/// not fade to white.
/// </summary>
internal static class Heatmap
{
    private const double LogFloor = 0.3;

    public static void WritePng(string path, string title, double[,] values, IReadOnlyList<string> rowLabels, IReadOnlyList<string> colLabels, string valueLabel)
    {
        int rows = values.GetLength(0), cols = values.GetLength(1);
        var scale = ColourScale.Of(values.Cast<double>());
        var data = new double[rows, cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) data[r, c] = scale.Map(values[r, c]);

        var plt = new ScottPlot.Plot();
        var hm = plt.Add.Heatmap(data);
        hm.Colormap = new ScottPlot.Colormaps.Balance();
        hm.ManualRange = new ScottPlot.Range(-1, 1); // symmetric: white is exactly 0
        hm.Rectangle = new ScottPlot.CoordinateRect(0, cols, 0, rows);   // the cells' edges (Extent would place the corner cells' centres there)
        var bar = plt.Add.ColorBar(hm);
        bar.Label = valueLabel + (scale.Log ? " (colour logarithmic in |w|)" : "");
        bar.Axis.TickGenerator = ColourTicks(scale);
        plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, cols).Select(i => i + 0.5).ToArray(), colLabels.ToArray());
        plt.Axes.Bottom.TickLabelStyle.Rotation = 90;
        plt.Axes.Bottom.TickLabelStyle.Alignment = ScottPlot.Alignment.MiddleLeft;
        plt.Axes.Bottom.MinimumSize = 12 + 8 * colLabels.Max(c => c.Length);
        plt.Axes.Left.MinimumSize = 12 + 7 * rowLabels.Max(b => b.Length);
        plt.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, rows).Select(i => rows - i - 0.5).ToArray(), rowLabels.ToArray());
        plt.Title(title, size: 12);
        plt.Axes.SetLimits(0, cols, 0, rows);
        int width = Math.Max(700, 60 * cols + 400), height = Math.Max(500, 18 * rows + 300);
        AtomicFile.WriteAllBytes(path, plt.GetImageBytes(Math.Min(width, 4000), Math.Min(height, 8000), ScottPlot.ImageFormat.Png));
    }

    /// <summary>Colour-bar ticks labelled in the values: 0, ±w_min, some powers of ten between, ±w_max.</summary>
    private static ScottPlot.TickGenerators.NumericManual ColourTicks(ColourScale scale)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        ticks.AddMajor(0, "0");
        var magnitudes = new List<double> { scale.Hi };
        if (scale.Log)
        {
            magnitudes.Add(scale.Lo);
            int first = (int)Math.Ceiling(Math.Log10(scale.Lo)), last = (int)Math.Floor(Math.Log10(scale.Hi));
            var decades = Enumerable.Range(first, Math.Max(0, last - first + 1)).Select(k => Math.Pow(10, k))
                .Where(p => p > scale.Lo * 1.5 && p < scale.Hi / 1.5).ToArray();
            int step = Math.Max(1, (int)Math.Ceiling(decades.Length / 4.0));
            magnitudes.AddRange(decades.Where((_, i) => i % step == 0));
        }
        else magnitudes.Add(scale.Hi / 2);
        foreach (var m in magnitudes.Distinct())
            foreach (int s in new[] { 1, -1 }) ticks.AddMajor(scale.Map(s * m), AxisScale.Label(s * m));
        return ticks;
    }

    /// <summary>Value → colour position in [−1, 1] (0 = white): linear in w/w_max, or logarithmic in |w| when the
    /// non-zero magnitudes [<see cref="Lo"/>, <see cref="Hi"/>] span more than a decade. Odd in w.</summary>
    internal sealed record ColourScale(bool Log, double Lo, double Hi)
    {
        public static ColourScale Of(IEnumerable<double> values)
        {
            var nonZero = values.Where(v => v != 0 && double.IsFinite(v)).Select(Math.Abs).ToArray();
            double lo = nonZero.Length == 0 ? 1 : nonZero.Min(), hi = nonZero.Length == 0 ? 1 : nonZero.Max();
            return new ColourScale(hi > 10 * lo, lo, hi);
        }

        public double Map(double w) => double.IsNaN(w) ? double.NaN : w == 0 ? 0 : double.IsInfinity(w) ? Math.Sign(w)
            : Log ? Math.Sign(w) * (LogFloor + (1 - LogFloor) * Math.Log(Math.Abs(w) / Lo) / Math.Log(Hi / Lo)) : w / Hi;
    }
}
