using System.Numerics;
using System.Numerics.Tensors;
using MorIcl.Construction.Model;
using MorIcl.Runtime.Structured;

namespace MorIcl.Runtime.Bounds;

/// <summary>
/// One attention head of one layer: projections, scores (<see cref="ScoreBounds"/>), the activation and the value aggregation, each
/// query's contribution handed to <see cref="ResidualBounds"/> (docs/math.md §8.3–§8.4). Also the
/// certified margin (a lower bound on the exact transformer's margin: the pass's score minus the bound
/// on its error) and, for softmax heads, an upper bound on the exact transformer's leakage. A head
/// the execution plan proves AdmittedKeysOnly is bounded in O(N·roles·d_k) (docs/math.md §8.8); every
/// other head over classes of indistinguishable keys and queries (O(N) for the products with a
/// replicated quantity and the example means, O(N²) for a head whose keys all differ).
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
    private bool[] _paired = Array.Empty<bool>();
    private double[] _maxAbsV = Array.Empty<double>(), _maxVp = Array.Empty<double>(), _maxVR = Array.Empty<double>();
    private readonly double _u, _eta = Rounding.Underflow<T>(), _limit = Rounding.ExactIntegerLimit<T>();
    private int _symbols;
    private readonly Enclosure _kc = new(1, 1, 0), _vc = new(1, 1, 0);
    private Enclosure _values = null!;
    private readonly List<int> _keyRep = new(), _queryRep = new();
    private readonly List<List<int>> _keyMembers = new(), _queryMembers = new();
    private int[] _classOf = Array.Empty<int>(), _keyRole = Array.Empty<int>(), _col = Array.Empty<int>(), _tok = Array.Empty<int>();
    /// <summary>Keys not formed (structured heads): per bounded block, the count and upper bounds of its exact, center and pass scores and of their exact radius.</summary>
    private int _bulk;
    private double[] _bulkCount = new double[8], _bulkExact = new double[8], _bulkPass = new double[8], _bulkRadius = new double[8];
    private double[] _roleMax = Array.Empty<double>();
    private int[] _roleCount = Array.Empty<int>();
    private double[] _mult = Array.Empty<double>(), _outCenter = Array.Empty<double>(), _outPass = Array.Empty<double>(), _outExact = Array.Empty<double>(), _outMag = Array.Empty<double>(), _outGnorm = Array.Empty<double>();

    /// <summary>+1: the leader of a ReLU pair (docs/math.md §8.11), −1 its follower, 0 neither.</summary>
    private int _pair;

    public HeadBounds(double unitRoundoff) { _u = unitRoundoff; }

    public double CertifiedMargin { get; private set; }
    public double LeakageBound { get; private set; }
    public double ScoreErrorBound { get; private set; }

    /// <summary>
    /// Bounds head <paramref name="head"/> on the layer input <paramref name="stream"/> (a prompt of n
    /// examples), adding its contributions to <paramref name="residual"/>. A head the execution plan proves
    /// AdmittedKeysOnly (docs/math.md §9.2) is bounded in O(N) (<see cref="TryAdmittedKeysOnly"/>); every
    /// other head densely, over classes of indistinguishable keys and queries. Returns whether the O(N) path was taken.
    /// </summary>
    public bool Run(BoundsModel.Head head, HeadPlan? plan, Enclosure stream, int[] roles, int roleCount, int n, long maxPosition, ResidualBounds residual, int pair = 0)
    {
        int N = stream.Tokens;
        _pair = head.Activation == Activation.Relu ? pair : 0;
        _symbols = stream.Symbols;
        Enclosure.Project(head.Q, stream, 0, N, null, null, _u, _eta, _limit, _q, _scratch);
        Enclosure.Project(head.K, stream, 0, N, null, null, _u, _eta, _limit, _k, _scratch);
        Enclosure.Project(head.V, stream, 0, N, null, null, _u, _eta, _limit, _v, _scratch);
        if (plan is { Pattern: HeadPattern.AdmittedKeysOnly } && n <= maxPosition && TryAdmittedKeysOnly(head, plan, roles, roleCount, n, residual)) return true;
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
        if (_keyRole.Length < N) { _keyRole = new int[N]; _mult = new double[N]; _col = new int[N]; _tok = new int[N]; }
        for (int c = 0; c < C; c++)
        {
            _keyRole[c] = C < N ? roles[_keyRep[c]] : roles[c];
            _mult[c] = C < N ? _keyMembers[c].Count : 1;
            _col[c] = c; _tok[c] = C < N ? -1 : c;
        }
        _bulk = 0;
        _values = values;
        _scores.Begin(_q, keys, head.Dk, head.PositionalDims, _u, _eta, _limit);
        Ensure(C, head.V.Count);
        ValueRadii(head.V.Count);
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
        return false;
    }

    /// <summary>Whole radii and coefficient norms of the values, and their largest magnitudes over the keys.</summary>
    private void ValueRadii(int dv)
    {
        var values = _values;
        int C = values.Tokens;
        if (_vR.Length < dv * C) { _vR = new double[dv * C]; _vG = new double[dv * C]; }
        for (int o = 0; o < dv; o++)
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
    }

    /// <summary>
    /// An AdmittedKeysOnly head (docs/math.md §9.2–9.3) in O(N·roles·d_k): per query only its formed keys
    /// (itself under Self, the single tokens of admitted roles) get scores; every other key of a block b is
    /// bounded above, for all three values at once — the exact, the center and the pass's score — by the
    /// block's exact positional maximum Π_b (the plan's positional form, exact in T and in double) plus
    /// Σ_a (|q̄_ia| + R_q,ia)·max_{j∈b}(|k̄_ja| + R_k,ja) over the content dimensions (the pass's with its
    /// own radii and its rounding γ_{m+1}(u)·(|P|max + Σ|q̂||k̂|)), each rounded upward. A ReLU head is
    /// taken only when every such bound is ≤ 0 (the unformed keys are certified to contribute nothing,
    /// in the pass and exactly); a softmax head always, with the unformed keys as bulk weights. Returns
    /// false (the head is then bounded densely) when the plan's exactness argument does not hold here.
    /// </summary>
    private bool TryAdmittedKeysOnly(BoundsModel.Head head, HeadPlan plan, int[] roles, int roleCount, int n, ResidualBounds residual)
    {
        int N = roles.Length, pos = head.PositionalDims, dk = head.Dk;
        if (!plan.ExactIn(53) || plan.Forms is null || plan.Blocks is null || plan.DistinctPositions is null || plan.PositionalDims != pos) return false;
        for (int a = 0; a < pos; a++)
            for (int j = 0; j < N; j++)
                if (!_q.Integral[a * N + j] || !_k.Integral[a * N + j]) return false;
        // Per key role and content dimension: the largest |k̄| + R_k (exact and center) and |k̄| + p_k (pass).
        int R = roleCount;
        if (_roleMax.Length < 2 * R * dk) { _roleMax = new double[2 * R * dk]; _roleCount = new int[R]; }
        Array.Clear(_roleMax, 0, 2 * R * dk); Array.Clear(_roleCount, 0, R);
        for (int j = 0; j < N; j++)
        {
            int r = roles[j];
            _roleCount[r]++;
            for (int a = pos; a < dk; a++)
            {
                int k = a * N + j;
                double ak = Math.Abs(_k.Center[k]);
                _roleMax[(r * dk + a) * 2] = Math.Max(_roleMax[(r * dk + a) * 2], ak + _k.Radius(k));
                _roleMax[(r * dk + a) * 2 + 1] = Math.Max(_roleMax[(r * dk + a) * 2 + 1], ak + _k.Pass[k]);
            }
        }
        bool relu = head.Activation != Activation.Softmax;
        if (relu)
            for (int i = 0; i < N; i++)
            {
                Bulk(head, plan, i, roles, roleCount, n);
                for (int b = 0; b < _bulk; b++) if (!(_bulkExact[b] <= 0 && _bulkPass[b] <= 0)) return false;
            }
        _values = _v;
        _scores.Begin(_q, _k, dk, pos, _u, _eta, _limit);
        Ensure(N, head.V.Count);
        ValueRadii(head.V.Count);
        if (_keyRole.Length < N) { _keyRole = new int[N]; _mult = new double[N]; _col = new int[N]; _tok = new int[N]; }
        CertifiedMargin = double.PositiveInfinity; LeakageBound = 0; ScoreErrorBound = 0;
        Span<int> formed = stackalloc int[roleCount];
        for (int i = 0; i < N; i++)
        {
            int qr = roles[i], f = 0;
            for (int kr = 0; kr < R; kr++)
                switch (plan.Blocks[qr * R + kr])
                {
                    case BlockTreatment.Formed: formed[f++] = SingleToken(kr, n); break;
                    case BlockTreatment.SelfFormedRestBounded: formed[f++] = i; break;
                }
            _scores.Pairs(i, formed[..f]);
            for (int t = 0; t < f; t++) { _col[t] = formed[t]; _tok[t] = formed[t]; _mult[t] = 1; _keyRole[t] = roles[formed[t]]; }
            Bulk(head, plan, i, roles, roleCount, n);
            if (relu) ReluRow(head, i, qr, f, N, roleCount, self: true);
            else SoftmaxRow(head, i, qr, f, N, roleCount, self: true);
            Emit(head, i, residual);
        }
        return true;
    }

    /// <summary>The token of a single-token role: the query (n) or auxiliary token a (n + 1 + a).</summary>
    private static int SingleToken(int role, int n) => role == TokenRoles.Query ? n : n + 1 + (role - TokenRoles.Auxiliary(0));

    /// <summary>Query i's unformed keys, block by block: count and upper bounds of their scores (exact/center, pass) and exact radii.</summary>
    private void Bulk(BoundsModel.Head head, HeadPlan plan, int i, int[] roles, int roleCount, int n)
    {
        int N = roles.Length, pos = head.PositionalDims, dk = head.Dk, qr = roles[i], R = roleCount;
        _bulk = 0;
        // The pass's rounding: when its positional prefix is exact in T (the plan proves every partial sum
        // ≤ 2^p), the computed score is a tree of roundings RN(a + b) (or fused RN(a + b·c)) over the leaves P
        // and the m content products, each monotone in its leaves; with P ≤ Π_b and q̂k̂ ≤ m_a it is at most the
        // same tree on (Π_b, m_a), itself ≤ Π_b + Σm_a + γ_{m+1}(u)(|Π_b| + Σm_a) (docs/math.md §8.12): |Π_b|, not
        // the positional terms' magnitudes. Otherwise γ_{d_k+1}(u) on every term, the positional ones at most
        // the plan's PositionalMagnitude. The same holds for the analysis's own center s̄ in double (its prefix
        // is exact: this path requires ExactIn(53)).
        // up: the double evaluation of the sums of d_k − P non-negative products below (γ_{d_k+1}(2^-53), Higham Lemma 3.1).
        bool exactT = plan.ExactIn(Rounding.Precision<T>());
        double gT = Rounding.Gamma(exactT ? dk - pos + 1 : dk + 1, _u), up = 1 + Rounding.Gamma(dk + 1, Rounding.DoubleUnit);
        for (int kr = 0; kr < R; kr++)
        {
            int block = qr * R + kr;
            var treatment = plan.Blocks![block];
            if (treatment == BlockTreatment.Formed) continue;
            int count = _roleCount[kr] - (treatment == BlockTreatment.SelfFormedRestBounded ? 1 : 0);
            if (count <= 0) continue;
            double pi = plan.Forms![block].Max(plan.DistinctPositions![block]);
            double exact = 0, pass = 0, radius = 0;
            for (int a = pos; a < dk; a++)
            {
                int qi = a * N + i;
                double aq = Math.Abs(_q.Center[qi]), qR = _q.Radius(qi), qp = _q.Pass[qi];
                double mk = _roleMax[(kr * dk + a) * 2], mkp = _roleMax[(kr * dk + a) * 2 + 1];
                exact += (aq + qR) * mk;
                radius += aq * mk + qR * mk;
                pass += (aq + qp) * mkp;
            }
            exact *= up; pass *= up; radius *= up;
            if (_bulk == _bulkCount.Length)
            {
                Array.Resize(ref _bulkCount, 2 * _bulk); Array.Resize(ref _bulkExact, 2 * _bulk);
                Array.Resize(ref _bulkPass, 2 * _bulk); Array.Resize(ref _bulkRadius, 2 * _bulk);
            }
            _bulkCount[_bulk] = count;
            // Also above the analysis's own center s̄ (computed in double: γ_{m+1}(2^-53)(|P| + Σ|q̄||k̄|) more).
            // Each sum of k terms below is itself evaluated in double: k·2^-53·(|π| + …) more covers it.
            double gD = Rounding.Gamma(dk + 1, Rounding.DoubleUnit), piPass = exactT ? Math.Abs(pi) : plan.PositionalMagnitude;
            _bulkExact[_bulk] = pi + exact + gD * (Math.Abs(pi) + exact) + 4 * Rounding.DoubleUnit * (Math.Abs(pi) + exact);
            _bulkPass[_bulk] = pi + pass + gT * (piPass + pass) + _eta * dk + 6 * Rounding.DoubleUnit * (Math.Abs(pi) + pass);
            _bulkRadius[_bulk] = radius + gD * (plan.PositionalMagnitude + exact) * (1 + 4 * Rounding.DoubleUnit);
            _bulk++;
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
            _lx = new double[N]; _ux = new double[N]; _lp = new double[N]; _up = new double[N]; _w = new double[N]; _active = new int[N]; _paired = new bool[N];
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
        return adm == Admit.Yes || (self && adm == Admit.Self && i == _tok[j]);
    }

    /// <summary>
    /// ReLU (and linear) rows: out = (1/N) Σ_j φ(s_j) v_j with φ = ReLU (or the identity). φ is
    /// 1-Lipschitz, so |φ(s) − φ(s̄)| ≤ R_s, and 0 when s̄ + R_s ≤ 0 (both ≤ 0: the decision is
    /// certified). Pass: the t weights that can be non-zero are summed (γ_t) and multiplied by fl(1/N)
    /// (two more roundings): p = (1/N)[Σ dp(|v̄| + p_v) + Σ φ̄ p_v] + γ_{t+2}(u)(1/N)Σ(φ̄ + dp)(|v̄| + p_v).
    /// Exact: where φ is certainly linear (s̄ − R_s &gt; 0, or a linear head) the deviation
    /// v̄·dev(s) + s̄·dev(v) + dev(s)dev(v) keeps its affine form; elsewhere φ̄·dev(v) does, and
    /// dx·(|v̄| + R_v) goes to the remainder. In a ReLU pair (docs/math.md §8.11) a key whose positional part
    /// is exactly 0 has exact scores s and −s in the two heads, and ReLU(s)v + ReLU(−s)(−v) = s·v: the
    /// leader takes the linear form with s̄ signed, the follower adds no exact deviation for that key.
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
            // A ReLU pair's key whose positional part is exactly 0: the leader carries the pair's whole exact
            // deviation (linear in s), the follower none (docs/math.md §8.11).
            bool paired = _pair != 0 && _scores.PositionalZero[j] && !double.IsNaN(s[j]);
            _paired[active] = paired;
            if (paired && _pair > 0) dx = sx[j];
            if (Math.Abs(a) + dp + dx > 0 || double.IsNaN(a) || (paired && _pair > 0 && s[j] != 0)) { _a[active] = a; _dp[active] = dp; _dx[active] = dx; _active[active++] = j; }
        }
        // Keys a structured head never forms: certified ≤ 0 before the row is run (RunAdmittedKeysOnly).
        for (int b = 0; b < _bulk; b++) CertifiedMargin = Math.Min(CertifiedMargin, -_bulkExact[b]);
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
        int Cv = v.Tokens;
        for (int q = 0; q < active; q++)
        {
            int j = _active[q], col = _col[j];
            double mu = _mult[j], a = _a[q], aa = Math.Abs(a), dp = _dp[q], dx = _dx[q];
            bool paired = _paired[q], silent = paired && _pair < 0;
            bool lin = !silent && (linear || s[j] - sx[j] > 0 || paired);
            // The exact side's activation value: s̄ itself for a pair's leader (ReLU(s)v + ReLU(−s)(−v) = s·v).
            double ae = paired ? s[j] : a, aae = Math.Abs(ae);
            double xs = 0, gsNorm = 0;
            if (lin)
            {
                xs = _scores.Affine(j, _gs.AsSpan(0, S));
                gsNorm = S == 0 ? 0 : Rounding.SumOfMagnitudes(_gs.AsSpan(0, S));
            }
            for (int o = 0; o < dv; o++)
            {
                int k = o * Cv + col;
                double vc = v.Center[k], av = Math.Abs(vc), vp = v.Pass[k], vx = v.Exact[k], vR = _vR[k];
                center[o] += mu * a * vc;
                pass[o] += mu * (dp * (av + vp) + aa * vp + gT * (aa + dp) * (av + vp));
                mag[o] += mu * aa * av;
                var g = gOut.Slice(o * S, S);
                if (silent) continue;
                if (lin)
                {
                    exact[o] += mu * (av * xs + aae * vx + sx[j] * vR);
                    if (S > 0)
                    {
                        if (vc != 0 && gsNorm > 0) TensorPrimitives.MultiplyAdd(_gs.AsSpan(0, S), mu * vc, g, g);
                        if (ae != 0 && _vG[k] > 0) TensorPrimitives.MultiplyAdd(v.Coefficients(o, col), mu * ae, g, g);
                        gnorm[o] += mu * (av * gsNorm + aae * _vG[k]);
                    }
                }
                else
                {
                    exact[o] += mu * (dx * (av + vR) + aa * vx);
                    if (S > 0 && a != 0 && _vG[k] > 0)
                    {
                        TensorPrimitives.MultiplyAdd(v.Coefficients(o, col), mu * a, g, g);
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
        int Cv = v.Tokens;
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
        for (int b = 0; b < _bulk; b++) { hi = Math.Max(hi, _bulkPass[b]); bestOut = Math.Max(bestOut, _bulkExact[b]); }
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
        // Keys a structured head never forms: upper bounds only (their lower weights are 0).
        double bulkW = 0;
        for (int b = 0; b < _bulk; b++)
        {
            double mu = _bulkCount[b], argP = Above(Above(_bulkPass[b] - M) + deviation), argX = Above(_bulkExact[b] - M);
            bool zero = argP + _u * Math.Abs(argP) < zeroBelow;
            sxHi += mu * ExpErrorBound.Upper(argX);
            spHi += zero ? 0 : mu * ExpErrorBound.Upper(argP + _u * Math.Abs(argP) + logExp);
            bulkW += mu * ExpErrorBound.Upper(argX);
            if (!zero) t += mu;
        }
        double gN = Rounding.Gamma(N + 2, Rounding.DoubleUnit);
        sxLo *= 1 - gN; sxHi *= 1 + gN; spLo *= 1 - gN; spHi *= 1 + gN;
        // w̄ = softmax(s̄), computed; κ bounds its relative error (exp within 2 ulps, the sum, the division,
        // and the unformed keys' share of the normaliser, ≤ bulkW / wSum).
        double kappa = gN + 8 * Rounding.DoubleUnit + bulkW / wSum, wDen = wSum * (1 - kappa);
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
        for (int b = 0; b < _bulk; b++)
        {
            double mu = _bulkCount[b], R = _bulkRadius[b], argP = Above(Above(_bulkPass[b] - M) + deviation), argX = Above(_bulkExact[b] - M);
            bool zero = argP + _u * Math.Abs(argP) < zeroBelow;
            double ux = Math.Min(1, ExpErrorBound.Upper(argX) / sxLo * up2);
            double upj = zero ? 0 : Math.Min(1, ExpErrorBound.Upper(argP + _u * Math.Abs(argP) + logExp) / spLo * up2 + alpha);
            double wU = Math.Min(1, ExpErrorBound.Upper(argX) / wDen * up2);
            leak += mu * ux; leakP += mu * upj;
            rBar += mu * wU * R;
            phiBar += mu * (R < 1 ? wU * 1.36 * R * R : Math.Min(1, ExpErrorBound.Upper(Above(argX + R)) / wDen * up2));
            inactiveX += mu * ux; inactiveP += mu * upj; inactiveW += mu * wU; inactiveWR += mu * wU * R;
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
            double c = vc[_col[star]];
            // The center output ō = Σ w̄_j v̄_j over the weighty keys (the rest are in the bulk terms).
            double ocenter = 0, omag = 0;
            for (int q = 0; q < active; q++) { int j = _active[q], col = _col[j]; ocenter += _mult[j] * _a[q] * vc[col]; omag += _mult[j] * _dp[q] * Math.Abs(vc[col]); }
            double loP = 0, hiP = 0, spreadP = 0, agg = 0, magP = 0, exact = 0, gnorm = 0, loX = 0, hiX = 0, spreadX = 0;
            var g = gOut.Slice(o * S, S);
            for (int q = 0; q < active; q++)
            {
                int j = _active[q], col = _col[j], k = o * Cv + col;
                double mu = _mult[j], d = vc[col] - c;
                if (d >= 0) { loP += mu * _lp[q] * d; hiP += mu * _up[q] * d; loX += mu * _lx[q] * d; hiX += mu * _ux[q] * d; }
                else { loP += mu * _up[q] * d; hiP += mu * _lp[q] * d; loX += mu * _ux[q] * d; hiX += mu * _lx[q] * d; }
                spreadX += mu * _ux[q] * _vR[k];
                spreadP += mu * _up[q] * vp[col];
                agg += mu * _up[q] * (Math.Abs(vc[col]) + vp[col]);
                magP += mu * _up[q] * Math.Abs(d);
                // Exact: the linear part in δ_j and dev(v_j), its remainder, and the second-order terms.
                double w = _a[q], wU = _dp[q], e = vc[col] - ocenter, ae = Math.Abs(e), R = sx[j];
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
                    TensorPrimitives.MultiplyAdd(v.Coefficients(o, col), mu * w, g, g);
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

    /// <summary>
    /// x rounded upward past the error of the double operations that formed it (a difference or sum of
    /// two: |fl(a ± b) − (a ± b)| ≤ 2^-53·|fl(a ± b)|(1 + 2^-52)): x + 3·2^-53·|x| is above the exact value.
    /// </summary>
    private static double Above(double x) => x + 3 * Rounding.DoubleUnit * Math.Abs(x);

    /// <summary>A row whose scores are not finite: the bound is +∞ (the certificate is not finite anyway).</summary>
    private void Poison(BoundsModel.Head head)
    {
        CertifiedMargin = double.NegativeInfinity;
        LeakageBound = double.PositiveInfinity;
        for (int o = 0; o < head.V.Count; o++) { _outCenter[o] = 0; _outPass[o] = double.PositiveInfinity; _outExact[o] = double.PositiveInfinity; }
        _gOut.AsSpan(0, head.V.Count * _symbols).Clear();
    }
}
