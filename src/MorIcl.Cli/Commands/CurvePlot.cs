using System.Globalization;
using System.Text;
using MorIcl.IO;

namespace MorIcl.Cli.Commands;

/// <summary>Named curves y(x) written as one CSV (long format) and one PNG (ScottPlot), both atomically.</summary>
internal static class CurvePlot
{
    public sealed record Curve(string Name, double[] X, double[] Y);

    public static void WriteCsv(string path, string xName, string yName, IReadOnlyList<Curve> curves)
    {
        var sb = new StringBuilder($"curve,{xName},{yName}\n");
        foreach (var c in curves)
            for (int i = 0; i < c.X.Length; i++)
                sb.Append('"').Append(c.Name.Replace("\"", "\"\"")).Append("\",")
                  .Append(c.X[i].ToString("R", CultureInfo.InvariantCulture)).Append(',')
                  .Append(c.Y[i].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>Curves on a log10 y axis (non-positive values are dropped from the plot, not from the CSV).</summary>
    public static void WritePng(string path, string title, string xLabel, string yLabel, IReadOnlyList<Curve> curves, bool logX = false, ScottPlot.Alignment legend = ScottPlot.Alignment.UpperRight)
    {
        var plt = new ScottPlot.Plot();
        foreach (var c in curves)
        {
            var keep = Enumerable.Range(0, c.X.Length).Where(i => c.Y[i] > 0 && double.IsFinite(c.Y[i])).ToArray();
            var xs = keep.Select(i => logX ? Math.Log10(c.X[i]) : c.X[i]).ToArray();
            var sc = plt.Add.Scatter(xs, keep.Select(i => Math.Log10(c.Y[i])).ToArray());
            sc.LegendText = c.Name;
            sc.MarkerSize = c.X.Length > 40 ? 0 : 5;
        }
        plt.Title(title);
        plt.XLabel((logX ? "log10 " : "") + xLabel);
        plt.YLabel("log10 " + yLabel);
        plt.ShowLegend(legend);
        AtomicFile.WriteAllBytes(path, plt.GetImageBytes(800, 550, ScottPlot.ImageFormat.Png));
    }
}
