using MorIcl.IO;
using MorIcl.Mixture;

namespace MorIcl.Cli.Commands;

/// <summary>The prompt of <c>mor-icl run</c>: a CSV x1,…,xd,y (or any header, with --response/--features) whose last row is the query, or all rows as examples and <c>--query</c>.</summary>
internal static class PromptInput
{
    public static (RegressionData Examples, double[] Query) Read(string dataPath, string? queryText, int dimension, string modelPath, CsvColumns? columns = null)
    {
        var csv = RegressionCsv.ReadNamed(dataPath, columns ?? CsvColumns.Default).Data;
        if (csv.D != dimension)
            throw new InputException($"{dataPath}: the prompt has d = {csv.D} features but the model {modelPath} takes d = {dimension}");
        if (queryText is not null)
        {
            var q = OptionParsing.Numbers(queryText, "--query");
            if (q.Length != csv.D) throw new SpecificationException($"--query has {q.Length} numbers, the model takes d = {csv.D}");
            return (csv, q);
        }
        if (csv.N < 2) throw new InputException($"{dataPath}: needs at least two rows (examples, then the query) when --query is not given");
        int n = csv.N - 1;
        var cols = new double[n * csv.D];
        for (int a = 0; a < csv.D; a++) Array.Copy(csv.Columns, a * csv.N, cols, a * n, n);
        return (new RegressionData(n, csv.D, cols, csv.Y.Take(n).ToArray()), csv.Row(csv.N - 1));
    }
}
