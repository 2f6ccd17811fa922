using System.CommandLine;
using MorIcl.IO;

namespace MorIcl.Cli.Commands;

/// <summary><c>--response NAME</c> and <c>--features a,b,…</c>: the columns of a CSV with its own header (default: x1,…,xd,y).</summary>
internal sealed class CsvColumnOptions
{
    public readonly Option<string?> Response = new("--response") { Description = "Name of the response column in the CSV header (default: y; the header must then be x1,…,xd,y unless --response or --features is given)." };
    public readonly Option<string?> Features = new("--features") { Description = "Feature columns by name, comma-separated; a name with a comma in double quotes (default: every column but the response)." };

    public void AddTo(Command cmd) { cmd.Add(Response); cmd.Add(Features); }

    public CsvColumns Read(ParseResult r)
    {
        var response = r.GetValue(Response);
        if (response is not null && string.IsNullOrWhiteSpace(response)) throw new SpecificationException("--response: give a column name");
        var features = r.GetValue(Features) is { } text ? CsvLine.Split(text, "--features", 1).Select(f => f.Trim()).ToArray() : null;
        if (features is not null && features.Any(string.IsNullOrEmpty)) throw new SpecificationException($"--features: '{r.GetValue(Features)}' has an empty column name");
        return new CsvColumns(response?.Trim(), features);
    }
}
