using System.Numerics;

namespace MorIcl.Runtime.Bounds;

/// <summary>
/// The residual addition of one layer (docs/math.md §8.5): the executor accumulates each head's (or the
/// MLP's) contribution d_m to residual element (r, i) into a zeroed buffer, then adds the buffer to h.
/// That is a sum of the k terms {h, d_1, …} that can be non-zero, in some order: rounding ≤
/// γ_{k−1}(u)·(|h| + Σ(|d̄_m| + p_m)). Two exact cases keep constructed rows exact: a single term known
/// exactly, and h plus one contribution known exactly whose sum is representable in T (a reset to 0,
/// a copy into a zero row). The new bound on |Ĥ − H| is that rounding + Σ p_m + E_in + Σ x_m.
/// </summary>
internal sealed class ResidualBounds
{
    private int[] _slot = Array.Empty<int>();
    private int[] _rows = Array.Empty<int>();
    private double[] _center = Array.Empty<double>(), _magnitude = Array.Empty<double>(), _pass = Array.Empty<double>(), _exact = Array.Empty<double>();
    private int[] _count = Array.Empty<int>();
    private int _n;

    /// <summary>Starts a layer that writes <paramref name="rows"/> of a D-row stream over N tokens.</summary>
    public void Begin(int[] rows, int D, int N)
    {
        if (_slot.Length < D) _slot = new int[D];
        Array.Fill(_slot, -1, 0, D);
        for (int s = 0; s < rows.Length; s++) _slot[rows[s]] = s;
        _rows = rows; _n = N;
        int size = rows.Length * N;
        if (_center.Length < size)
        {
            _center = new double[size]; _magnitude = new double[size]; _pass = new double[size]; _exact = new double[size]; _count = new int[size];
        }
        Array.Clear(_center, 0, size); Array.Clear(_magnitude, 0, size); Array.Clear(_pass, 0, size); Array.Clear(_exact, 0, size); Array.Clear(_count, 0, size);
    }

    /// <summary>One contribution to element (row, token): center, pass radius, exact radius.</summary>
    public void Add(int row, int token, double center, double pass, double exact)
    {
        int k = _slot[row] * _n + token;
        _center[k] += center;
        double m = Math.Abs(center) + pass;
        _magnitude[k] += m;
        _pass[k] += pass;
        _exact[k] += exact;
        if (m > 0) _count[k]++;
    }

    /// <summary>
    /// E[r, i] ← bound after the layer for every written row, given the layer input's centers (the pass's
    /// stream) and bounds E; multiplied by <paramref name="inflation"/> (the analysis's own rounding).
    /// </summary>
    public void Commit<T>(double[] stream, double[] E, double u, double inflation) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int N = _n;
        for (int s = 0; s < _rows.Length; s++)
        {
            int r = _rows[s];
            for (int i = 0; i < N; i++)
            {
                int k = s * N + i, e = r * N + i;
                double h = stream[e], pass = _pass[k];
                int terms = _count[k] + (h != 0 ? 1 : 0);
                double rounding;
                if (terms <= 1 && pass == 0) rounding = 0;
                else if (terms == 2 && pass == 0 && _count[k] == 1) rounding = SumOfTwo<T>(h, _center[k], u);
                else rounding = Rounding.Gamma(terms - 1, u) * (Math.Abs(h) + _magnitude[k]);
                E[e] = (rounding + pass + E[e] + _exact[k]) * inflation;
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
