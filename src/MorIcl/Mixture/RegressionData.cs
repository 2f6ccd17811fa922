namespace MorIcl.Mixture;

/// <summary>
/// n labelled examples (x_i, y_i), x_i in R^d, stored feature-major: column a holds x_{1a} ... x_{na}
/// contiguously, so the kernels run SIMD over examples.
/// </summary>
public sealed class RegressionData
{
    public int N { get; }
    public int D { get; }
    /// <summary>Feature-major design: element (i, a) at <c>a * N + i</c>.</summary>
    public double[] Columns { get; }
    public double[] Y { get; }

    public RegressionData(int n, int d, double[] columns, double[] y)
    {
        if (n < 1) throw new SpecificationException($"data needs at least one example, got n = {n}");
        if (d < 1) throw new SpecificationException($"dimension d must be at least 1, got {d}");
        if (columns.Length != (long)n * d) throw new SpecificationException($"design has {columns.Length} numbers, expected n*d = {(long)n * d}");
        if (y.Length != n) throw new SpecificationException($"y has {y.Length} numbers, expected n = {n}");
        N = n; D = d; Columns = columns; Y = y;
    }

    /// <summary>From row-major rows x_i (each of length d).</summary>
    public static RegressionData FromRows(IReadOnlyList<double[]> rows, IReadOnlyList<double> y)
    {
        int n = rows.Count;
        if (n == 0) throw new SpecificationException("data needs at least one example");
        int d = rows[0].Length;
        var cols = new double[(long)n * d];
        for (int i = 0; i < n; i++)
        {
            if (rows[i].Length != d) throw new SpecificationException($"row {i + 1} has {rows[i].Length} features, expected {d}");
            for (int a = 0; a < d; a++) cols[(long)a * n + i] = rows[i][a];
        }
        return new RegressionData(n, d, cols, y.ToArray());
    }

    public ReadOnlySpan<double> Column(int a) => new(Columns, a * N, N);
    public ReadOnlySpan<double> Column(int a, int start, int count) => new(Columns, a * N + start, count);

    public double X(int i, int a) => Columns[(long)a * N + i];

    /// <summary>Row x_i copied out (not for hot loops).</summary>
    public double[] Row(int i)
    {
        var r = new double[D];
        for (int a = 0; a < D; a++) r[a] = Columns[(long)a * N + i];
        return r;
    }
}
