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
    private readonly double _u = Rounding.Unit<T>(), _eta = Rounding.Underflow<T>(), _limit = Rounding.ExactIntegerLimit<T>();
    private int _symbols;

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
        _scores.Begin(_q, _k, head.Dk, head.PositionalDims, _u, _eta, _limit);
        Ensure(N, head.V.Count);
        for (int o = 0; o < head.V.Count; o++)
        {
            double mv = 0, mp = 0, mx = 0;
            var c = _v.CenterRow(o); var p = _v.PassRow(o);
            for (int j = 0; j < N; j++)
            {
                int k = o * N + j;
                _vR[k] = _v.Radius(k);
                _vG[k] = _vR[k] - _v.Exact[k];
                mv = Math.Max(mv, Math.Abs(c[j])); mp = Math.Max(mp, p[j]); mx = Math.Max(mx, _vR[k]);
            }
            _maxAbsV[o] = mv; _maxVp[o] = mp; _maxVR[o] = mx;
        }
        CertifiedMargin = double.PositiveInfinity; LeakageBound = 0; ScoreErrorBound = 0;
        for (int i = 0; i < N; i++)
        {
            _scores.Row(i);
            int qr = roles[i];
            if (head.Activation == Activation.Softmax) SoftmaxRow(head, i, qr, roles, roleCount, residual);
            else ReluRow(head, i, qr, roles, roleCount, residual);
        }
    }

    private void Ensure(int N, int dv)
    {
        if (_a.Length < N)
        {
            _a = new double[N]; _dp = new double[N]; _dx = new double[N];
            _lx = new double[N]; _ux = new double[N]; _lp = new double[N]; _up = new double[N]; _w = new double[N]; _active = new int[N];
        }
        if (_vR.Length < dv * N) { _vR = new double[dv * N]; _vG = new double[dv * N]; }
        if (_maxAbsV.Length < dv) { _maxAbsV = new double[dv]; _maxVp = new double[dv]; _maxVR = new double[dv]; }
        if (_gs.Length < _symbols) _gs = new double[_symbols];
        if (_gOut.Length < dv * _symbols) _gOut = new double[dv * _symbols];
    }

    private static bool Admitted(BoundsModel.Head head, int qr, int keyRole, int roleCount, int i, int j)
    {
        var adm = head.Admission[qr * roleCount + keyRole];
        return adm == Admit.Yes || (adm == Admit.Self && i == j);
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
    private void ReluRow(BoundsModel.Head head, int i, int qr, int[] roles, int roleCount, ResidualBounds residual)
    {
        var s = _scores.Center; var sp = _scores.PassRadius; var sx = _scores.ExactRadius;
        int N = roles.Length, S = _symbols;
        bool linear = head.Activation == Activation.Linear;
        int t = 0, active = 0;
        for (int j = 0; j < N; j++)
        {
            if (!linear && !head.AdmitsAll && !Admitted(head, qr, roles[j], roleCount, i, j))
            {
                CertifiedMargin = Math.Min(CertifiedMargin, -s[j] - sx[j]);
                ScoreErrorBound = Math.Max(ScoreErrorBound, sp[j] + sx[j]);
            }
            double a, dp, dx;
            if (linear) { a = s[j]; dp = sp[j]; dx = sx[j]; if (Math.Abs(a) + dp > 0) t++; }
            else
            {
                a = Math.Max(s[j], 0);
                dp = s[j] > 0 ? sp[j] : Math.Max(0, s[j] + sp[j]);
                dx = s[j] > 0 ? sx[j] : Math.Max(0, s[j] + sx[j]);
                if (s[j] + sp[j] > 0) t++;
                if (double.IsNaN(s[j])) { a = double.NaN; t++; }
            }
            if (Math.Abs(a) + dp + dx > 0 || double.IsNaN(a)) { _a[active] = a; _dp[active] = dp; _dx[active] = dx; _active[active++] = j; }
        }
        if (active == 0) return;
        double invN = 1.0 / N;
        double gT = Rounding.Gamma(t + 2, _u), gD = Rounding.Gamma(t + 2, Rounding.DoubleUnit), gC = Rounding.Gamma(2 * active + 2, Rounding.DoubleUnit);
        int dv = head.V.Count;
        var center = _lx.AsSpan(0, dv); var pass = _ux.AsSpan(0, dv); var exact = _lp.AsSpan(0, dv); var mag = _up.AsSpan(0, dv); var gnorm = _w.AsSpan(0, dv);
        center.Clear(); pass.Clear(); exact.Clear(); mag.Clear(); gnorm.Clear();
        var gOut = _gOut.AsSpan(0, dv * S);
        gOut.Clear();
        for (int q = 0; q < active; q++)
        {
            int j = _active[q];
            double a = _a[q], aa = Math.Abs(a), dp = _dp[q], dx = _dx[q];
            bool lin = linear || s[j] - sx[j] > 0;
            double xs = 0, gsNorm = 0;
            if (lin)
            {
                xs = _scores.Affine(j, _gs.AsSpan(0, S));
                gsNorm = S == 0 ? 0 : TensorPrimitives.SumOfMagnitudes<double>(_gs.AsSpan(0, S));
            }
            for (int o = 0; o < dv; o++)
            {
                int k = o * N + j;
                double vc = _v.Center[k], av = Math.Abs(vc), vp = _v.Pass[k], vx = _v.Exact[k], vR = _vR[k];
                center[o] += a * vc;
                pass[o] += dp * (av + vp) + aa * vp + gT * (aa + dp) * (av + vp);
                mag[o] += aa * av;
                var g = gOut.Slice(o * S, S);
                if (lin)
                {
                    exact[o] += av * xs + aa * vx + sx[j] * vR;
                    if (S > 0)
                    {
                        if (vc != 0 && gsNorm > 0) TensorPrimitives.MultiplyAdd(_gs.AsSpan(0, S), vc, g, g);
                        if (a != 0 && _vG[k] > 0) TensorPrimitives.MultiplyAdd(_v.Coefficients(o, j), a, g, g);
                        gnorm[o] += av * gsNorm + aa * _vG[k];
                    }
                }
                else
                {
                    exact[o] += dx * (av + vR) + aa * vx;
                    if (S > 0 && a != 0 && _vG[k] > 0)
                    {
                        TensorPrimitives.MultiplyAdd(_v.Coefficients(o, j), a, g, g);
                        gnorm[o] += aa * _vG[k];
                    }
                }
            }
        }
        for (int o = 0; o < dv; o++)
        {
            var g = gOut.Slice(o * S, S);
            if (S > 0) TensorPrimitives.Multiply(g, invN, g);
            double an = gD * mag[o] * invN + double.Epsilon * t;
            residual.Add(head.V.Output[o], i, center[o] * invN, pass[o] * invN + _eta * t + an, exact[o] * invN + an + gC * gnorm[o] * invN, g);
        }
    }

    /// <summary>
    /// Softmax rows (docs/math.md §8.4). Margins, leakage and the pass: w_j = e^{s_j}/Σ_k e^{s_k} is
    /// increasing in s_j and decreasing in the others, so with s_k ∈ s̄_k ± ρ_k, w_j ∈ [e^{a_j−ρ_j}/Σ_k
    /// e^{a_k+ρ_k}, e^{a_j+ρ_j}/Σ_k e^{a_k−ρ_k}] (a = s̄ − max s̄). The exact weights take ρ = R (their whole
    /// radius: margins, leakage); the pass's effective weights ê_j/Σê take ρ = p plus its exp's error (4u,
    /// <see cref="ExpErrorBound"/>) and the rounding of its argument ŝ_j − m̂, and are exactly 0 where the
    /// argument is below the underflow threshold; since Σ_j w_j = 1, Σ_j w_j v_j = c + Σ_j w_j (v_j − c) for
    /// c = the value at the largest score. The pass's aggregation (t possibly non-zero terms, one
    /// division) adds ρ_agg·Σ ŵ|v̂| with 1 + ρ_agg = (1 + u)(1 + γ_t)/(1 − γ_{t−1}).
    /// The exact deviation is linearised around w̄ = softmax(s̄): w_j − w̄_j = w̄_j(δ_j − δ̄) + r_j with
    /// δ̄ = Σ w̄_k δ_k, so dev(out) = Σ_j w̄_j (v̄_j − ō) δ_j + Σ_j w̄_j dev(v_j) + second-order terms, where
    /// |r_j| ≤ w̄_j [φ(R_j) + Φ(1 + R_j + R̄) + R̄(R_j + R̄)] / Σ_k w̄_k e^{−R_k}, φ(t) = e^t − 1 − t,
    /// Φ = Σ w̄_k φ(R_k), R̄ = Σ w̄_k R_k (exact algebra; no smallness assumption).
    /// </summary>
    private void SoftmaxRow(BoundsModel.Head head, int i, int qr, int[] roles, int roleCount, ResidualBounds residual)
    {
        var s = _scores.Center; var sp = _scores.PassRadius; var sx = _scores.ExactRadius;
        int N = roles.Length, S = _symbols, dv = head.V.Count;
        int star = 0;
        for (int j = 1; j < N; j++) if (s[j] > s[star] || double.IsNaN(s[j])) star = j;
        double M = s[star];
        if (!double.IsFinite(M)) { Poison(head, i, residual); return; }
        double hi = double.NegativeInfinity, bestIn = double.NegativeInfinity, bestOut = double.NegativeInfinity;
        for (int j = 0; j < N; j++)
        {
            hi = Math.Max(hi, s[j] + sp[j]);
            if (Admitted(head, qr, roles[j], roleCount, i, j)) bestIn = Math.Max(bestIn, s[j] - sx[j]);
            else bestOut = Math.Max(bestOut, s[j] + sx[j]);
            ScoreErrorBound = Math.Max(ScoreErrorBound, sp[j] + sx[j]);
        }
        // |m̂ − M| ≤ deviation: the pass's maximum is its largest score, within p of the centers.
        double deviation = Math.Max(sp[star], hi - M);
        bool maxExact = deviation == 0;
        double epsExp = ExpErrorBound.RelativeError<T>(), logExp = epsExp / (1 - epsExp), zeroBelow = ExpErrorBound.ZeroBelow<T>();
        double sxLo = 0, sxHi = 0, spLo = 0, spHi = 0, wSum = 0;
        int t = 0;
        for (int j = 0; j < N; j++)
        {
            double a = s[j] - M, ad = Rounding.DoubleUnit * Math.Abs(a);
            double xw = sx[j] + ad;
            bool one = maxExact && a == 0 && sp[j] == 0;
            double pw = sp[j] + ad + (one ? 0 : _u * (Math.Abs(a) + sp[j] + deviation) + logExp);
            double argUpper = a + sp[j] + deviation;
            bool zero = argUpper + _u * Math.Abs(argUpper) < zeroBelow;
            _lx[j] = ExpErrorBound.Lower(a - xw); _ux[j] = ExpErrorBound.Upper(a + xw);
            _lp[j] = zero ? 0 : ExpErrorBound.Lower(a - pw); _up[j] = zero ? 0 : ExpErrorBound.Upper(a + pw);
            _w[j] = Math.Exp(a);
            sxLo += _lx[j]; sxHi += _ux[j]; spLo += _lp[j]; spHi += _up[j]; wSum += _w[j];
            if (!zero) t++;
        }
        double gN = Rounding.Gamma(N + 2, Rounding.DoubleUnit);
        sxLo *= 1 - gN; sxHi *= 1 + gN; spLo *= 1 - gN; spHi *= 1 + gN;
        // w̄ = softmax(s̄), computed; κ bounds its relative error (exp within 2 ulps, the sum, the division).
        double kappa = gN + 8 * Rounding.DoubleUnit;
        double alpha = (N + 1) * ExpErrorBound.AbsoluteError<T>(), up2 = 1 + 2 * Rounding.DoubleUnit, down2 = 1 - 2 * Rounding.DoubleUnit;
        double leak = 0, inactiveX = 0, inactiveP = 0, inactiveW = 0, inactiveWR = 0, rBar = 0, phiBar = 0, aMinus = 0;
        int active = 0;
        for (int j = 0; j < N; j++)
        {
            double ux = Math.Min(1, _ux[j] / sxLo * up2), lx = _lx[j] / sxHi * down2;
            double upj, lpj;
            if (t <= 1) { upj = lpj = j == star ? 1 : 0; }
            else if (_up[j] == 0) { upj = lpj = 0; }
            else { upj = Math.Min(1, _up[j] / spLo * up2 + alpha); lpj = Math.Max(0, _lp[j] / spHi * down2 - alpha); }
            if (!Admitted(head, qr, roles[j], roleCount, i, j)) leak += ux;
            // Upper bound of w̄_j (the exact softmax of the centers): below the bound of w_j at ρ = 0.
            double wU = Math.Min(1, ExpErrorBound.Upper(s[j] - M) / (wSum * (1 - kappa)) * up2);
            double R = sx[j];
            rBar += wU * R;
            phiBar += R < 1 ? wU * 1.36 * R * R : Math.Min(1, ExpErrorBound.Upper(s[j] - M + R) / (wSum * (1 - kappa)) * up2);
            aMinus += ExpErrorBound.Lower(s[j] - M - R);
            double w = _w[j] / wSum;
            if (ux <= Negligible && upj <= Negligible && wU <= Negligible) { inactiveX += ux; inactiveP += upj; inactiveW += wU; inactiveWR += wU * R; continue; }
            _ux[active] = ux; _lx[active] = lx; _up[active] = upj; _lp[active] = lpj; _a[active] = w; _dp[active] = wU; _active[active++] = j;
        }
        aMinus = aMinus / (wSum * (1 + kappa)) * (1 - gN);
        leak *= 1 + gN;
        LeakageBound = Math.Max(LeakageBound, bestIn == double.NegativeInfinity ? 1 : leak);
        CertifiedMargin = Math.Min(CertifiedMargin, bestIn == double.NegativeInfinity ? double.NegativeInfinity
            : bestOut == double.NegativeInfinity ? double.PositiveInfinity : bestIn - bestOut);
        double rhoAgg = t <= 1 ? 0 : (1 + _u) * (1 + Rounding.Gamma(t, _u)) / (1 - Rounding.Gamma(t - 1, _u)) - 1;
        double gA = Rounding.Gamma(active + 4, Rounding.DoubleUnit);
        var gOut = _gOut.AsSpan(0, dv * S);
        gOut.Clear();
        for (int o = 0; o < dv; o++)
        {
            var vc = _v.CenterRow(o); var vp = _v.PassRow(o);
            double c = vc[star];
            // The center output ō = Σ w̄_j v̄_j over the weighty keys (the rest are in the bulk terms).
            double ocenter = 0, omag = 0;
            for (int q = 0; q < active; q++) { int j = _active[q]; ocenter += _a[q] * vc[j]; omag += _dp[q] * Math.Abs(vc[j]); }
            double loP = 0, hiP = 0, spreadP = 0, agg = 0, magP = 0, exact = 0, gnorm = 0;
            var g = gOut.Slice(o * S, S);
            for (int q = 0; q < active; q++)
            {
                int j = _active[q], k = o * N + j;
                double d = vc[j] - c;
                if (d >= 0) { loP += _lp[q] * d; hiP += _up[q] * d; } else { loP += _up[q] * d; hiP += _lp[q] * d; }
                spreadP += _up[q] * vp[j];
                agg += _up[q] * (Math.Abs(vc[j]) + vp[j]);
                magP += _up[q] * Math.Abs(d);
                // Exact: the linear part in δ_j and dev(v_j), its remainder, and the second-order terms.
                double w = _a[q], wU = _dp[q], e = vc[j] - ocenter, ae = Math.Abs(e), R = sx[j];
                double r2 = (R < 1 ? wU * 1.36 * R * R : Math.Min(1, ExpErrorBound.Upper(s[j] - M + R) / (wSum * (1 - kappa)) * up2))
                    + wU * (phiBar * (1 + R + rBar) + rBar * (R + rBar));
                r2 /= Math.Max(aMinus, double.Epsilon);
                double xs = 0;
                if (S > 0 && w * ae > 0)
                {
                    xs = _scores.Affine(j, _gs.AsSpan(0, S));
                    double gsNorm = TensorPrimitives.SumOfMagnitudes<double>(_gs.AsSpan(0, S));
                    TensorPrimitives.MultiplyAdd(_gs.AsSpan(0, S), w * e, g, g);
                    gnorm += w * ae * gsNorm;
                }
                else xs = R;
                if (S > 0 && _vG[k] > 0)
                {
                    TensorPrimitives.MultiplyAdd(_v.Coefficients(o, j), w, g, g);
                    gnorm += w * _vG[k];
                }
                exact += wU * ae * xs + wU * _v.Exact[k] + r2 * ae + (wU * (R + rBar) + r2) * _vR[k]
                    + kappa * wU * (ae * R + _vR[k]);
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
            double pass = Math.Max(c + hiP - ocenter, ocenter - (c + loP)) + spreadP + rhoAgg * agg + an;
            exact += an + rBar * oRound + Rounding.Gamma(2 * active + 2, Rounding.DoubleUnit) * gnorm;
            residual.Add(head.V.Output[o], i, ocenter, pass, exact, g);
        }
    }

    /// <summary>A row whose scores are not finite: the bound is +∞ (the certificate is not finite anyway).</summary>
    private void Poison(BoundsModel.Head head, int i, ResidualBounds residual)
    {
        CertifiedMargin = double.NegativeInfinity;
        LeakageBound = double.PositiveInfinity;
        for (int o = 0; o < head.V.Count; o++) residual.Add(head.V.Output[o], i, 0, double.PositiveInfinity, double.PositiveInfinity, ReadOnlySpan<double>.Empty);
    }
}
