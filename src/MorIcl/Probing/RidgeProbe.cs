using MathNet.Numerics.LinearAlgebra;
using MorIcl.Numerics;

namespace MorIcl.Probing;

/// <summary>
/// A linear probe (docs/math.md §11): ridge regression of a target vector y ∈ R^q on residual-stream
/// features h ∈ R^p, ŷ = a + Wᵀ z with z the standardised features (each column centred and divided by
/// its standard deviation on the probe-training rows; columns that are constant there are dropped).
/// W minimises (1/m)‖Y_c − Z W‖² + λ‖W‖_F², solved through the eigendecomposition of G = ZᵀZ/m
/// (W = V (Λ + λ)⁻¹ Vᵀ ZᵀY_c/m), so every λ of the grid costs one decomposition per fold. λ is chosen
/// by 5-fold cross-validation on the probe-training rows (the smallest pooled squared validation
/// error), then the probe is refitted on all of them.
/// </summary>
public sealed class RidgeProbe
{
    /// <summary>The penalty grid, in units of the standardised features' unit variance.</summary>
    public static readonly double[] Penalties = { 1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100 };
    public const int Folds = 5;

    private readonly int[] _columns;
    private readonly double[] _mean, _scale, _intercept;
    private readonly Matrix<double> _w;
    public double Lambda { get; }

    private RidgeProbe(int[] columns, double[] mean, double[] scale, Matrix<double> w, double[] intercept, double lambda)
    {
        _columns = columns; _mean = mean; _scale = scale; _w = w; _intercept = intercept; Lambda = lambda;
    }

    /// <summary>Fits on rows <paramref name="rows"/> of x (features) and y (targets), λ by cross-validation.</summary>
    public static RidgeProbe Fit(IReadOnlyList<double[]> x, IReadOnlyList<double[]> y, IReadOnlyList<int> rows, int seed) => new Design(x, rows, seed).Fit(y);

    /// <summary>
    /// The decompositions a probe needs for one feature matrix and one set of probe-training rows:
    /// standardisation and eigendecomposition of G on each fold's training part and on all rows. Any
    /// number of targets is then fitted at the cost of products with Vᵀ Zᵀ.
    /// </summary>
    public sealed class Design
    {
        private readonly IReadOnlyList<double[]> _x;
        private readonly Decomposition[] _folds;
        private readonly int[][] _valid;
        private readonly Decomposition _all;

        public Design(IReadOnlyList<double[]> x, IReadOnlyList<int> rows, int seed)
        {
            if (rows.Count < 2 * Folds) throw new SpecificationException($"a probe needs at least {2 * Folds} training prompts, got {rows.Count}");
            _x = x;
            var order = rows.ToArray();
            var rng = SeedSequence.Create(seed, rows.Count, 0x9B0E);
            for (int i = order.Length - 1; i > 0; i--) { int j = rng.Next(i + 1); (order[i], order[j]) = (order[j], order[i]); }
            _folds = new Decomposition[Folds];
            _valid = new int[Folds][];
            for (int f = 0; f < Folds; f++)
            {
                _folds[f] = new Decomposition(x, order.Where((_, i) => i % Folds != f).ToArray());
                _valid[f] = order.Where((_, i) => i % Folds == f).ToArray();
            }
            _all = new Decomposition(x, order);
        }

        public RidgeProbe Fit(IReadOnlyList<double[]> y)
        {
            var error = new double[Penalties.Length];
            var all = Enumerable.Range(0, Penalties.Length).ToArray();
            for (int f = 0; f < Folds; f++)
            {
                var probes = _folds[f].Probes(y, all);
                for (int k = 0; k < Penalties.Length; k++) error[k] += probes[k].SquaredError(_x, y, _valid[f]);
            }
            int best = 0;
            for (int k = 1; k < Penalties.Length; k++) if (error[k] < error[best]) best = k;
            return _all.Probes(y, new[] { best })[0];
        }
    }

    /// <summary>Standardised features Z of some rows and the eigendecomposition V Λ Vᵀ of ZᵀZ/m.</summary>
    private sealed class Decomposition
    {
        private readonly int[] _rows, _cols;
        private readonly double[] _mean, _scale, _lambda;
        private readonly Matrix<double>? _z, _v;

        public Decomposition(IReadOnlyList<double[]> x, int[] rows)
        {
            _rows = rows;
            int m = rows.Length, p = x[rows[0]].Length;
            _mean = new double[p]; _scale = new double[p];
            foreach (var r in rows) for (int c = 0; c < p; c++) _mean[c] += x[r][c];
            for (int c = 0; c < p; c++) _mean[c] /= m;
            foreach (var r in rows) for (int c = 0; c < p; c++) { double t = x[r][c] - _mean[c]; _scale[c] += t * t; }
            var keep = new List<int>();
            for (int c = 0; c < p; c++)
            {
                _scale[c] = Math.Sqrt(_scale[c] / m);
                // constant on these rows (up to rounding of the mean): carries nothing a probe could use
                if (_scale[c] > 1e-12 * Math.Max(1, Math.Abs(_mean[c]))) keep.Add(c);
            }
            _cols = keep.ToArray();
            _lambda = Array.Empty<double>();
            if (_cols.Length == 0) return;
            _z = Matrix<double>.Build.Dense(m, _cols.Length, (i, c) => (x[rows[i]][_cols[c]] - _mean[_cols[c]]) / _scale[_cols[c]]);
            var evd = (_z.TransposeThisAndMultiply(_z) / m).Evd(Symmetricity.Symmetric);
            _v = evd.EigenVectors;
            _lambda = evd.EigenValues.Select(c => Math.Max(c.Real, 0)).ToArray();
        }

        /// <summary>The probes of penalties Penalties[k], k in <paramref name="ks"/>, for targets y on these rows.</summary>
        public RidgeProbe[] Probes(IReadOnlyList<double[]> y, int[] ks)
        {
            int m = _rows.Length, q = y[_rows[0]].Length;
            var ym = new double[q];
            foreach (var r in _rows) for (int j = 0; j < q; j++) ym[j] += y[r][j];
            for (int j = 0; j < q; j++) ym[j] /= m;
            if (_z is null) return ks.Select(k => new RidgeProbe(_cols, _mean, _scale, Matrix<double>.Build.Dense(0, q), ym, Penalties[k])).ToArray();
            var yc = Matrix<double>.Build.Dense(m, q, (i, j) => y[_rows[i]][j] - ym[j]);
            var b0 = _v!.TransposeThisAndMultiply(_z.TransposeThisAndMultiply(yc) / m);   // Vᵀ ZᵀY_c / m
            return ks.Select(k =>
            {
                var b = b0.Clone();
                for (int e = 0; e < _lambda.Length; e++)
                {
                    double inv = 1 / (_lambda[e] + Penalties[k]);
                    for (int j = 0; j < q; j++) b[e, j] *= inv;
                }
                return new RidgeProbe(_cols, _mean, _scale, _v * b, ym, Penalties[k]);
            }).ToArray();
        }
    }

    public double[] Predict(double[] x)
    {
        int q = _intercept.Length;
        var r = (double[])_intercept.Clone();
        for (int c = 0; c < _columns.Length; c++)
        {
            double zc = (x[_columns[c]] - _mean[_columns[c]]) / _scale[_columns[c]];
            if (zc == 0) continue;
            for (int j = 0; j < q; j++) r[j] += zc * _w[c, j];
        }
        return r;
    }

    private double SquaredError(IReadOnlyList<double[]> x, IReadOnlyList<double[]> y, int[] rows)
    {
        double s = 0;
        foreach (var r in rows)
        {
            var pred = Predict(x[r]);
            for (int j = 0; j < pred.Length; j++) { double e = pred[j] - y[r][j]; s += e * e; }
        }
        return double.IsFinite(s) ? s : double.PositiveInfinity;
    }

    /// <summary>
    /// R² of the probe on the given rows, pooled over the target's coordinates:
    /// 1 − Σ_ij (y_ij − ŷ_ij)² / Σ_ij (y_ij − ȳ_j)² with ȳ the mean over these rows; NaN when the target does not vary.
    /// </summary>
    public double R2(IReadOnlyList<double[]> x, IReadOnlyList<double[]> y, IReadOnlyList<int> rows) =>
        RSquared(rows.Select(r => Predict(x[r])).ToArray(), rows.Select(r => y[r]).ToArray());

    public static double RSquared(IReadOnlyList<double[]> predictions, IReadOnlyList<double[]> truth)
    {
        int m = truth.Count, q = truth[0].Length;
        var mean = new double[q];
        foreach (var t in truth) for (int j = 0; j < q; j++) mean[j] += t[j] / m;
        double sse = 0, sst = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < q; j++)
            {
                double e = predictions[i][j] - truth[i][j], c = truth[i][j] - mean[j];
                sse += e * e; sst += c * c;
            }
        double scale = mean.Select(Math.Abs).DefaultIfEmpty(0).Max();
        if (!(sst > 1e-24 * Math.Max(1, scale * scale) * m)) return double.NaN;
        return 1 - sse / sst;
    }
}
