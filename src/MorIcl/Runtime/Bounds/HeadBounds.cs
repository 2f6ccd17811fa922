using System.Numerics;
using MorIcl.Construction.Model;

namespace MorIcl.Runtime.Bounds;

/// <summary>
/// One attention head of one layer, densely (every query against every key, O(N²) per head):
/// projections, scores (<see cref="ScoreBounds"/>), the activation and the value aggregation, each
/// query's contribution handed to <see cref="ResidualBounds"/> (docs/math.md §8.3–§8.4). Also the
/// certified margin (a lower bound on the exact transformer's margin: the pass's score minus the bound
/// on its error) and, for softmax heads, a bound on the exact transformer's leakage.
/// </summary>
internal sealed class HeadBounds<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Keys whose weight bound is below this are summed in bulk (their weight sum times the largest value).</summary>
    private const double Negligible = 6.223015277861142e-61;   // 2^-200

    private readonly Enclosure _q = new(1, 1), _k = new(1, 1), _v = new(1, 1);
    private readonly ScoreBounds _scores = new();
    private readonly Enclosure.Scratch _scratch = new();
    private double[] _a = Array.Empty<double>(), _dp = Array.Empty<double>(), _dx = Array.Empty<double>();
    private double[] _lx = Array.Empty<double>(), _ux = Array.Empty<double>(), _lp = Array.Empty<double>(), _up = Array.Empty<double>();
    private int[] _active = Array.Empty<int>();
    private double[] _maxAbsV = Array.Empty<double>(), _maxVp = Array.Empty<double>(), _maxVx = Array.Empty<double>();
    private readonly double _u = Rounding.Unit<T>(), _eta = Rounding.Underflow<T>(), _limit = Rounding.ExactIntegerLimit<T>();

    public double CertifiedMargin { get; private set; }
    public double LeakageBound { get; private set; }
    public double ScoreErrorBound { get; private set; }

    /// <summary>Bounds head <paramref name="head"/> on the layer input <paramref name="stream"/>, adding its contributions to <paramref name="residual"/>.</summary>
    public void Run(BoundsModel.Head head, Enclosure stream, int[] roles, int roleCount, ResidualBounds residual)
    {
        int N = stream.Tokens;
        Enclosure.Project(head.Q, stream, null, null, _u, _eta, _limit, _q, _scratch);
        Enclosure.Project(head.K, stream, null, null, _u, _eta, _limit, _k, _scratch);
        Enclosure.Project(head.V, stream, null, null, _u, _eta, _limit, _v, _scratch);
        _scores.Begin(_q, _k, head.Dk, head.PositionalDims, _u, _eta, _limit);
        Ensure(N, head.V.Count);
        for (int o = 0; o < head.V.Count; o++)
        {
            double mv = 0, mp = 0, mx = 0;
            var c = _v.CenterRow(o); var p = _v.PassRow(o); var x = _v.ExactRow(o);
            for (int j = 0; j < N; j++) { mv = Math.Max(mv, Math.Abs(c[j])); mp = Math.Max(mp, p[j]); mx = Math.Max(mx, x[j]); }
            _maxAbsV[o] = mv; _maxVp[o] = mp; _maxVx[o] = mx;
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
            _lx = new double[N]; _ux = new double[N]; _lp = new double[N]; _up = new double[N]; _active = new int[N];
        }
        if (_maxAbsV.Length < dv) { _maxAbsV = new double[dv]; _maxVp = new double[dv]; _maxVx = new double[dv]; }
    }

    private static bool Admitted(BoundsModel.Head head, int qr, int keyRole, int roleCount, int i, int j)
    {
        var adm = head.Admission[qr * roleCount + keyRole];
        return adm == Admit.Yes || (adm == Admit.Self && i == j);
    }

    /// <summary>
    /// ReLU (and linear) rows: out = (1/N) Σ_j φ(s_j) v_j with φ = ReLU (or the identity). φ is
    /// 1-Lipschitz, so |φ(ŝ) − φ(s̄)| ≤ p_s, and 0 when s̄ + p_s ≤ 0 (both are ≤ 0: the decision is
    /// certified). The pass sums the t weights that can be non-zero (γ_t) and multiplies by fl(1/N)
    /// (two more roundings): p = (1/N)[Σ dp(|v̄| + p_v) + Σ φ̄ p_v] + γ_{t+2}(u)(1/N)Σ(φ̄ + dp)(|v̄| + p_v).
    /// </summary>
    private void ReluRow(BoundsModel.Head head, int i, int qr, int[] roles, int roleCount, ResidualBounds residual)
    {
        var s = _scores.Center; var sp = _scores.PassRadius; var sx = _scores.ExactRadius;
        int N = roles.Length;
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
        double gT = Rounding.Gamma(t + 2, _u), gD = Rounding.Gamma(t + 2, Rounding.DoubleUnit);
        for (int o = 0; o < head.V.Count; o++)
        {
            var vc = _v.CenterRow(o); var vp = _v.PassRow(o); var vx = _v.ExactRow(o);
            double center = 0, pass = 0, exact = 0, mag = 0;
            for (int q = 0; q < active; q++)
            {
                int j = _active[q];
                double a = _a[q], aa = Math.Abs(a), dp = _dp[q], dx = _dx[q], av = Math.Abs(vc[j]);
                center += a * vc[j];
                pass += dp * (av + vp[j]) + aa * vp[j] + gT * (aa + dp) * (av + vp[j]);
                exact += dx * (av + vx[j]) + aa * vx[j];
                mag += aa * av;
            }
            double an = gD * mag * invN + double.Epsilon * t;
            residual.Add(head.V.Output[o], i, center * invN, pass * invN + _eta * t + an, exact * invN + an);
        }
    }

    /// <summary>
    /// Softmax rows (docs/math.md §8.4): w_j = e^{s_j}/Σ_k e^{s_k} is increasing in s_j and decreasing in
    /// the others, so with s_k ∈ s̄_k ± ρ_k, w_j ∈ [e^{a_j−ρ_j}/Σ_k e^{a_k+ρ_k}, e^{a_j+ρ_j}/Σ_k e^{a_k−ρ_k}]
    /// (a = s̄ − max s̄). The exact weights take ρ = x; the pass's effective weights ê_j/Σê take ρ = p plus
    /// its exp's error (4u, <see cref="ExpErrorBound"/>) and the rounding of its argument ŝ_j − m̂, and are
    /// exactly 0 where the argument is below the underflow threshold. Because Σ_j w_j = 1, the output
    /// Σ_j w_j v_j = c + Σ_j w_j (v_j − c) for c = the value at the largest score, which keeps the dominant
    /// key's weight error out of the bound. The pass's aggregation (t possibly non-zero terms, one division)
    /// adds ρ_agg·Σ ŵ|v̂| with 1 + ρ_agg = (1 + u)(1 + γ_t)/(1 − γ_{t−1}).
    /// </summary>
    private void SoftmaxRow(BoundsModel.Head head, int i, int qr, int[] roles, int roleCount, ResidualBounds residual)
    {
        var s = _scores.Center; var sp = _scores.PassRadius; var sx = _scores.ExactRadius;
        int N = roles.Length;
        int star = 0;
        for (int j = 1; j < N; j++) if (s[j] > s[star] || double.IsNaN(s[j])) star = j;
        double M = s[star];
        if (!double.IsFinite(M)) { Poison(head, i, residual); return; }
        double hi = double.NegativeInfinity;
        double bestIn = double.NegativeInfinity, bestOut = double.NegativeInfinity;
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
        double sxLo = 0, sxHi = 0, spLo = 0, spHi = 0;
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
            sxLo += _lx[j]; sxHi += _ux[j]; spLo += _lp[j]; spHi += _up[j];
            if (!zero) t++;
        }
        double gN = Rounding.Gamma(N, Rounding.DoubleUnit);
        sxLo *= 1 - gN; sxHi *= 1 + gN; spLo *= 1 - gN; spHi *= 1 + gN;
        double alpha = (N + 1) * ExpErrorBound.AbsoluteError<T>(), up2 = 1 + 2 * Rounding.DoubleUnit, down2 = 1 - 2 * Rounding.DoubleUnit;
        double leak = 0, inactiveX = 0, inactiveP = 0;
        int active = 0;
        for (int j = 0; j < N; j++)
        {
            double ux = Math.Min(1, _ux[j] / sxLo * up2), lx = _lx[j] / sxHi * down2;
            double upj, lpj;
            if (t <= 1) { upj = lpj = j == star ? 1 : 0; }
            else if (_up[j] == 0) { upj = lpj = 0; }
            else { upj = Math.Min(1, _up[j] / spLo * up2 + alpha); lpj = Math.Max(0, _lp[j] / spHi * down2 - alpha); }
            if (!Admitted(head, qr, roles[j], roleCount, i, j)) leak += ux;
            if (ux <= Negligible && upj <= Negligible) { inactiveX += ux; inactiveP += upj; continue; }
            _ux[active] = ux; _lx[active] = lx; _up[active] = upj; _lp[active] = lpj; _active[active++] = j;
        }
        leak *= 1 + gN;
        LeakageBound = Math.Max(LeakageBound, bestIn == double.NegativeInfinity ? 1 : leak);
        CertifiedMargin = Math.Min(CertifiedMargin, bestIn == double.NegativeInfinity ? double.NegativeInfinity
            : bestOut == double.NegativeInfinity ? double.PositiveInfinity : bestIn - bestOut);
        double rhoAgg = t <= 1 ? 0 : (1 + _u) * (1 + Rounding.Gamma(t, _u)) / (1 - Rounding.Gamma(t - 1, _u)) - 1;
        double gA = Rounding.Gamma(active + 2, Rounding.DoubleUnit);
        for (int o = 0; o < head.V.Count; o++)
        {
            var vc = _v.CenterRow(o); var vp = _v.PassRow(o); var vx = _v.ExactRow(o);
            double c = vc[star];
            double lo = 0, hiX = 0, loP = 0, hiP = 0, spreadX = 0, spreadP = 0, agg = 0, mag = 0;
            for (int q = 0; q < active; q++)
            {
                int j = _active[q];
                double d = vc[j] - c;
                if (d >= 0) { lo += _lx[q] * d; hiX += _ux[q] * d; loP += _lp[q] * d; hiP += _up[q] * d; }
                else { lo += _ux[q] * d; hiX += _lx[q] * d; loP += _up[q] * d; hiP += _lp[q] * d; }
                spreadX += _ux[q] * vx[j];
                spreadP += _up[q] * vp[j];
                agg += _up[q] * (Math.Abs(vc[j]) + vp[j]);
                mag += (_ux[q] + _up[q]) * Math.Abs(d);
            }
            double bulk = _maxAbsV[o] + Math.Abs(c);
            spreadX += inactiveX * (bulk + _maxVx[o]);
            spreadP += inactiveP * (bulk + _maxVp[o]);
            agg += inactiveP * (_maxAbsV[o] + _maxVp[o]);
            double mid = (lo + hiX) / 2;
            double an = gA * (mag + Math.Abs(c) + Math.Abs(mid));
            double exact = (hiX - lo) / 2 + spreadX + an;
            double pass = Math.Max(hiP - mid, mid - loP) + spreadP + rhoAgg * agg + an;
            residual.Add(head.V.Output[o], i, c + mid, pass, exact);
        }
    }

    /// <summary>A row whose scores are not finite: the bound is +∞ (the certificate is not finite anyway).</summary>
    private void Poison(BoundsModel.Head head, int i, ResidualBounds residual)
    {
        CertifiedMargin = double.NegativeInfinity;
        LeakageBound = double.PositiveInfinity;
        for (int o = 0; o < head.V.Count; o++) residual.Add(head.V.Output[o], i, 0, double.PositiveInfinity, double.PositiveInfinity);
    }
}
