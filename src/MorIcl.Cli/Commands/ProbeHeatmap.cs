using System.Globalization;
using MorIcl.Probing;

namespace MorIcl.Cli.Commands;

/// <summary>
/// The probes' R² as heat maps, read point × target, one panel per position (query token, example
/// mean). Colour runs from −1 (blue) through 0 (white) to 1 (red); an R² below −1 is drawn at −1 and
/// its cell says so ("&lt;−1"), an undefined one is grey. Every cell carries its number.
/// </summary>
internal static class ProbeHeatmap
{
    public static void Write(string path, string title, ProbeReport report)
    {
        var targets = report.Targets;
        var plots = new List<ScottPlot.Plot>();
        foreach (var pos in Enum.GetValues<ProbePosition>())
        {
            int rows = report.Layers.Count, cols = targets.Count;
            var data = new double[rows, cols];
            var plt = new ScottPlot.Plot();
            for (int l = 0; l < rows; l++)
                for (int t = 0; t < cols; t++)
                {
                    double v = report.Layers[l].R2(pos, targets[t]);
                    data[l, t] = double.IsNaN(v) ? double.NaN : Math.Clamp(v, -1, 1);
                }
            var hm = plt.Add.Heatmap(data);
            hm.Colormap = new ScottPlot.Colormaps.Balance();
            hm.ManualRange = new ScottPlot.Range(-1, 1);
            hm.NaNCellColor = ScottPlot.Colors.LightGray;
            hm.Rectangle = new ScottPlot.CoordinateRect(0, cols, 0, rows);   // the cells' edges (Extent would place the corner cells' centres there)
            if (rows * cols <= 900)
                for (int l = 0; l < rows; l++)
                    for (int t = 0; t < cols; t++)
                    {
                        double v = report.Layers[l].R2(pos, targets[t]);
                        string label = double.IsNaN(v) ? "—" : v < -1 ? "<-1" : v >= 0.9995 && v < 1 ? v.ToString("0.####", CultureInfo.InvariantCulture) : v.ToString("0.00", CultureInfo.InvariantCulture);
                        var text = plt.Add.Text(label, t + 0.5, rows - l - 0.5);
                        text.LabelFontSize = rows > 40 ? 7 : 10;
                        text.LabelAlignment = ScottPlot.Alignment.MiddleCenter;
                        text.LabelFontColor = Math.Abs(double.IsNaN(v) ? 0 : Math.Clamp(v, -1, 1)) > 0.6 ? ScottPlot.Colors.White : ScottPlot.Colors.Black;
                    }
            plt.Add.ColorBar(hm).Label = "R² (held-out prompts)";
            plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(Enumerable.Range(0, cols).Select(i => i + 0.5).ToArray(), targets.ToArray());
            plt.Axes.Bottom.TickLabelStyle.Rotation = 45;
            plt.Axes.Bottom.TickLabelStyle.Alignment = ScottPlot.Alignment.MiddleLeft;
            plt.Axes.Bottom.MinimumSize = 12 + 6 * targets.Max(t => t.Length);
            var names = report.Layers.Select(l => $"{l.Layer} {l.Name}").ToArray();
            plt.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(Enumerable.Range(0, rows).Select(i => rows - i - 0.5).ToArray(), names);
            plt.Axes.Left.MinimumSize = 12 + 7 * names.Max(n => n.Length);
            plt.Axes.SetLimits(0, cols, 0, rows);
            plt.Title(pos == ProbePosition.Query ? "at the query token" : "mean over the example tokens", size: 13);
            plots.Add(plt);
        }
        // The two positions one above the other: read points down, targets across.
        int height = Math.Clamp(230 + 20 * report.Layers.Count, 380, 3000), width = Math.Clamp(420 + 60 * targets.Count, 700, 1600);
        PanelImage.Write(path, title, plots, 1, width, height);
    }
}
