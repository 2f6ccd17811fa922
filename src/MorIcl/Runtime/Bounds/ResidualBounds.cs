using System.Numerics;
using System.Numerics.Tensors;

namespace MorIcl.Runtime.Bounds;

/// <summary>
/// The residual addition of one layer (docs/math.md §8.5). The executor accumulates each head's (or the
/// MLP's) contribution d_m to element (r, i) into a zeroed buffer, then adds the buffer to h: a sum of
/// the k terms {h, d_1, …} that can be non-zero, in some order, with rounding ≤ γ_{k−1}(u)·(|h| +
/// Σ(|d̄_m| + p_m)). Two exact cases keep constructed rows exact: a single term known exactly, and h
/// plus one contribution known exactly whose sum is representable in T (a reset to 0, a copy into a
/// zero row). The exact deviation adds as affine forms, G ← G_h + Σ G_m, except that an MLP states how
/// its contribution depends on the element itself (coefficient J_rr), so the remainder of h enters as
/// |1 + J_rr|·x_h (a reset row, J_rr = −1, is exact again).
/// </summary>
internal sealed class ResidualBounds
{
    private int[] _slot = Array.Empty<int>();
    private int[] _rows = Array.Empty<int>();
    private double[] _center = Array.Empty<double>(), _magnitude = Array.Empty<double>(), _pass = Array.Empty<double>(), _exact = Array.Empty<double>(), _self = Array.Empty<double>(), _gnorm = Array.Empty<double>();
    private double[] _g = Array.Empty<double>();
    private int[] _count = Array.Empty<int>(), _adds = Array.Empty<int>();
    private int _n, _symbols;

    /// <summary>Starts a layer that writes <paramref name="rows"/> of a D-row stream over N tokens.</summary>
    public void Begin(int[] rows, int D, int N, int symbols)
    {
        if (_slot.Length < D) _slot = new int[D];
        Array.Fill(_slot, -1, 0, D);
        for (int s = 0; s < rows.Length; s++) _slot[rows[s]] = s;
        _rows = rows; _n = N; _symbols = symbols;
        int size = rows.Length * N;
        if (_center.Length < size)
        {
            _center = new double[size]; _magnitude = new double[size]; _pass = new double[size]; _exact = new double[size]; _self = new double[size]; _gnorm = new double[size]; _count = new int[size]; _adds = new int[size];
        }
        if (_g.Length < size * symbols) _g = new double[size * symbols];
        Array.Clear(_center, 0, size); Array.Clear(_magnitude, 0, size); Array.Clear(_pass, 0, size); Array.Clear(_exact, 0, size);
        Array.Clear(_self, 0, size); Array.Clear(_gnorm, 0, size); Array.Clear(_count, 0, size); Array.Clear(_adds, 0, size); Array.Clear(_g, 0, size * symbols);
    }

    /// <summary>
    /// One contribution to element (row, token): center, pass radius, exact remainder, exact
    /// coefficients, and (MLPs) the coefficient of the element's own input in the exact deviation.
    /// </summary>
    public void Add(int row, int token, double center, double pass, double exact, ReadOnlySpan<double> g, double self = 0)
    {
        int k = _slot[row] * _n + token;
        _center[k] += center;
        double m = Math.Abs(center) + pass;
        _magnitude[k] += m;
        _pass[k] += pass;
        _exact[k] += exact;
        _self[k] += self;
        if (m > 0) _count[k]++;
        _adds[k]++;
        if (_symbols > 0 && !g.IsEmpty)
        {
            var acc = _g.AsSpan(k * _symbols, _symbols);
            TensorPrimitives.Add(acc, g, acc);
            _gnorm[k] += Rounding.SumOfMagnitudes(g);
        }
    }

    /// <summary>
    /// The layer's output bounds for every written row, given the layer input (centers = the pass's
    /// stream, its coefficients and remainders): coefficients G and remainders X updated in place, the
    /// remainders multiplied by <paramref name="inflation"/> (the analysis's own rounding). With
    /// <paramref name="measured"/>, every written element's center and pass-free remainder are noted
    /// for the a-posteriori pass radius (<see cref="MeasuredPassRadius"/>).
    /// </summary>
    public void Commit<T>(Enclosure stream, double[] G, double[] X, double u, double inflation, MeasuredPassRadius? measured = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int N = _n, S = _symbols;
        for (int s = 0; s < _rows.Length; s++)
        {
            int r = _rows[s];
            for (int i = 0; i < N; i++)
            {
                int k = s * N + i, e = r * N + i;
                double h = stream.Center[e], pass = _pass[k];
                int terms = _count[k] + (h != 0 ? 1 : 0);
                double rounding;
                if (terms <= 1 && pass == 0) rounding = 0;
                else if (terms == 2 && pass == 0 && _count[k] == 1) rounding = SumOfTwo<T>(h, _center[k], u);
                else rounding = Rounding.Gamma(terms - 1, u) * (Math.Abs(h) + _magnitude[k]);
                double coefficients = 0;
                if (S > 0)
                {
                    var ge = G.AsSpan(e * S, S);
                    double before = Rounding.SumOfMagnitudes(ge) + _gnorm[k];
                    TensorPrimitives.Add(ge, _g.AsSpan(k * S, S), ge);
                    coefficients = Rounding.Gamma(_adds[k] + 1, Rounding.DoubleUnit) * before;      // rounding of the coefficient sums
                }
                double carried = Math.Abs(1 + _self[k]) * X[e] + _exact[k] + coefficients;
                measured?.Note(e, h + _center[k], (carried + Rounding.Gamma(_adds[k] + 1, Rounding.DoubleUnit) * (Math.Abs(h) + _magnitude[k])) * inflation);
                X[e] = (rounding + pass + carried) * inflation;
            }
        }
    }

    /// <summary>Rounding of fl_T(a + b) for a, b known exactly: 0 when a + b is representable in T.</summary>
    private static double SumOfTwo<T>(double a, double b, double u) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double s = a + b, bb = s - a, err = (a - (s - bb)) + (b - bb);
        if (err == 0 && double.CreateChecked(T.CreateChecked(s)) == s) return 0;
        return u * Math.Abs(s) * (1 + 2 * Rounding.DoubleUnit) + Math.Abs(err);
    }
}
