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
        const int titleHeight = 36;
        int width = panelWidth * cols, height = panelHeight * rows + titleHeight;
        using var surface = SkiaSharp.SKSurface.Create(new SkiaSharp.SKImageInfo(width, height));
        var canvas = surface.Canvas;
        canvas.Clear(SkiaSharp.SKColors.White);
        canvas.Save();
        canvas.Translate(0, titleHeight);
        multiplot.Render(canvas, new ScottPlot.PixelRect(0, width, height - titleHeight, 0));
        canvas.Restore();
        using (var font = new SkiaSharp.SKFont(SkiaSharp.SKTypeface.FromFamilyName(ScottPlot.Fonts.Default, SkiaSharp.SKFontStyle.Bold), 16))
        using (var paint = new SkiaSharp.SKPaint { Color = SkiaSharp.SKColors.Black, IsAntialias = true })
            canvas.DrawText(title, width / 2f, 24, SkiaSharp.SKTextAlign.Center, font, paint);
        using var image = surface.Snapshot();
        using var data = image.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        AtomicFile.WriteAllBytes(path, data.ToArray());
    }
}
