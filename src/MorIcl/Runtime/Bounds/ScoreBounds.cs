using System.Numerics.Tensors;

namespace MorIcl.Runtime.Bounds;

/// <summary>
/// Bounds on one query row of a head's scores s_ij = Σ_a q_ia k_ja (docs/math.md §8.3), given the
/// enclosures of q and k. The kernels sum the first <c>PositionalDims</c> dimensions first and in
/// order (the contract of <see cref="Construction.Model.AttentionHead"/>); when those terms are integers
/// known exactly and every partial sum and product stays within 2^p, that prefix P is exact in T and in
/// double, and the rest is a sum of P and the m content products: γ_{m+1}(u)·(|P| + Σ|q̂||k̂|). Otherwise
/// the whole score is a dot product of dk terms: γ_{dk+1}(u)·Σ|q̂||k̂| (any order, FMA or not).
/// Propagation: |q̂k̂ − q̄k̄| ≤ |q̄|p_k + p_q(|k̄| + p_k), and the same with the exact radii.
/// </summary>
internal sealed class ScoreBounds
{
    private double[] _kAbs = Array.Empty<double>(), _kAbsP = Array.Empty<double>(), _kAbsX = Array.Empty<double>();
    private bool[] _kPZero = Array.Empty<bool>(), _kXZero = Array.Empty<bool>(), _kPosExact = Array.Empty<bool>();
    private double[] _p = Array.Empty<double>(), _pMax = Array.Empty<double>(), _prodMax = Array.Empty<double>(), _pMag = Array.Empty<double>(),
        _pP = Array.Empty<double>(), _pX = Array.Empty<double>(), _c = Array.Empty<double>(), _cMag = Array.Empty<double>(),
        _cP = Array.Empty<double>(), _cX = Array.Empty<double>(), _tmp = Array.Empty<double>();

    /// <summary>Score centers, pass radii and exact radii of the current row, over keys 0 … N − 1.</summary>
    public double[] Center = Array.Empty<double>(), PassRadius = Array.Empty<double>(), ExactRadius = Array.Empty<double>();

    private Enclosure _q = null!, _k = null!;
    private int _dk, _pos, _n;
    private double _u, _eta, _limit;

    /// <summary>Prepares the keys' magnitudes for one head.</summary>
    public void Begin(Enclosure q, Enclosure k, int dk, int positionalDims, double u, double eta, double limit)
    {
        _q = q; _k = k; _dk = dk; _pos = positionalDims; _u = u; _eta = eta; _limit = limit;
        int N = k.Tokens;
        _n = N;
        if (_kAbs.Length < dk * N) { _kAbs = new double[dk * N]; _kAbsP = new double[dk * N]; _kAbsX = new double[dk * N]; }
        if (_kPZero.Length < dk) { _kPZero = new bool[dk]; _kXZero = new bool[dk]; }
        if (_p.Length < N)
        {
            _kPosExact = new bool[N];
            _p = new double[N]; _pMax = new double[N]; _prodMax = new double[N]; _pMag = new double[N]; _pP = new double[N]; _pX = new double[N];
            _c = new double[N]; _cMag = new double[N]; _cP = new double[N]; _cX = new double[N]; _tmp = new double[N];
            Center = new double[N]; PassRadius = new double[N]; ExactRadius = new double[N];
        }
        for (int a = 0; a < dk; a++)
        {
            var abs = _kAbs.AsSpan(a * N, N);
            TensorPrimitives.Abs(k.CenterRow(a), abs);
            TensorPrimitives.Add(abs, k.PassRow(a), _kAbsP.AsSpan(a * N, N));
            TensorPrimitives.Add(abs, k.ExactRow(a), _kAbsX.AsSpan(a * N, N));
            _kPZero[a] = TensorPrimitives.MaxMagnitude(k.PassRow(a)) == 0;
            _kXZero[a] = TensorPrimitives.MaxMagnitude(k.ExactRow(a)) == 0;
        }
        for (int j = 0; j < N; j++)
        {
            bool e = true;
            for (int a = 0; a < _pos && e; a++) e = k.Integral[a * N + j];
            _kPosExact[j] = e;
        }
    }

    /// <summary>Fills <see cref="Center"/>, <see cref="PassRadius"/> and <see cref="ExactRadius"/> for query token i.</summary>
    public void Row(int i)
    {
        int N = _n;
        bool posExact = _pos > 0;
        for (int a = 0; a < _pos && posExact; a++) posExact = _q.Integral[a * N + i];
        Accumulate(0, _pos, i, _p, _pMag, _pP, _pX, posExact);
        Accumulate(_pos, _dk, i, _c, _cMag, _cP, _cX, false);
        int content = _dk - _pos;
        double gT = Rounding.Gamma(_dk + 1, _u), gD = Rounding.Gamma(_dk + 1, Rounding.DoubleUnit);
        double gTc = Rounding.Gamma(content + 1, _u), gDc = Rounding.Gamma(content + 1, Rounding.DoubleUnit);
        for (int j = 0; j < N; j++)
        {
            double P = _p[j], C = _c[j];
            Center[j] = P + C;
            bool exactPrefix = posExact && _kPosExact[j] && _pMax[j] <= _limit && _prodMax[j] <= _limit;
            if (exactPrefix && content == 0) { PassRadius[j] = 0; ExactRadius[j] = 0; continue; }
            if (exactPrefix)
            {
                double a = gDc * (Math.Abs(P) + _cMag[j]) + double.Epsilon * content;
                PassRadius[j] = gTc * (Math.Abs(P) + _cMag[j] + _cP[j]) + _eta * content + _cP[j] + a;
                ExactRadius[j] = _cX[j] + a;
            }
            else
            {
                double mag = _pMag[j] + _cMag[j];
                double a = gD * mag + double.Epsilon * _dk;
                PassRadius[j] = gT * (mag + _pP[j] + _cP[j]) + _eta * _dk + _pP[j] + _cP[j] + a;
                ExactRadius[j] = _pX[j] + _cX[j] + a;
            }
        }
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
            double q = _q.Center[a * N + i], aq = Math.Abs(q), qp = _q.Pass[a * N + i], qx = _q.Exact[a * N + i];
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
