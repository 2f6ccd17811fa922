using System.Globalization;
using System.Text;
using MorIcl.Mixture;

namespace MorIcl.IO;

/// <summary>
/// Regression data as CSV: a header <c>x1,…,xd,y</c>, then one example per line. Every problem is
/// reported with the file, line and field; NaN and infinities are rejected.
/// </summary>
public static class RegressionCsv
{
    public static RegressionData Read(string path, int? expectedDim = null)
    {
        if (!File.Exists(path)) throw new InputException($"{path}: file not found");
        string[] lines;
        try { lines = File.ReadAllLines(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new InputException($"{path}: cannot read ({e.Message})", e); }
        return Parse(lines, path, expectedDim);
    }

    public static RegressionData Parse(IReadOnlyList<string> lines, string source, int? expectedDim = null)
    {
        if (lines.Count == 0 || string.IsNullOrWhiteSpace(lines[0]))
            throw new InputException($"{source}:1: empty file; expected a header x1,...,xd,y");
        var header = lines[0].Split(',').Select(f => f.Trim()).ToArray();
        int d = header.Length - 1;
        if (d < 1) throw new InputException($"{source}:1: header '{lines[0]}' has no feature columns; expected x1,...,xd,y");
        for (int a = 0; a < d; a++)
            if (header[a] != $"x{a + 1}")
                throw new InputException($"{source}:1: header field {a + 1} is '{header[a]}', expected 'x{a + 1}' (header must be x1,...,xd,y)");
        if (header[d] != "y") throw new InputException($"{source}:1: last header field is '{header[d]}', expected 'y' (header must be x1,...,xd,y)");
        if (expectedDim is int want && want != d)
            throw new InputException($"{source}:1: header has d = {d} features (x1..x{d}) but the dimension given is {want}");

        var rows = new List<double[]>();
        var ys = new List<double>();
        for (int line = 1; line < lines.Count; line++)
        {
            var text = lines[line];
            if (string.IsNullOrWhiteSpace(text)) continue;
            var fields = text.Split(',');
            if (fields.Length != d + 1)
                throw new InputException($"{source}:{line + 1}: {fields.Length} fields, expected {d + 1} (x1,...,x{d},y)");
            var x = new double[d];
            for (int f = 0; f <= d; f++)
            {
                string name = f < d ? $"x{f + 1}" : "y";
                var raw = fields[f].Trim();
                if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                    throw new InputException($"{source}:{line + 1}: field {f + 1} ({name}) '{raw}' is not a number");
                if (!double.IsFinite(v))
                    throw new InputException($"{source}:{line + 1}: field {f + 1} ({name}) is {raw}; NaN and infinities are not allowed");
                if (f < d) x[f] = v; else ys.Add(v);
            }
            rows.Add(x);
        }
        if (rows.Count == 0) throw new InputException($"{source}: no data rows after the header");
        return RegressionData.FromRows(rows, ys);
    }

    public static string Format(RegressionData data)
    {
        var sb = new StringBuilder();
        sb.Append(string.Join(",", Enumerable.Range(1, data.D).Select(a => $"x{a}"))).Append(",y\n");
        for (int i = 0; i < data.N; i++)
        {
            for (int a = 0; a < data.D; a++) sb.Append(data.X(i, a).ToString("R", CultureInfo.InvariantCulture)).Append(',');
            sb.Append(data.Y[i].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }
        return sb.ToString();
    }

    public static void Write(string path, RegressionData data) => AtomicFile.WriteAllText(path, Format(data));
}
