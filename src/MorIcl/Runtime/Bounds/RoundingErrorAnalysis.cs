using System.Collections.Concurrent;
using System.Numerics;
using System.Numerics.Tensors;
using MorIcl.Construction.Model;

namespace MorIcl.Runtime.Bounds;

/// <summary>What the analysis adds to one layer's certificate.</summary>
/// <param name="ResidualErrorBound">Largest bound on |Ĥ − H| over the whole residual stream after the layer.</param>
/// <param name="CertifiedMargin">Lower bound on the exact transformer's smallest margin in the layer (+∞ without margins).</param>
/// <param name="LeakageBound">Upper bound on the exact transformer's largest softmax leakage in the layer.</param>
/// <param name="ScoreErrorBound">Largest bound on |ŝ − s| over the scores the layer's domain depends on.</param>
public sealed record LayerErrorBounds(double ResidualErrorBound, double CertifiedMargin, double LeakageBound, double ScoreErrorBound);

/// <summary>Bounds on the read-out: |computed − exact| for ŷ, every β̂ coordinate, and every γ_ik (or w_i) the E-steps wrote.</summary>
public sealed record OutputErrorBounds(double Prediction, double Beta, double Responsibilities);

/// <summary>
/// Rigorous running-error analysis of a forward pass in precision T (docs/math.md §8): for every
/// residual element a bound E ≥ |Ĥ − H| between the pass's value Ĥ and the value H of the same
/// transformer in exact arithmetic (double weights, exact input). It is kept apart from the
/// arithmetic: the executor calls <see cref="Pass.Layer"/> with each layer's input (its own computed
/// stream) before running the layer, and the analysis recomputes the layer's quantities in double with
/// enclosures (<see cref="Enclosure"/>), bounding the pass's rounding by the number of terms of each
/// sum (valid for any summation order the kernels use, FMA or not), the weights' rounding to T, and
/// the propagation of E. At every next input (and at the read-out) each written element's pass radius is
/// also measured, |Ĥ − H| ≤ |c̃ − Ĥ| + |H − c̃| with c̃ the analysis's center, and the smaller bound kept
/// (docs/math.md §8.10). Memory O(N·D·(1 + m)) per pass (m symbols); the construction's heads cost
/// O(N·D) each (docs/math.md §8.8), a head whose keys all differ O(N²).
/// </summary>
public sealed class RoundingErrorAnalysis<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly TransformerModel _model;
    private readonly BoundsModel _bounds;
    private readonly ReplicationPlan _plan;
    /// <summary>The structured executor's plan: its positional forms let AdmittedKeysOnly heads be bounded in O(N).</summary>
    private readonly Structured.ExecutionPlan _heads;
    private readonly ConcurrentStack<Pass> _pool = new();

    private readonly double _unit;
    private readonly bool _structuredHeads;
    /// <summary>Whether every layer's pass radius is replaced by the measured one where smaller (docs/math.md §8.10).</summary>
    private readonly bool _measure;
    /// <summary>false only in the test that shows a measured radius without the exact side |H − c̃| is rejected.</summary>
    private readonly bool _measuredWithRest;
    private long _structuredRuns;

    /// <summary>How many head bounds so far took the O(N) AdmittedKeysOnly path (for tests).</summary>
    internal long StructuredHeadRuns => Interlocked.Read(ref _structuredRuns);

    public RoundingErrorAnalysis(TransformerModel model) : this(model, Rounding.Unit<T>()) { }

    /// <summary>
    /// With another unit roundoff for the pass than T's own (only for tests that show a wrong rounding
    /// model is caught), and optionally without the O(N) bounds of AdmittedKeysOnly heads (every head
    /// bounded densely: the reference the structured bounds are compared with), and optionally a priori
    /// only (<paramref name="measurePassRadius"/> false: no layer but the approximate ones gets its pass
    /// radius measured — the analysis whose own rounding model the tests hold to the observed errors).
    /// </summary>
    internal RoundingErrorAnalysis(TransformerModel model, double unitRoundoff, bool structuredHeads = true, bool measurePassRadius = true, bool measuredWithRest = true)
    {
        _measuredWithRest = measuredWithRest;
        _structuredHeads = structuredHeads;
        _measure = measurePassRadius;
        _model = model;
        _unit = unitRoundoff;
        _bounds = BoundsModel.Create<T>(model);
        _plan = new ReplicationPlan(model, _bounds);
        _heads = Structured.ExecutionPlan.Compile(model);
    }

    /// <summary>Only for the test that shows a wrong pair treatment is caught: both heads of a ReLU pair drop their exact deviation.</summary>
    internal bool SilentPairsMutant { get; init; }

    /// <summary>Number of symbols of the affine forms (replicated rows that layers write).</summary>
    public int Symbols => _plan.Symbols;

    /// <summary>
    /// Starts a pass on the exact embedding <paramref name="h0"/> (N × D, token-major) of a prompt of n
    /// examples; the pass runs fl_T(h0), so the first bound is |fl_T(h0) − h0|.
    /// </summary>
    public Pass Begin(double[] h0, int n)
    {
        int D = _model.Dimension, N = _model.Embedding.TokenCount(n);
        if (!_pool.TryPop(out var pass)) pass = new Pass(this);
        pass.Start(h0, n, N, D);
        return pass;
    }

    /// <summary>One pass's bounds (rented from a pool; <see cref="Finish"/> returns it).</summary>
    public sealed class Pass
    {
        private readonly RoundingErrorAnalysis<T> _owner;
        private readonly ResidualBounds _residual = new();
        private readonly HeadBounds<T> _head;
        private readonly MlpBounds<T> _mlp;
        private readonly Enclosure _stream = new(1, 1, 0);
        private readonly MeasuredPassRadius _measured;
        private int[] _roles = Array.Empty<int>();
        private int _n, _tokens, _dim, _symbols, _layer;
        private double _responsibilities;
        private bool[] _rebased = Array.Empty<bool>(), _referenced = Array.Empty<bool>(), _retired = Array.Empty<bool>();
        private double[] _kept = Array.Empty<double>();
        /// <summary>Current symbol generation of every replicated row (<see cref="Rebase"/>).</summary>
        private int[] _generation = Array.Empty<int>();

        internal Pass(RoundingErrorAnalysis<T> owner)
        {
            _owner = owner;
            _measured = new MeasuredPassRadius(owner._measuredWithRest);
            _head = new HeadBounds<T>(owner._unit);
            _mlp = new MlpBounds<T>(owner._unit);
        }

        internal void Start(double[] h0, int n, int N, int D)
        {
            _n = n; _tokens = N; _dim = D; _symbols = _owner._plan.Symbols; _layer = 0; _responsibilities = double.NaN;
            _measured.Clear();
            _stream.Reshape(D, N, _symbols);
            if (_roles.Length != N) _roles = new int[N];
            if (_rebased.Length < D) { _rebased = new bool[D]; _generation = new int[D]; }
            Array.Clear(_generation, 0, D);
            for (int i = 0; i < N; i++) _roles[i] = _owner._model.Embedding.RoleOf(i, n);
            for (int i = 0; i < N; i++)
                for (int c = 0; c < D; c++) _stream.Exact[c * N + i] = BoundsModel.Delta<T>(h0[i * D + c]);
        }

        /// <summary>The bound on every element of the stream (D × N, feature-major), for tests.</summary>
        public double[] Bounds
        {
            get
            {
                var b = new double[_dim * _tokens];
                for (int k = 0; k < b.Length; k++) b[k] = _stream.Radius(k);
                return b;
            }
        }

        /// <summary>
        /// Bounds layer l, given its input <paramref name="h"/> as the executor holds it (feature-major,
        /// row stride <paramref name="ld"/>): updates the stream's bounds to the layer's output.
        /// </summary>
        public LayerErrorBounds Layer(int l, ReadOnlySpan<T> h, int ld)
        {
            int N = _tokens, D = _dim;
            if (l != _layer) throw new InvalidOperationException($"layers must be bounded in order: expected layer {_layer}, got {l}");
            var layer = _owner._bounds.Layers[l];
            LoadStream(h, ld);
            _measured.Apply(_stream);
            if (l > 0) Rebase(_owner._plan.Rebased[l - 1], _owner._plan.LiveAfter[l - 1]);
            _stream.RefreshNorms();
            _layer = l + 1;
            _residual.Begin(layer.Written, D, N, _symbols);
            double margin = double.PositiveInfinity, leak = 0, scoreError = 0;
            if (layer is BoundsModel.Attention a)
            {
                for (int hi = 0; hi < a.Heads.Length; hi++)
                {
                    var head = a.Heads[hi];
                    var plans = _owner._heads.Heads[l];
                    var plan = _owner._structuredHeads && hi < plans.Length ? plans[hi] : null;
                    // A ReLU pair (the plan proves it from the weights, §9.4): its exact side is linear (§8.11).
                    int pair = hi >= plans.Length || plans[hi].PairedWith < 0 ? 0 : plans[hi].PairedWith > hi && !_owner.SilentPairsMutant ? 1 : -1;
                    if (_head.Run(head, plan, _stream, _roles, _owner._bounds.Roles, _n, _owner._heads.MaxPosition, _residual, pair)) Interlocked.Increment(ref _owner._structuredRuns);
                    margin = Math.Min(margin, _head.CertifiedMargin);
                    leak = Math.Max(leak, _head.LeakageBound);
                    scoreError = Math.Max(scoreError, _head.ScoreErrorBound);
                }
            }
            else _mlp.Run((BoundsModel.Mlp)layer, _stream, _residual);
            // Every layer's pass radius is also measured at the next input (docs/math.md §8.9–§8.10); an
            // approximate layer (the log interpolant's long sum) always, even when the analysis is a-priori only.
            bool measure = _owner._measure || _owner._model.Layers[l] is MlpLayer { DeclaredError: > 0 };
            _residual.Commit<T>(_stream, _stream.G, _stream.Exact, _owner._unit, Rounding.SelfInflation(layer.LongestSum(N)), measure ? _measured : null);
            _stream.RefreshNorms();
            NoteReadOut(_owner._model.Layers[l].Provenance.Decode);
            double worst = 0;
            for (int k = 0; k < D * N; k++) worst = Worst(worst, _stream.Radius(k));
            return new LayerErrorBounds(worst, margin, leak, scoreError);
        }

        /// <summary>
        /// The read-out bounds after the last layer, given the pass's final stream <paramref name="h"/>
        /// (feature-major, row stride <paramref name="ld"/>: the last layer's pass radius is measured on it,
        /// docs/math.md §8.10); returns the pass to the pool.
        /// </summary>
        public OutputErrorBounds Finish(ReadOnlySpan<T> h, int ld)
        {
            LoadStream(h, ld);
            _measured.Apply(_stream);
            _stream.RefreshNorms();
            var model = _owner._model;
            int N = _tokens, q = _n;
            double beta = 0;
            foreach (var block in model.ReadOut.Beta)
                for (int a = 0; a < block.Width; a++) beta = Worst(beta, _stream.Radius(block[a] * N + q));
            var result = new OutputErrorBounds(Worst(0, _stream.Radius(model.ReadOut.Prediction * N + q)), beta,
                double.IsNaN(_responsibilities) ? double.NaN : _responsibilities);
            _owner._pool.Push(this);
            return result;
        }

        private void NoteReadOut(DecodeKind decode)
        {
            var readOut = _owner._model.ReadOut;
            int[]? rows = decode switch
            {
                DecodeKind.Responsibilities when readOut.Responsibilities is { } r => r,
                DecodeKind.SymmetricWeights when readOut.SymmetricWeightPlusOne >= 0 => new[] { readOut.SymmetricWeightPlusOne },
                _ => null,
            };
            if (rows is null) return;
            double worst = double.IsNaN(_responsibilities) ? 0 : _responsibilities;
            foreach (int r in rows)
                for (int i = 0; i < _n; i++) worst = Worst(worst, _stream.Radius(r * _tokens + i));
            _responsibilities = worst;
        }

        /// <summary>
        /// The layer input as an enclosure: center = the pass's own values, pass radius 0, and the exact
        /// deviation (coefficients and remainder) carried over from the previous layer.
        /// </summary>
        private void LoadStream(ReadOnlySpan<T> h, int ld)
        {
            int N = _tokens, D = _dim, S = _symbols;
            for (int c = 0; c < D; c++)
                for (int i = 0; i < N; i++)
                {
                    int k = c * N + i;
                    double v = double.CreateChecked(h[c * ld + i]);
                    _stream.Center[k] = v;
                    _stream.Pass[k] = 0;
                    _stream.Integral[k] = _stream.Exact[k] == 0 && v == Math.Floor(v)
                        && _stream.GNorm[k] == 0;
                }
        }

        /// <summary>
        /// Fresh symbols for the replicated rows the previous layer wrote (docs/math.md §8.5). Row r holds
        /// the same exact value H_r on every token, so its deviation on token i is dev_r,0 + (Ĥ_r,0 − Ĥ_r,i).
        /// Each row has two symbol slots (generations). The row takes the slot of its current generation,
        /// unless a live element of another row (<see cref="ReplicationPlan.LiveAfter"/>) still depends on
        /// that symbol — the responsibilities on the β an E-step read, through every gradient step of the
        /// M-step — in which case it switches generation and that dependence is kept. The slots taken are
        /// retired: every other element's coefficient on them moves to its remainder (|G_s|). The row keeps
        /// token 0's coefficients on the symbols live elements still use and are not retired (the same on
        /// every token: the exact value is); the rest of token 0's deviation, of size at most
        /// B_r = Σ|G_rest| + x, is B_r·σ_new (that defines σ_new, |σ_new| ≤ 1); the known difference of
        /// the pass's values is the remainder.
        /// </summary>
        private void Rebase(int[] rows, bool[] live)
        {
            if (rows.Length == 0 || _symbols == 0) return;
            int N = _tokens, D = _dim, S = _symbols;
            var plan = _owner._plan;
            if (_referenced.Length < S) { _referenced = new bool[S]; _retired = new bool[S]; _kept = new double[S]; }
            var referenced = _referenced.AsSpan(0, S); var retired = _retired.AsSpan(0, S); var kept = _kept.AsSpan(0, S);
            referenced.Clear(); retired.Clear();
            foreach (int r in rows) _rebased[r] = true;
            for (int c = 0; c < D; c++)
            {
                if (_rebased[c] || !live[c]) continue;
                for (int i = 0; i < N; i++)
                {
                    int k = c * N + i;
                    if (_stream.GNorm[k] == 0) continue;
                    var g = _stream.G.AsSpan(k * S, S);
                    for (int s = 0; s < S; s++) if (g[s] != 0) referenced[s] = true;
                }
            }
            foreach (int r in rows)
            {
                if (referenced[plan.SlotOf(r, _generation[r])]) _generation[r] ^= 1;
                retired[plan.SlotOf(r, _generation[r])] = true;
            }
            for (int c = 0; c < D; c++)
            {
                if (_rebased[c]) continue;
                for (int i = 0; i < N; i++)
                {
                    int k = c * N + i;
                    if (_stream.GNorm[k] == 0) continue;
                    var g = _stream.G.AsSpan(k * S, S);
                    foreach (int r in rows)
                    {
                        int s = plan.SlotOf(r, _generation[r]);
                        if (g[s] == 0) continue;
                        _stream.Exact[k] += Math.Abs(g[s]);
                        g[s] = 0;
                    }
                }
            }
            double inflate = 1 + Rounding.Gamma(S + 2, Rounding.DoubleUnit);   // the double sum of ≤ S + 1 magnitudes
            foreach (int r in rows)
            {
                var g0 = _stream.G.AsSpan(r * N * S, S);
                double bound = _stream.Exact[r * N];
                for (int s = 0; s < S; s++)
                {
                    if (referenced[s] && !retired[s]) kept[s] = g0[s];
                    else { bound += Math.Abs(g0[s]); kept[s] = 0; }
                }
                kept[plan.SlotOf(r, _generation[r])] = bound * inflate;
                double h0 = _stream.Center[r * N];
                for (int i = 0; i < N; i++)
                {
                    int k = r * N + i;
                    kept.CopyTo(_stream.G.AsSpan(k * S, S));
                    _stream.Exact[k] = Math.Abs(h0 - _stream.Center[k]) * (1 + Rounding.DoubleUnit);
                    _stream.Integral[k] = false;
                }
            }
            foreach (int r in rows) _rebased[r] = false;
        }

        private static double Worst(double a, double b) => double.IsNaN(b) || double.IsNaN(a) ? double.PositiveInfinity : Math.Max(a, b);
    }
}
