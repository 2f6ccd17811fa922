using System.Numerics.Tensors;

namespace MorIcl.Runtime.Bounds;

/// <summary>
/// Bounds on one query row of a head's scores s_ij = Σ_a q_ia k_ja (docs/math.md §8.3), given the
/// enclosures of q and k. The kernels sum the first <c>PositionalDims</c> dimensions first and in
/// order (the contract of <see cref="Construction.Model.AttentionHead"/>); when those terms are integers
/// known exactly and every partial sum and product stays within 2^p, that prefix P is exact in T and in
/// double, and the rest is a sum of P and the m content products: γ_{m+1}(u)·(|P| + Σ|q̂||k̂|). Otherwise
/// the whole score is a dot product of dk terms: γ_{dk+1}(u)·Σ|q̂||k̂| (any order, FMA or not).
/// Propagation: |q̂k̂ − q̄k̄| ≤ |q̄|p_k + p_q(|k̄| + p_k), and the same with the whole exact radii R = Σ|G| + x
/// (<see cref="ExactRadius"/>, for margins and bulk keys). For the keys that carry weight,
/// <see cref="Affine"/> gives the exact deviation as an affine form: Σ_a (q̄_a G_{k,a} + k̄_a G_{q,a}), with
/// remainder Σ_a (|q̄_a| x_{k,a} + |k̄_a| x_{q,a} + R_{q,a} R_{k,a}) (the last term second order).
/// </summary>
internal sealed class ScoreBounds
{
    private double[] _kAbs = Array.Empty<double>(), _kAbsP = Array.Empty<double>(), _kAbsX = Array.Empty<double>();
    private double[] _kR = Array.Empty<double>(), _qR = Array.Empty<double>(), _kG = Array.Empty<double>(), _qG = Array.Empty<double>();
    private double[] _anRow = Array.Empty<double>();
    private bool[] _kPZero = Array.Empty<bool>(), _kXZero = Array.Empty<bool>(), _kPosExact = Array.Empty<bool>();
    private double[] _p = Array.Empty<double>(), _pMax = Array.Empty<double>(), _prodMax = Array.Empty<double>(), _pMag = Array.Empty<double>(),
        _pP = Array.Empty<double>(), _pX = Array.Empty<double>(), _c = Array.Empty<double>(), _cMag = Array.Empty<double>(),
        _cP = Array.Empty<double>(), _cX = Array.Empty<double>(), _tmp = Array.Empty<double>();

    /// <summary>Score centers, pass radii and exact radii of the current row, over keys 0 … N − 1.</summary>
    public double[] Center = Array.Empty<double>(), PassRadius = Array.Empty<double>(), ExactRadius = Array.Empty<double>();

    /// <summary>
    /// Per slot: the positional part of the exact score is exactly 0 (no positional dimensions, or an exact
    /// integer prefix whose value is 0), so a ReLU pair's two scores are exactly opposite there (docs/math.md §8.11).
    /// </summary>
    public bool[] PositionalZero = Array.Empty<bool>();

    private Enclosure _q = null!, _k = null!;
    private int _dk, _pos, _n, _nq;
    private double _u, _eta, _limit;

    /// <summary>Prepares the keys' magnitudes for one head.</summary>
    public void Begin(Enclosure q, Enclosure k, int dk, int positionalDims, double u, double eta, double limit)
    {
        _q = q; _k = k; _dk = dk; _pos = positionalDims; _u = u; _eta = eta; _limit = limit;
        int N = k.Tokens, Nq = q.Tokens;
        _n = N; _nq = Nq;
        if (_kAbs.Length < dk * N)
        {
            _kAbs = new double[dk * N]; _kAbsP = new double[dk * N]; _kAbsX = new double[dk * N]; _kR = new double[dk * N]; _kG = new double[dk * N];
        }
        if (_qR.Length < dk * Nq) { _qR = new double[dk * Nq]; _qG = new double[dk * Nq]; }
        for (int k0 = 0; k0 < dk * N; k0++) { _kR[k0] = k.Radius(k0); _kG[k0] = _kR[k0] - k.Exact[k0]; }
        for (int k0 = 0; k0 < dk * Nq; k0++) { _qR[k0] = q.Radius(k0); _qG[k0] = _qR[k0] - q.Exact[k0]; }
        if (_kPZero.Length < dk) { _kPZero = new bool[dk]; _kXZero = new bool[dk]; }
        if (_p.Length < N)
        {
            _kPosExact = new bool[N];
            _p = new double[N]; _pMax = new double[N]; _prodMax = new double[N]; _pMag = new double[N]; _pP = new double[N]; _pX = new double[N];
            _c = new double[N]; _cMag = new double[N]; _cP = new double[N]; _cX = new double[N]; _tmp = new double[N]; _anRow = new double[N];
            Center = new double[N]; PassRadius = new double[N]; ExactRadius = new double[N]; PositionalZero = new bool[N];
        }
        for (int a = 0; a < dk; a++)
        {
            var abs = _kAbs.AsSpan(a * N, N);
            TensorPrimitives.Abs(k.CenterRow(a), abs);
            TensorPrimitives.Add(abs, k.PassRow(a), _kAbsP.AsSpan(a * N, N));
            TensorPrimitives.Add(abs, _kR.AsSpan(a * N, N), _kAbsX.AsSpan(a * N, N));
            _kPZero[a] = TensorPrimitives.MaxMagnitude(k.PassRow(a)) == 0;
            _kXZero[a] = TensorPrimitives.MaxMagnitude<double>(_kR.AsSpan(a * N, N)) == 0;
        }
        for (int j = 0; j < N; j++)
        {
            bool e = true;
            for (int a = 0; a < _pos && e; a++) e = k.Integral[a * N + j];
            _kPosExact[j] = e;
        }
    }

    /// <summary>Fills <see cref="Center"/>, <see cref="PassRadius"/> and <see cref="ExactRadius"/> for query token i against every key.</summary>
    public void Row(int i)
    {
        int N = _n;
        bool posExact = PositionalExact(i);
        Accumulate(0, _pos, i, _p, _pMag, _pP, _pX, posExact);
        Accumulate(_pos, _dk, i, _c, _cMag, _cP, _cX, false);
        _row = i; _pairMode = false;
        Finish(N, posExact, null);
    }

    /// <summary>
    /// The same for the listed keys only (slot t holds key <paramref name="keys"/>[t]), in O(d_k) each: the
    /// structured heads' formed scores (docs/math.md §9.2). <see cref="Affine"/> then takes slots.
    /// </summary>
    public void Pairs(int i, ReadOnlySpan<int> keys)
    {
        bool posExact = PositionalExact(i);
        if (_pairKeys.Length < keys.Length) _pairKeys = new int[Math.Max(keys.Length, 8)];
        keys.CopyTo(_pairKeys);
        for (int t = 0; t < keys.Length; t++)
        {
            int j = keys[t];
            double P = 0, pMax = 0, prodMax = 0, pMag = 0, pP = 0, pX = 0, C = 0, cMag = 0, cP = 0, cX = 0;
            for (int a = 0; a < _dk; a++)
            {
                int qi = a * _nq + i, kj = a * _n + j;
                double q = _q.Center[qi], k = _k.Center[kj], aq = Math.Abs(q), ak = Math.Abs(k), qp = _q.Pass[qi], kp = _k.Pass[kj], qx = _qR[qi], kx = _kR[kj];
                double mag = aq * ak, pass = aq * kp + qp * (ak + kp), exact = aq * kx + qx * (ak + kx);
                if (a < _pos)
                {
                    P += q * k; pMax = Math.Max(pMax, Math.Abs(P)); prodMax = Math.Max(prodMax, mag);
                    pMag += mag; pP += pass; pX += exact;
                }
                else { C += q * k; cMag += mag; cP += pass; cX += exact; }
            }
            _p[t] = P; _pMax[t] = pMax; _prodMax[t] = prodMax; _pMag[t] = pMag; _pP[t] = pP; _pX[t] = pX;
            _c[t] = C; _cMag[t] = cMag; _cP[t] = cP; _cX[t] = cX;
        }
        _row = i; _pairMode = true;
        Finish(keys.Length, posExact, keys);
    }

    private bool PositionalExact(int i)
    {
        bool posExact = _pos > 0;
        for (int a = 0; a < _pos && posExact; a++) posExact = _q.Integral[a * _nq + i];
        return posExact;
    }

    /// <summary>Centers and radii of slots [0, count) from their accumulated sums (key of slot t: keys[t], or t).</summary>
    private void Finish(int count, bool posExact, ReadOnlySpan<int> keys)
    {
        int content = _dk - _pos;
        double gT = Rounding.Gamma(_dk + 1, _u), gD = Rounding.Gamma(_dk + 1, Rounding.DoubleUnit);
        double gTc = Rounding.Gamma(content + 1, _u), gDc = Rounding.Gamma(content + 1, Rounding.DoubleUnit);
        for (int t = 0; t < count; t++)
        {
            int j = keys.IsEmpty ? t : keys[t];
            double P = _p[t], C = _c[t];
            Center[t] = P + C;
            _anRow[t] = 0;
            bool exactPrefix = posExact && _kPosExact[j] && _pMax[t] <= _limit && _prodMax[t] <= _limit;
            PositionalZero[t] = _pos == 0 || (exactPrefix && P == 0);
            if (exactPrefix && content == 0) { PassRadius[t] = 0; ExactRadius[t] = 0; continue; }
            if (exactPrefix)
            {
                double a = gDc * (Math.Abs(P) + _cMag[t]) + double.Epsilon * content;
                PassRadius[t] = gTc * (Math.Abs(P) + _cMag[t] + _cP[t]) + _eta * content + _cP[t] + a;
                ExactRadius[t] = _cX[t] + a;
                _anRow[t] = a;
            }
            else
            {
                double mag = _pMag[t] + _cMag[t];
                double a = gD * mag + double.Epsilon * _dk;
                PassRadius[t] = gT * (mag + _pP[t] + _cP[t]) + _eta * _dk + _pP[t] + _cP[t] + a;
                ExactRadius[t] = _pX[t] + _cX[t] + a;
                _anRow[t] = a;
            }
        }
    }

    private bool _pairMode;
    private int[] _pairKeys = new int[8];

    private int _row;

    /// <summary>
    /// The exact deviation of score (current row, key j) as an affine form: its coefficients into
    /// <paramref name="g"/> (length = symbols); returns the remainder bound.
    /// </summary>
    public double Affine(int slot, Span<double> g)
    {
        int N = _n, i = _row, S = _q.Symbols, j = _pairMode ? _pairKeys[slot] : slot;
        g.Clear();
        double rem = _anRow[slot], gnorm = 0;
        for (int a = 0; a < _dk; a++)
        {
            int qi = a * _nq + i, kj = a * N + j;
            double q = _q.Center[qi], k = _k.Center[kj];
            rem += Math.Abs(q) * _k.Exact[kj] + Math.Abs(k) * _q.Exact[qi] + _qR[qi] * _kR[kj];
            if (S == 0) continue;
            if (q != 0 && _kG[kj] > 0) { TensorPrimitives.MultiplyAdd(_k.Coefficients(a, j), q, g, g); gnorm += Math.Abs(q) * _kG[kj]; }
            if (k != 0 && _qG[qi] > 0) { TensorPrimitives.MultiplyAdd(_q.Coefficients(a, i), k, g, g); gnorm += Math.Abs(k) * _qG[qi]; }
        }
        return rem + Rounding.Gamma(2 * _dk + 1, Rounding.DoubleUnit) * gnorm;
    }

    /// <summary>Σ over dimensions [a0, a1) of the center, magnitude and both propagated radii, in order.</summary>
    private void Accumulate(int a0, int a1, int i, double[] center, double[] mag, double[] passProp, double[] exactProp, bool trackPartials)
    {
        int N = _n;
        var c = center.AsSpan(0, N); var m = mag.AsSpan(0, N); var pp = passProp.AsSpan(0, N); var px = exactProp.AsSpan(0, N);
        c.Clear(); m.Clear(); pp.Clear(); px.Clear();
        if (trackPartials) { _pMax.AsSpan(0, N).Clear(); _prodMax.AsSpan(0, N).Clear(); }
        var tmp = _tmp.AsSpan(0, N);
        for (int a = a0; a < a1; a++)
        {
            double q = _q.Center[a * _nq + i], aq = Math.Abs(q), qp = _q.Pass[a * _nq + i], qx = _qR[a * _nq + i];
            var kAbs = _kAbs.AsSpan(a * N, N);
            if (q != 0)
            {
                TensorPrimitives.MultiplyAdd(_k.CenterRow(a), q, c, c);
                TensorPrimitives.MultiplyAdd(kAbs, aq, m, m);
                if (!_kPZero[a]) TensorPrimitives.MultiplyAdd(_k.PassRow(a), aq, pp, pp);
                if (!_kXZero[a]) TensorPrimitives.MultiplyAdd(_k.ExactRow(a), aq, px, px);
                if (trackPartials)
                {
                    TensorPrimitives.Multiply(kAbs, aq, tmp);
                    TensorPrimitives.Max(_prodMax.AsSpan(0, N), tmp, _prodMax.AsSpan(0, N));
                }
            }
            if (qp != 0) TensorPrimitives.MultiplyAdd(_kAbsP.AsSpan(a * N, N), qp, pp, pp);
            if (qx != 0) TensorPrimitives.MultiplyAdd(_kAbsX.AsSpan(a * N, N), qx, px, px);
            if (trackPartials)
            {
                TensorPrimitives.Abs(c, tmp);
                TensorPrimitives.Max(_pMax.AsSpan(0, N), tmp, _pMax.AsSpan(0, N));
            }
        }
    }
}
