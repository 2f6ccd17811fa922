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

    /// <summary>
    /// Curves on a log y axis (and a log x axis with <paramref name="logX"/>), ticks labelled in the values.
    /// If any value is zero or negative the axis is a symmetric log scale (<see cref="AxisScale"/>), so
    /// such points are drawn where they are, not dropped; zero gets a labelled line. Non-finite values
    /// cannot be drawn: the legend entry of their curve says how many were left out.
    /// </summary>
    public static void WritePng(string path, string title, string xLabel, string yLabel, IReadOnlyList<Curve> curves, bool logX = false,
        ScottPlot.Alignment legend = ScottPlot.Alignment.UpperRight, bool logY = true) =>
        AtomicFile.WriteAllBytes(path, Build(title, xLabel, yLabel, curves, logX, legend, logY).GetImageBytes(800, 550, ScottPlot.ImageFormat.Png));

    /// <summary>The plot <see cref="WritePng"/> draws (tests read its scatter data).</summary>
    internal static ScottPlot.Plot Build(string title, string xLabel, string yLabel, IReadOnlyList<Curve> curves, bool logX = false,
        ScottPlot.Alignment legend = ScottPlot.Alignment.UpperRight, bool logY = true)
    {
        var xScale = AxisScale.For(curves.SelectMany(c => c.X), logX);
        var yScale = AxisScale.For(curves.SelectMany(c => c.Y), logY);
        var plt = new ScottPlot.Plot();
        foreach (var c in curves)
        {
            var keep = Enumerable.Range(0, c.X.Length).Where(i => double.IsFinite(c.X[i]) && double.IsFinite(c.Y[i])).ToArray();
            var sc = plt.Add.Scatter(keep.Select(i => xScale.Map(c.X[i])).ToArray(), keep.Select(i => yScale.Map(c.Y[i])).ToArray());
            int left = c.X.Length - keep.Length;
            sc.LegendText = left == 0 ? c.Name : $"{c.Name} ({left} non-finite point{(left == 1 ? "" : "s")} not drawn)";
            sc.MarkerSize = c.X.Length > 40 ? 0 : 5;
        }
        if (yScale.Type == AxisScale.Kind.SymLog)
        {
            var zero = plt.Add.HorizontalLine(0);
            zero.LinePattern = ScottPlot.LinePattern.Dotted;
            zero.Color = ScottPlot.Colors.Gray;
        }
        Apply(plt.Axes.Bottom, xScale, curves.SelectMany(c => c.X));
        Apply(plt.Axes.Left, yScale, curves.SelectMany(c => c.Y));
        plt.Title(title);
        plt.XLabel(xLabel + xScale.Note);
        plt.YLabel(yLabel + yScale.Note);
        plt.ShowLegend(legend);
        return plt;
    }

    private static void Apply(ScottPlot.IAxis axis, AxisScale scale, IEnumerable<double> values)
    {
        if (scale.Ticks(values) is { } ticks) axis.TickGenerator = ticks;
    }
}
