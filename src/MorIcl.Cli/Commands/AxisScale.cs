using System.Globalization;

namespace MorIcl.Cli.Commands;

/// <summary>
/// How a plot axis maps values to coordinates, with ticks labelled in the values themselves.
/// <see cref="Log"/> is log10 (every value &gt; 0). When a log axis is asked for but some values are
/// zero or negative, <see cref="For"/> gives a symmetric log scale instead,
/// <c>v ↦ sign(v)·log10(1 + |v|/c)</c> with the linear threshold <c>c</c> the smallest non-zero |v|: zeros
/// sit at 0 (a labelled tick, half a decade below the smallest value) and negatives mirror the
/// positives, so no value is dropped or drawn as a tiny positive.
/// </summary>
internal sealed class AxisScale
{
    public enum Kind { Linear, Log, SymLog }

    public Kind Type { get; }
    /// <summary>The symmetric log scale's linear threshold c (1 otherwise).</summary>
    public double Threshold { get; }

    private AxisScale(Kind type, double threshold) { Type = type; Threshold = threshold; }

    public static readonly AxisScale Linear = new(Kind.Linear, 1);

    /// <summary>The scale for these (finite) values: linear, or log if every value is positive, else symmetric log.</summary>
    public static AxisScale For(IEnumerable<double> values, bool log)
    {
        if (!log) return Linear;
        var finite = values.Where(double.IsFinite).ToArray();
        if (finite.All(v => v > 0)) return new AxisScale(Kind.Log, 1);
        var nonZero = finite.Where(v => v != 0).Select(Math.Abs).ToArray();
        return new AxisScale(Kind.SymLog, nonZero.Length == 0 ? 1 : nonZero.Min());
    }

    public double Map(double v) => Type switch
    {
        Kind.Log => Math.Log10(v),
        Kind.SymLog => Math.Sign(v) * Math.Log10(1 + Math.Abs(v) / Threshold),
        _ => v,
    };

    /// <summary>What the axis label says about the scale.</summary>
    public string Note => Type switch
    {
        Kind.Log => " (log scale)",
        Kind.SymLog => $" (symmetric log scale, linear within ±{Label(Threshold)})",
        _ => "",
    };

    /// <summary>Ticks at powers of ten (and 0, and their negatives on a symmetric log scale) over the values' range; null for a linear axis (automatic ticks).</summary>
    public ScottPlot.TickGenerators.NumericManual? Ticks(IEnumerable<double> values)
    {
        if (Type == Kind.Linear) return null;
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        foreach (var (position, label) in TickMarks(values))
            if (label is null) ticks.AddMinor(position); else ticks.AddMajor(position, label);
        return ticks;
    }

    /// <summary>The tick positions (in plot coordinates) with their labels; a null label is a minor tick.</summary>
    public IReadOnlyList<(double Position, string? Label)> TickMarks(IEnumerable<double> values)
    {
        var marks = new List<(double, string?)>();
        if (Type == Kind.Linear) return marks;
        var finite = values.Where(double.IsFinite).ToArray();
        var magnitudes = finite.Where(v => v != 0).Select(Math.Abs).DefaultIfEmpty(Threshold).ToArray();
        int lo = (int)Math.Floor(Math.Log10(magnitudes.Min())), hi = (int)Math.Ceiling(Math.Log10(magnitudes.Max()));
        int step = Math.Max(1, (int)Math.Ceiling((hi - lo + 1) / 8.0));
        var signs = Type == Kind.Log ? new[] { 1 } : new[] { 1, -1 }.Where(s => finite.Any(v => Math.Sign(v) == s)).ToArray();
        if (Type == Kind.SymLog) marks.Add((0, "0"));
        foreach (int s in signs)
            for (int k = lo; k <= hi; k++)
            {
                double v = s * Math.Pow(10, k);
                if (Type == Kind.SymLog && Math.Abs(v) < Threshold / 1.0001) continue;
                marks.Add((Map(v), (k - lo) % step == 0 ? Label(v) : null));
                if (step > 1 || k == hi) continue;
                for (int m = 2; m <= 9; m++)
                {
                    double w = s * m * Math.Pow(10, k);
                    if (Type == Kind.SymLog && Math.Abs(w) < Threshold) continue;
                    // Within one or two decades the 2× and 5× ticks are labelled too.
                    marks.Add((Map(w), hi - lo <= 2 && (m == 2 || m == 5) ? Label(w) : null));
                }
            }
        return marks;
    }

    /// <summary>A tick label: 0.01, 1, 8192, or 1e-05 / 1.5e+06 outside [1e-3, 1e4).</summary>
    public static string Label(double v)
    {
        if (v == 0) return "0";
        double a = Math.Abs(v);
        return a >= 1e-3 && a < 1e4 ? v.ToString("G4", CultureInfo.InvariantCulture) : v.ToString("0.##e+0", CultureInfo.InvariantCulture);
    }
}
