using System.Numerics;
using System.Numerics.Tensors;
using MorIcl.Construction.Model;

namespace MorIcl.Runtime.Bounds;

/// <summary>
/// One attention head of one layer, densely (every query against every key: O(N²) per head):
/// projections, scores (<see cref="ScoreBounds"/>), the activation and the value aggregation, each
/// query's contribution handed to <see cref="ResidualBounds"/> (docs/math.md §8.3–§8.4). Also the
/// certified margin (a lower bound on the exact transformer's margin: the pass's score minus the bound
/// on its error) and, for softmax heads, an upper bound on the exact transformer's leakage.
/// </summary>
internal sealed class HeadBounds<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Keys whose weight bound is below this are summed in bulk (weight bound times the largest value).</summary>
    private const double Negligible = 6.223015277861142e-61;   // 2^-200

    private readonly Enclosure _q = new(1, 1, 0), _k = new(1, 1, 0), _v = new(1, 1, 0);
    private readonly ScoreBounds _scores = new();
    private readonly Enclosure.Scratch _scratch = new();
    private double[] _a = Array.Empty<double>(), _dp = Array.Empty<double>(), _dx = Array.Empty<double>();
    private double[] _lx = Array.Empty<double>(), _ux = Array.Empty<double>(), _lp = Array.Empty<double>(), _up = Array.Empty<double>(), _w = Array.Empty<double>();
    private double[] _vR = Array.Empty<double>(), _vG = Array.Empty<double>(), _gs = Array.Empty<double>(), _gOut = Array.Empty<double>();
    private int[] _active = Array.Empty<int>();
    private double[] _maxAbsV = Array.Empty<double>(), _maxVp = Array.Empty<double>(), _maxVR = Array.Empty<double>();
    private readonly double _u, _eta = Rounding.Underflow<T>(), _limit = Rounding.ExactIntegerLimit<T>();
    private int _symbols;
    private readonly Enclosure _kc = new(1, 1, 0), _vc = new(1, 1, 0);
    private Enclosure _values = null!;
    private readonly List<int> _keyRep = new(), _queryRep = new();
    private readonly List<List<int>> _keyMembers = new(), _queryMembers = new();
    private int[] _classOf = Array.Empty<int>(), _keyRole = Array.Empty<int>();
    private double[] _mult = Array.Empty<double>(), _outCenter = Array.Empty<double>(), _outPass = Array.Empty<double>(), _outExact = Array.Empty<double>(), _outMag = Array.Empty<double>(), _outGnorm = Array.Empty<double>();

    public HeadBounds(double unitRoundoff) { _u = unitRoundoff; }

    public double CertifiedMargin { get; private set; }
    public double LeakageBound { get; private set; }
    public double ScoreErrorBound { get; private set; }

    /// <summary>Bounds head <paramref name="head"/> on the layer input <paramref name="stream"/>, adding its contributions to <paramref name="residual"/>.</summary>
    public void Run(BoundsModel.Head head, Enclosure stream, int[] roles, int roleCount, ResidualBounds residual)
    {
        int N = stream.Tokens;
        _symbols = stream.Symbols;
        Enclosure.Project(head.Q, stream, 0, N, null, null, _u, _eta, _limit, _q, _scratch);
        Enclosure.Project(head.K, stream, 0, N, null, null, _u, _eta, _limit, _k, _scratch);
        Enclosure.Project(head.V, stream, 0, N, null, null, _u, _eta, _limit, _v, _scratch);
        bool self = TokenClasses.AdmitsSelf(head.Admission);
        if (_classOf.Length < N) _classOf = new int[N];
        Enclosure keys = _k, values = _v;
        int C = N;
        if (!self)
        {
            C = TokenClasses.Classify(new[] { _k, _v }, roles, N, _keyRep, _keyMembers, _classOf);
            if (C < N)
            {
                TokenClasses.Compact(_k, _keyRep, _kc); TokenClasses.Compact(_v, _keyRep, _vc);
                keys = _kc; values = _vc;
            }
        }
        if (_keyRole.Length < N) { _keyRole = new int[N]; _mult = new double[N]; }
        for (int c = 0; c < C; c++)
        {
            _keyRole[c] = C < N ? roles[_keyRep[c]] : roles[c];
            _mult[c] = C < N ? _keyMembers[c].Count : 1;
        }
        _values = values;
        _scores.Begin(_q, keys, head.Dk, head.PositionalDims, _u, _eta, _limit);
        Ensure(C, head.V.Count);
        for (int o = 0; o < head.V.Count; o++)
        {
            double mv = 0, mp = 0, mx = 0;
            var c = values.CenterRow(o); var p = values.PassRow(o);
            for (int j = 0; j < C; j++)
            {
                int k = o * C + j;
                _vR[k] = values.Radius(k);
                _vG[k] = _vR[k] - values.Exact[k];
                mv = Math.Max(mv, Math.Abs(c[j])); mp = Math.Max(mp, p[j]); mx = Math.Max(mx, _vR[k]);
            }
            _maxAbsV[o] = mv; _maxVp[o] = mp; _maxVR[o] = mx;
        }
        CertifiedMargin = double.PositiveInfinity; LeakageBound = 0; ScoreErrorBound = 0;
        int Q = self ? N : TokenClasses.Classify(new[] { _q }, roles, N, _queryRep, _queryMembers, _classOf);
        for (int qc = 0; qc < Q; qc++)
        {
            int i = self ? qc : _queryRep[qc];
            _scores.Row(i);
            int qr = roles[i];
            if (head.Activation == Activation.Softmax) SoftmaxRow(head, i, qr, C, N, roleCount, self);
            else ReluRow(head, i, qr, C, N, roleCount, self);
            if (self) Emit(head, i, residual);
            else foreach (int member in _queryMembers[qc]) Emit(head, member, residual);
        }
    }

    /// <summary>The current row's contributions (one per value row) to token <paramref name="token"/>.</summary>
    private void Emit(BoundsModel.Head head, int token, ResidualBounds residual)
    {
        int S = _symbols;
        for (int o = 0; o < head.V.Count; o++)
            residual.Add(head.V.Output[o], token, _outCenter[o], _outPass[o], _outExact[o], S == 0 ? ReadOnlySpan<double>.Empty : _gOut.AsSpan(o * S, S));
    }

    private void Ensure(int N, int dv)
    {
        if (_a.Length < N)
        {
            _a = new double[N]; _dp = new double[N]; _dx = new double[N];
            _lx = new double[N]; _ux = new double[N]; _lp = new double[N]; _up = new double[N]; _w = new double[N]; _active = new int[N];
        }
        if (_vR.Length < dv * N) { _vR = new double[dv * N]; _vG = new double[dv * N]; }
        if (_maxAbsV.Length < dv)
        {
            _maxAbsV = new double[dv]; _maxVp = new double[dv]; _maxVR = new double[dv];
            _outCenter = new double[dv]; _outPass = new double[dv]; _outExact = new double[dv]; _outMag = new double[dv]; _outGnorm = new double[dv];
        }
        if (_gs.Length < _symbols) _gs = new double[_symbols];
        if (_gOut.Length < dv * _symbols) _gOut = new double[dv * _symbols];
    }

    /// <summary>Whether key j (a token when <paramref name="self"/>, else a class) is admitted for query i.</summary>
    private bool Admitted(BoundsModel.Head head, int qr, int roleCount, int i, int j, bool self)
    {
        var adm = head.Admission[qr * roleCount + _keyRole[j]];
        return adm == Admit.Yes || (self && adm == Admit.Self && i == j);
    }

    /// <summary>
    /// ReLU (and linear) rows: out = (1/N) Σ_j φ(s_j) v_j with φ = ReLU (or the identity). φ is
    /// 1-Lipschitz, so |φ(s) − φ(s̄)| ≤ R_s, and 0 when s̄ + R_s ≤ 0 (both ≤ 0: the decision is
    /// certified). Pass: the t weights that can be non-zero are summed (γ_t) and multiplied by fl(1/N)
    /// (two more roundings): p = (1/N)[Σ dp(|v̄| + p_v) + Σ φ̄ p_v] + γ_{t+2}(u)(1/N)Σ(φ̄ + dp)(|v̄| + p_v).
    /// Exact: where φ is certainly linear (s̄ − R_s &gt; 0, or a linear head) the deviation
    /// v̄·dev(s) + s̄·dev(v) + dev(s)dev(v) keeps its affine form; elsewhere φ̄·dev(v) does, and
    /// dx·(|v̄| + R_v) goes to the remainder.
    /// </summary>
    private void ReluRow(BoundsModel.Head head, int i, int qr, int C, int N, int roleCount, bool self)
    {
        var s = _scores.Center; var sp = _scores.PassRadius; var sx = _scores.ExactRadius;
        int S = _symbols, dv = head.V.Count;
        bool linear = head.Activation == Activation.Linear;
        double t = 0;
        int active = 0;
        for (int j = 0; j < C; j++)
        {
            if (!linear && !head.AdmitsAll && !Admitted(head, qr, roleCount, i, j, self))
            {
                CertifiedMargin = Math.Min(CertifiedMargin, -s[j] - sx[j]);
                ScoreErrorBound = Math.Max(ScoreErrorBound, sp[j] + sx[j]);
            }
            double a, dp, dx;
            if (linear) { a = s[j]; dp = sp[j]; dx = sx[j]; if (Math.Abs(a) + dp > 0) t += _mult[j]; }
            else
            {
                a = Math.Max(s[j], 0);
                dp = s[j] > 0 ? sp[j] : Math.Max(0, s[j] + sp[j]);
                dx = s[j] > 0 ? sx[j] : Math.Max(0, s[j] + sx[j]);
                if (s[j] + sp[j] > 0 || double.IsNaN(s[j])) t += _mult[j];
                if (double.IsNaN(s[j])) a = double.NaN;
            }
            if (Math.Abs(a) + dp + dx > 0 || double.IsNaN(a)) { _a[active] = a; _dp[active] = dp; _dx[active] = dx; _active[active++] = j; }
        }
        var center = _outCenter.AsSpan(0, dv); var pass = _outPass.AsSpan(0, dv); var exact = _outExact.AsSpan(0, dv);
        var mag = _outMag.AsSpan(0, dv); var gnorm = _outGnorm.AsSpan(0, dv);
        center.Clear(); pass.Clear(); exact.Clear(); mag.Clear(); gnorm.Clear();
        var gOut = _gOut.AsSpan(0, dv * S);
        gOut.Clear();
        if (active == 0) return;
        double invN = 1.0 / N;
        int tn = (int)Math.Min(t, int.MaxValue / 4);
        double gT = Rounding.Gamma(tn + 2, _u), gD = Rounding.Gamma(tn + 2, Rounding.DoubleUnit), gC = Rounding.Gamma(2 * N + 2, Rounding.DoubleUnit);
        var v = _values;
        for (int q = 0; q < active; q++)
        {
            int j = _active[q];
            double mu = _mult[j], a = _a[q], aa = Math.Abs(a), dp = _dp[q], dx = _dx[q];
            bool lin = linear || s[j] - sx[j] > 0;
            double xs = 0, gsNorm = 0;
            if (lin)
            {
                xs = _scores.Affine(j, _gs.AsSpan(0, S));
                gsNorm = S == 0 ? 0 : Rounding.SumOfMagnitudes(_gs.AsSpan(0, S));
            }
            for (int o = 0; o < dv; o++)
            {
                int k = o * C + j;
                double vc = v.Center[k], av = Math.Abs(vc), vp = v.Pass[k], vx = v.Exact[k], vR = _vR[k];
                center[o] += mu * a * vc;
                pass[o] += mu * (dp * (av + vp) + aa * vp + gT * (aa + dp) * (av + vp));
                mag[o] += mu * aa * av;
                var g = gOut.Slice(o * S, S);
                if (lin)
                {
                    exact[o] += mu * (av * xs + aa * vx + sx[j] * vR);
                    if (S > 0)
                    {
                        if (vc != 0 && gsNorm > 0) TensorPrimitives.MultiplyAdd(_gs.AsSpan(0, S), mu * vc, g, g);
                        if (a != 0 && _vG[k] > 0) TensorPrimitives.MultiplyAdd(v.Coefficients(o, j), mu * a, g, g);
                        gnorm[o] += mu * (av * gsNorm + aa * _vG[k]);
                    }
                }
                else
                {
                    exact[o] += mu * (dx * (av + vR) + aa * vx);
                    if (S > 0 && a != 0 && _vG[k] > 0)
                    {
                        TensorPrimitives.MultiplyAdd(v.Coefficients(o, j), mu * a, g, g);
                        gnorm[o] += mu * aa * _vG[k];
                    }
                }
            }
        }
        for (int o = 0; o < dv; o++)
        {
            var g = gOut.Slice(o * S, S);
            if (S > 0) TensorPrimitives.Multiply(g, invN, g);
            double an = gD * mag[o] * invN + double.Epsilon * t;
            center[o] *= invN;
            pass[o] = pass[o] * invN + _eta * t + an;
            exact[o] = exact[o] * invN + an + gC * gnorm[o] * invN;
        }
    }

    /// <summary>
    /// Softmax rows (docs/math.md §8.4). Margins, leakage and the pass: w_j = e^{s_j}/Σ_k e^{s_k} is
    /// increasing in s_j and decreasing in the others, so with s_k ∈ s̄_k ± ρ_k, w_j ∈ [e^{a_j−ρ_j}/Σ_k
    /// e^{a_k+ρ_k}, e^{a_j+ρ_j}/Σ_k e^{a_k−ρ_k}] (a = s̄ − max s̄). The exact weights take ρ = R (their whole
    /// radius: margins, leakage); the pass's effective weights ê_j/Σê take ρ = p plus its exp's error (7u,
    /// <see cref="ExpErrorBound"/>) and the rounding of its argument ŝ_j − m̂, and are exactly 0 where the
    /// argument is below the underflow threshold; since Σ_j w_j = 1, Σ_j w_j v_j = c + Σ_j w_j (v_j − c) for
    /// c = the value at the largest score. The pass's aggregation (t possibly non-zero terms, one
    /// division) adds ρ_agg·Σ ŵ|v̂| with 1 + ρ_agg = (1 + u)(1 + γ_t)/(1 − γ_{t−1}).
    /// The exact deviation is linearised around w̄ = softmax(s̄): w_j − w̄_j = w̄_j(δ_j − δ̄) + r_j with
    /// δ̄ = Σ w̄_k δ_k, so dev(out) = Σ_j w̄_j (v̄_j − ō) δ_j + Σ_j w̄_j dev(v_j) + second-order terms, where
    /// |r_j| ≤ w̄_j [φ(R_j) + Φ(1 + R_j + R̄) + R̄(R_j + R̄)] / Σ_k w̄_k e^{−R_k}, φ(t) = e^t − 1 − t,
    /// Φ = Σ w̄_k φ(R_k), R̄ = Σ w̄_k R_k (exact algebra; no smallness assumption).
    /// </summary>
    private void SoftmaxRow(BoundsModel.Head head, int i, int qr, int C, int N, int roleCount, bool self)
    {
        var s = _scores.Center; var sp = _scores.PassRadius; var sx = _scores.ExactRadius;
        int S = _symbols, dv = head.V.Count;
        var v = _values;
        int star = 0;
        for (int j = 1; j < C; j++) if (s[j] > s[star] || double.IsNaN(s[j])) star = j;
        double M = s[star];
        if (!double.IsFinite(M)) { Poison(head); return; }
        double hi = double.NegativeInfinity, bestIn = double.NegativeInfinity, bestOut = double.NegativeInfinity;
        for (int j = 0; j < C; j++)
        {
            hi = Math.Max(hi, s[j] + sp[j]);
            if (Admitted(head, qr, roleCount, i, j, self)) bestIn = Math.Max(bestIn, s[j] - sx[j]);
            else bestOut = Math.Max(bestOut, s[j] + sx[j]);
            ScoreErrorBound = Math.Max(ScoreErrorBound, sp[j] + sx[j]);
        }
        // |m̂ − M| ≤ deviation: the pass's maximum is its largest score, within p of the centers.
        double deviation = Math.Max(sp[star], hi - M);
        bool maxExact = deviation == 0;
        double epsExp = ExpErrorBound.RelativeUnits * _u, logExp = epsExp / (1 - epsExp), zeroBelow = ExpErrorBound.ZeroBelow<T>();
        double sxLo = 0, sxHi = 0, spLo = 0, spHi = 0, wSum = 0, t = 0;
        for (int j = 0; j < C; j++)
        {
            double mu = _mult[j], a = s[j] - M, ad = Rounding.DoubleUnit * Math.Abs(a);
            double xw = sx[j] + ad;
            bool one = maxExact && a == 0 && sp[j] == 0;
            double pw = sp[j] + ad + (one ? 0 : _u * (Math.Abs(a) + sp[j] + deviation) + logExp);
            double argUpper = a + sp[j] + deviation;
            bool zero = argUpper + _u * Math.Abs(argUpper) < zeroBelow;
            _lx[j] = ExpErrorBound.Lower(a - xw); _ux[j] = ExpErrorBound.Upper(a + xw);
            _lp[j] = zero ? 0 : ExpErrorBound.Lower(a - pw); _up[j] = zero ? 0 : ExpErrorBound.Upper(a + pw);
            _w[j] = Math.Exp(a);
            sxLo += mu * _lx[j]; sxHi += mu * _ux[j]; spLo += mu * _lp[j]; spHi += mu * _up[j]; wSum += mu * _w[j];
            if (!zero) t += mu;
        }
        double gN = Rounding.Gamma(N + 2, Rounding.DoubleUnit);
        sxLo *= 1 - gN; sxHi *= 1 + gN; spLo *= 1 - gN; spHi *= 1 + gN;
        // w̄ = softmax(s̄), computed; κ bounds its relative error (exp within 2 ulps, the sum, the division).
        double kappa = gN + 8 * Rounding.DoubleUnit, wDen = wSum * (1 - kappa);
        double alpha = (N + 1) * ExpErrorBound.AbsoluteError<T>(), up2 = 1 + 2 * Rounding.DoubleUnit, down2 = 1 - 2 * Rounding.DoubleUnit;
        double leak = 0, leakP = 0, inactiveX = 0, inactiveP = 0, inactiveW = 0, inactiveWR = 0, rBar = 0, phiBar = 0, aMinus = 0;
        int active = 0;
        for (int j = 0; j < C; j++)
        {
            double mu = _mult[j];
            double ux = Math.Min(1, _ux[j] / sxLo * up2), lx = _lx[j] / sxHi * down2;
            double upj, lpj;
            if (t <= 1) { upj = lpj = j == star ? 1 : 0; }
            else if (_up[j] == 0) { upj = lpj = 0; }
            else { upj = Math.Min(1, _up[j] / spLo * up2 + alpha); lpj = Math.Max(0, _lp[j] / spHi * down2 - alpha); }
            if (!Admitted(head, qr, roleCount, i, j, self)) { leak += mu * ux; leakP += mu * upj; }
            // Upper bound of w̄_j (the exact softmax of the centers).
            double wU = Math.Min(1, ExpErrorBound.Upper(s[j] - M) / wDen * up2);
            double R = sx[j];
            rBar += mu * wU * R;
            phiBar += mu * (R < 1 ? wU * 1.36 * R * R : Math.Min(1, ExpErrorBound.Upper(s[j] - M + R) / wDen * up2));
            aMinus += mu * ExpErrorBound.Lower(s[j] - M - R);
            double w = _w[j] / wSum;
            if (ux <= Negligible && upj <= Negligible && wU <= Negligible) { inactiveX += mu * ux; inactiveP += mu * upj; inactiveW += mu * wU; inactiveWR += mu * wU * R; continue; }
            _ux[active] = ux; _lx[active] = lx; _up[active] = upj; _lp[active] = lpj; _a[active] = w; _dp[active] = wU; _active[active++] = j;
        }
        aMinus = aMinus / (wSum * (1 + kappa)) * (1 - gN);
        leak *= 1 + gN;
        LeakageBound = Math.Max(LeakageBound, bestIn == double.NegativeInfinity ? 1 : leak);
        CertifiedMargin = Math.Min(CertifiedMargin, bestIn == double.NegativeInfinity ? double.NegativeInfinity
            : bestOut == double.NegativeInfinity ? double.PositiveInfinity : bestIn - bestOut);
        int tn = (int)Math.Min(t, int.MaxValue / 4);
        double rhoAgg = t <= 1 ? 0 : (1 + _u) * (1 + Rounding.Gamma(tn, _u)) / (1 - Rounding.Gamma(tn - 1, _u)) - 1;
        double gA = Rounding.Gamma(N + 4, Rounding.DoubleUnit);
        var gOut = _gOut.AsSpan(0, dv * S);
        gOut.Clear();
        for (int o = 0; o < dv; o++)
        {
            var vc = v.CenterRow(o); var vp = v.PassRow(o);
            double c = vc[star];
            // The center output ō = Σ w̄_j v̄_j over the weighty keys (the rest are in the bulk terms).
            double ocenter = 0, omag = 0;
            for (int q = 0; q < active; q++) { int j = _active[q]; ocenter += _mult[j] * _a[q] * vc[j]; omag += _mult[j] * _dp[q] * Math.Abs(vc[j]); }
            double loP = 0, hiP = 0, spreadP = 0, agg = 0, magP = 0, exact = 0, gnorm = 0, loX = 0, hiX = 0, spreadX = 0;
            var g = gOut.Slice(o * S, S);
            for (int q = 0; q < active; q++)
            {
                int j = _active[q], k = o * C + j;
                double mu = _mult[j], d = vc[j] - c;
                if (d >= 0) { loP += mu * _lp[q] * d; hiP += mu * _up[q] * d; loX += mu * _lx[q] * d; hiX += mu * _ux[q] * d; }
                else { loP += mu * _up[q] * d; hiP += mu * _lp[q] * d; loX += mu * _ux[q] * d; hiX += mu * _lx[q] * d; }
                spreadX += mu * _ux[q] * _vR[k];
                spreadP += mu * _up[q] * vp[j];
                agg += mu * _up[q] * (Math.Abs(vc[j]) + vp[j]);
                magP += mu * _up[q] * Math.Abs(d);
                // Exact: the linear part in δ_j and dev(v_j), its remainder, and the second-order terms.
                double w = _a[q], wU = _dp[q], e = vc[j] - ocenter, ae = Math.Abs(e), R = sx[j];
                double r2 = (R < 1 ? wU * 1.36 * R * R : Math.Min(1, ExpErrorBound.Upper(s[j] - M + R) / wDen * up2))
                    + wU * (phiBar * (1 + R + rBar) + rBar * (R + rBar));
                r2 /= Math.Max(aMinus, double.Epsilon);
                double xs;
                if (S > 0 && w * ae > 0)
                {
                    xs = _scores.Affine(j, _gs.AsSpan(0, S));
                    double gsNorm = Rounding.SumOfMagnitudes(_gs.AsSpan(0, S));
                    TensorPrimitives.MultiplyAdd(_gs.AsSpan(0, S), mu * w * e, g, g);
                    gnorm += mu * w * ae * gsNorm;
                }
                else xs = R;
                if (S > 0 && _vG[k] > 0)
                {
                    TensorPrimitives.MultiplyAdd(v.Coefficients(o, j), mu * w, g, g);
                    gnorm += mu * w * _vG[k];
                }
                exact += mu * (wU * ae * xs + wU * v.Exact[k] + r2 * ae + (wU * (R + rBar) + r2) * _vR[k] + kappa * wU * (ae * R + _vR[k]));
            }
            double bulk = _maxAbsV[o] + Math.Abs(c);
            spreadP += inactiveP * (bulk + _maxVp[o]);
            agg += inactiveP * (_maxAbsV[o] + _maxVp[o]);
            // Keys left out of the linearisation (weights ≤ 2^-200): their own terms, their share of δ̄, and
            // of Σ r_j (Σ over all keys of r_j is 0, so the weighty keys' r_j sum to minus theirs).
            double ao = Math.Abs(ocenter);
            exact += (inactiveX + 2 * inactiveW) * (_maxAbsV[o] + _maxVR[o]) + inactiveW * _maxAbsV[o]
                + ao * (2 * inactiveWR + inactiveX + inactiveW + inactiveW * rBar);
            // ō as computed differs from Σ w̄ v̄ by γ·Σ w̄|v̄| (and the linear form's ō by the same; R̄ times it).
            double oRound = gA * omag + kappa * omag;
            double an = gA * (magP + Math.Abs(c) + ao) + oRound;
            _outCenter[o] = ocenter;
            // A structured pass normalises over the admitted keys only (docs/math.md §9.3): that moves the
            // output by at most 2L/(1 − L)·max|v̂|, L the pass's weight on the keys it leaves out — at most
            // our bound, and at most the 10^-14 the structured kernel proves before it runs at all.
            double left = Math.Min(leakP, Certificate.LeakageTolerance * (1 + 1e-12));
            double renormalised = 2 * left / (1 - left) * (_maxAbsV[o] + _maxVp[o]);
            _outPass[o] = Math.Max(c + hiP - ocenter, ocenter - (c + loP)) + spreadP + rhoAgg * agg + an + renormalised;
            _outExact[o] = exact + an + rBar * oRound + Rounding.Gamma(2 * N + 2, Rounding.DoubleUnit) * gnorm;
            // The weight intervals alone also bound the exact output (a convex combination): when that is
            // smaller than the linearisation (large score radii), it replaces it, without coefficients.
            double interval = Math.Max(c + hiX - ocenter, ocenter - (c + loX)) + spreadX + inactiveX * (bulk + _maxVR[o]) + an;
            double linearised = _outExact[o] + (S == 0 ? 0 : Rounding.SumOfMagnitudes(g));
            if (interval < linearised) { _outExact[o] = interval; g.Clear(); }
        }
    }

    /// <summary>A row whose scores are not finite: the bound is +∞ (the certificate is not finite anyway).</summary>
    private void Poison(BoundsModel.Head head)
    {
        CertifiedMargin = double.NegativeInfinity;
        LeakageBound = double.PositiveInfinity;
        for (int o = 0; o < head.V.Count; o++) { _outCenter[o] = 0; _outPass[o] = double.PositiveInfinity; _outExact[o] = double.PositiveInfinity; }
        _gOut.AsSpan(0, head.V.Count * _symbols).Clear();
    }
}
