using System.Globalization;
using System.Text;
using MorIcl.Mixture;

namespace MorIcl.IO;

/// <summary>Which columns of a CSV are the response and the features, by header name. The default
/// (both null) is MorIcl's own header <c>x1,…,xd,y</c>; a response alone takes every other column
/// as a feature; features alone take the response <c>y</c>.</summary>
public sealed record CsvColumns(string? Response = null, IReadOnlyList<string>? Features = null)
{
    public static readonly CsvColumns Default = new();
    public bool IsDefault => Response is null && Features is null;
}

/// <summary>Regression data read from a CSV, with the names of its columns.</summary>
public sealed record NamedRegressionData(RegressionData Data, IReadOnlyList<string> FeatureNames, string ResponseName);

/// <summary>
/// Regression data as CSV: a header, then one example per line. By default the header is
/// <c>x1,…,xd,y</c>; with <see cref="CsvColumns"/> any header (quoted fields allowed, RFC 4180),
/// columns chosen by name, the others ignored. Every problem is reported with the file, line and
/// column; NaN and infinities are rejected, and so are values so large that sums of their squares
/// (the Gram matrix of least squares) overflow double precision.
/// </summary>
public static class RegressionCsv
{
    public static RegressionData Read(string path, int? expectedDim = null) => ReadNamed(path, CsvColumns.Default, expectedDim).Data;

    public static NamedRegressionData ReadNamed(string path, CsvColumns columns, int? expectedDim = null)
    {
        if (!File.Exists(path)) throw new InputException($"{path}: file not found");
        string[] lines;
        try { lines = File.ReadAllLines(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new InputException($"{path}: cannot read ({e.Message})", e); }
        return ParseNamed(lines, path, columns, expectedDim);
    }

    public static RegressionData Parse(IReadOnlyList<string> lines, string source, int? expectedDim = null) =>
        ParseNamed(lines, source, CsvColumns.Default, expectedDim).Data;

    public static NamedRegressionData ParseNamed(IReadOnlyList<string> lines, string source, CsvColumns columns, int? expectedDim = null)
    {
        if (lines.Count == 0 || string.IsNullOrWhiteSpace(lines[0]))
            throw new InputException($"{source}:1: empty file; expected a header{(columns.IsDefault ? " x1,...,xd,y" : "")}");
        var header = CsvLine.Split(lines[0].TrimStart('\uFEFF'), source, 1).Select(f => f.Trim()).ToArray();
        var (features, response) = columns.IsDefault ? DefaultColumns(header, source) : ChosenColumns(header, columns, source);
        int d = features.Length;
        if (expectedDim is int want && want != d)
            throw new InputException(columns.IsDefault
                ? $"{source}:1: header has d = {d} features (x1..x{d}) but the dimension given is {want}"
                : $"{source}:1: {d} feature columns are chosen but the dimension given is {want}");

        var rows = new List<double[]>();
        var ys = new List<double>();
        var largest = new (double Value, int Line)[d + 1];
        for (int line = 1; line < lines.Count; line++)
        {
            var text = lines[line];
            if (string.IsNullOrWhiteSpace(text)) continue;
            var fields = CsvLine.Split(text, source, line + 1);
            if (fields.Length != header.Length)
                throw new InputException(columns.IsDefault
                    ? $"{source}:{line + 1}: {fields.Length} fields, expected {d + 1} (x1,...,x{d},y)"
                    : $"{source}:{line + 1}: {fields.Length} fields, expected {header.Length} (the header has {header.Length} columns)");
            var x = new double[d];
            for (int f = 0; f <= d; f++)
            {
                int col = f < d ? features[f] : response;
                double v = Number(fields[col], source, line + 1, col, header[col], columns.Features is null && !columns.IsDefault);
                if (f < d) x[f] = v; else ys.Add(v);
                if (Math.Abs(v) > largest[f].Value) largest[f] = (Math.Abs(v), line + 1);
            }
            rows.Add(x);
        }
        if (rows.Count == 0) throw new InputException($"{source}: no data rows after the header");
        RequireSquaresSummable(largest, rows.Count, features.Append(response).Select(c => header[c]).ToArray(), source);
        return new NamedRegressionData(RegressionData.FromRows(rows, ys), features.Select(c => header[c]).ToArray(), header[response]);
    }

    private static (int[] Features, int Response) DefaultColumns(string[] header, string source)
    {
        int d = header.Length - 1;
        if (d < 1) throw new InputException($"{source}:1: header '{string.Join(",", header)}' has no feature columns; expected x1,...,xd,y (or choose columns with --response and --features)");
        for (int a = 0; a < d; a++)
            if (header[a] != $"x{a + 1}")
                throw new InputException($"{source}:1: header field {a + 1} is '{header[a]}', expected 'x{a + 1}' (header must be x1,...,xd,y, or choose columns by name with --response and --features)");
        if (header[d] != "y") throw new InputException($"{source}:1: last header field is '{header[d]}', expected 'y' (header must be x1,...,xd,y, or choose columns by name with --response and --features)");
        return (Enumerable.Range(0, d).ToArray(), d);
    }

    private static (int[] Features, int Response) ChosenColumns(string[] header, CsvColumns columns, string source)
    {
        int Find(string name, string option)
        {
            var at = Enumerable.Range(0, header.Length).Where(i => header[i] == name).ToArray();
            if (at.Length == 0)
            {
                var near = header.FirstOrDefault(h => string.Equals(h, name, StringComparison.OrdinalIgnoreCase));
                throw new InputException($"{source}:1: {option}: no column named '{name}'{(near is null ? "" : $" (did you mean '{near}'?)")}; the columns are {string.Join(", ", header.Select(h => $"'{h}'"))}");
            }
            if (at.Length > 1) throw new InputException($"{source}:1: {option}: the header has {at.Length} columns named '{name}' (fields {string.Join(", ", at.Select(i => i + 1))})");
            return at[0];
        }
        int response = Find(columns.Response ?? "y", "--response");
        int[] features;
        if (columns.Features is { } names)
        {
            if (names.Count == 0) throw new InputException($"{source}: --features names no column");
            features = names.Select(n => Find(n, "--features")).ToArray();
            var twice = names.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1);
            if (twice is not null) throw new InputException($"{source}: --features names '{twice.Key}' twice");
            if (features.Contains(response)) throw new InputException($"{source}: --features: '{header[response]}' is the response column");
        }
        else features = Enumerable.Range(0, header.Length).Where(i => i != response).ToArray();
        if (features.Length == 0) throw new InputException($"{source}:1: the header has no column besides the response '{header[response]}' to use as a feature");
        return (features, response);
    }

    private static double Number(string field, string source, int line, int col, string name, bool allColumns)
    {
        var raw = field.Trim();
        string hint = allColumns ? " (every column but the response is a feature: choose them with --features)" : "";
        if (raw.Length == 0) throw new InputException($"{source}:{line}: field {col + 1} ({name}) is empty{hint}");
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            throw new InputException($"{source}:{line}: field {col + 1} ({name}) '{raw}' is not a number{hint}");
        if (!double.IsFinite(v))
            throw new InputException($"{source}:{line}: field {col + 1} ({name}) is {raw}; NaN and infinities are not allowed");
        return v;
    }

    /// <summary>
    /// Least squares sums n·(d+1) products of two values; they stay finite (with a factor 100 to spare for the
    /// residuals and step sizes of EM) while every |v| ≤ √(MaxValue / (n(d+1))) / 100. A larger value is named,
    /// with its column and line, instead of surfacing later as a non-finite Gram matrix.
    /// </summary>
    private static void RequireSquaresSummable((double Value, int Line)[] largest, int n, string[] names, string source)
    {
        double limit = Math.Sqrt(double.MaxValue / ((double)n * names.Length)) / 100;
        for (int c = 0; c < names.Length; c++)
            if (largest[c].Value > limit)
                throw new InputException($"{source}:{largest[c].Line}: column '{names[c]}' has a value of magnitude {largest[c].Value:G3}; sums of squares of such values overflow double precision (for n = {n} every |value| must stay below {limit:G2}); rescale the column");
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
