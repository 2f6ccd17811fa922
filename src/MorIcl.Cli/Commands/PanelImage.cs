using MorIcl.IO;

namespace MorIcl.Cli.Commands;

/// <summary>Several ScottPlot plots in a grid under one title, rendered to one PNG (atomically).</summary>
internal static class PanelImage
{
    public static void Write(string path, string title, IReadOnlyList<ScottPlot.Plot> plots, int columns, int panelWidth, int panelHeight)
    {
        if (plots.Count == 0) throw new SpecificationException("nothing to plot");
        int cols = Math.Min(columns, plots.Count), rows = (plots.Count + cols - 1) / cols;
        var multiplot = new ScottPlot.Multiplot(plots[0]);   // a new Multiplot starts with one subplot: make it the first panel
        foreach (var plt in plots.Skip(1)) multiplot.Subplots.Add(plt);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, cols);
        using var font = new SkiaSharp.SKFont(SkiaSharp.SKTypeface.FromFamilyName(ScottPlot.Fonts.Default, SkiaSharp.SKFontStyle.Bold), 16);
        int width = panelWidth * cols;
        var lines = TitleLines(title, font, width - 24);
        int titleHeight = 14 + 22 * lines.Count, height = panelHeight * rows + titleHeight;
        using var surface = SkiaSharp.SKSurface.Create(new SkiaSharp.SKImageInfo(width, height));
        var canvas = surface.Canvas;
        canvas.Clear(SkiaSharp.SKColors.White);
        canvas.Save();
        canvas.Translate(0, titleHeight);
        multiplot.Render(canvas, new ScottPlot.PixelRect(0, width, height - titleHeight, 0));
        canvas.Restore();
        using (var paint = new SkiaSharp.SKPaint { Color = SkiaSharp.SKColors.Black, IsAntialias = true })
            for (int i = 0; i < lines.Count; i++) canvas.DrawText(lines[i], width / 2f, 24 + 22 * i, SkiaSharp.SKTextAlign.Center, font, paint);
        using var image = surface.Snapshot();
        using var data = image.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        AtomicFile.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>The title broken at spaces into lines no wider than <paramref name="maxWidth"/> pixels (a longer word stays whole).</summary>
    private static List<string> TitleLines(string title, SkiaSharp.SKFont font, float maxWidth)
    {
        var lines = new List<string>();
        string line = "";
        foreach (var word in title.Split(' '))
        {
            string next = line.Length == 0 ? word : line + " " + word;
            if (line.Length > 0 && font.MeasureText(next) > maxWidth) { lines.Add(line); line = word; }
            else line = next;
        }
        lines.Add(line);
        return lines;
    }
}
