using System.Numerics;
using System.Collections.Concurrent;
using System.Numerics.Tensors;
using MorIcl.Construction.Model;
using MorIcl.Mixture;
using MorIcl.Runtime.Kernels;
using MorIcl.Runtime.Structured;

namespace MorIcl.Runtime;

/// <summary>
/// The fast executor: runs any constructed (or trained) model on a batch of prompts in precision T
/// (double or float). Prompts run in parallel, each on one thread with a pooled workspace reused by
/// every layer (no allocation per layer); without a trace it holds O(N·D) numbers per prompt.
/// The residual stream is kept feature-major (D × N, tokens padded to the vector width with zeros) so
/// projections, MLPs and attention vectorise over tokens. Attention scores are computed for tiles of
/// <see cref="AttentionKernels.RowTile"/> query rows with register-tiled kernels
/// (<see cref="AttentionKernels"/>), accumulated over head dimensions in order (positional
/// dimensions first), as the model requires for exact positional cancellation; the value aggregation
/// is a register-tiled weights × values product, or a sparse sum when a ReLU row has few positive
/// scores (linear heads, whose scores can be negative, always take the dense product). Softmax
/// subtracts the maximum. Results do not depend on the thread count.
/// <para>
/// With <see cref="ExecutorKind.Structured"/> (the default) each head first goes to the kernel of its
/// pattern in the compiled <see cref="Plan"/> (docs/math.md §9; <see cref="StructuredExecutor{T}"/>), which
/// runs it in O(N·(d_k + d_v)) without forming the N × N scores; a head without a pattern, or whose
/// pattern's condition fails on a prompt, runs densely as described above.
/// </para>
/// </summary>
public sealed partial class ModelExecutor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly CompiledModel<T> _model;
    private readonly ConcurrentStack<Workspace> _pool = new();
    private readonly StructuredExecutor<T>? _structured;
    private readonly Bounds.RoundingErrorAnalysis<T>? _analysis;
    /// <summary>The prompt's embedding written feature-major (null when the model's embedding rows overlap).</summary>
    private readonly FeatureMajorEmbedding? _embedding;
    public TransformerModel Model => _model.Source;
    /// <summary>The per-head plan (every head Dense when <see cref="Kind"/> is Dense).</summary>
    public ExecutionPlan Plan { get; }
    public ExecutorKind Kind { get; }

    /// <summary>
    /// An executor for <paramref name="model"/>: <paramref name="kind"/> picks the structured plan (heads of a
    /// proved pattern run in O(N)) or dense execution of every head. With <paramref name="boundRounding"/>
    /// every pass also runs the rounding analysis (<see cref="Bounds.RoundingErrorAnalysis{T}"/>, kept
    /// apart from the arithmetic: it sees each layer's input and nothing else), and its certificate
    /// carries the bounds and certifies decisions only when their margins exceed their scores' error.
    /// </summary>
    public ModelExecutor(TransformerModel model, ExecutorKind kind = ExecutorKind.Structured, bool boundRounding = false)
        : this(model, kind, boundRounding ? new Bounds.RoundingErrorAnalysis<T>(model) : null) { }

    /// <summary>An executor whose passes run <paramref name="analysis"/> (tests give it a deliberately wrong one).</summary>
    internal ModelExecutor(TransformerModel model, ExecutorKind kind, Bounds.RoundingErrorAnalysis<T>? analysis)
    {
        _model = new CompiledModel<T>(model);
        _embedding = FeatureMajorEmbedding.TryCreate(model);
        Kind = kind;
        Plan = ExecutionPlan.Compile(model);
        if (kind == ExecutorKind.Structured) _structured = new StructuredExecutor<T>(Plan, _model);
        _analysis = analysis;
    }

    /// <summary>
    /// Whether a pass without trace or rounding analysis keeps a replicated row (β_k after an example mean) at each role's
    /// first token only, filling the role's other tokens when a layer reads them token by token (docs/math.md §9.6;
    /// default true). The bits are the same either way.
    /// </summary>
    public bool ReplicatedRowsPerRole { get; init; } = true;

    /// <summary>
    /// Whether the structured kernels use the fused-row shortcuts of docs/math.md §9.6 (default true): a head's per-token
    /// content dimensions in one pass, its committed value rows in one pass with the next layer's example sums formed
    /// on the way, resets of finite rows kept per role, and rows of e^x remembered across a layer's E-step gates. The bits
    /// are the same either way.
    /// </summary>
    public bool FusedRows { get; init; } = true;

    /// <summary>
    /// Whether a gradient head's value rows that the next layer reads only through the sums formed ahead, and that the layer
    /// after resets, are left unwritten (docs/math.md §9.6, rows summed only; default true, with <see cref="FusedRows"/>, in
    /// a pass without trace or rounding bounds). A row is written on demand before anything else reads it. The bits are the
    /// same either way.
    /// </summary>
    public bool RowsSummedOnly { get; init; } = true;

    /// <summary>For a test only: every example sum formed ahead is one unit in the last place off (a wrong shortcut the tests must catch).</summary>
    internal bool PerturbSumsAhead { get; init; }
    /// <summary>For a test only: no sum formed ahead is taken, so the example means read the rows summed only (written first).</summary>
    internal bool RejectSumsAhead { get; init; }
    /// <summary>For a test only: rows summed only are never written (a wrong shortcut the tests must catch).</summary>
    internal bool SkipSummedOnlyWrites { get; init; }
    /// <summary>For a test only: rows summed only hold NaN on their examples until written (a read before the write shows).</summary>
    internal bool PoisonSummedOnly { get; init; }
    /// <summary>For a test only: every sum formed ahead is taken as not finite by its commit (the exact test reads the row).</summary>
    internal bool SumsAheadNotFinite { get; init; }
    /// <summary>For a test only: RoleConstantKeys heads run densely (the example means read their value rows from H).</summary>
    internal bool RoleConstantKeysDensely { get; init; }
    /// <summary>For a test only: a reset of a row summed only takes its pass (the reset MLP reads the row).</summary>
    internal bool ResetsReadSummedOnly { get; init; }

    private FusedRowCounts _counts;
    private readonly object _countsLock = new();

    /// <summary>How often each fused-row shortcut ran, summed over this executor's passes (tests check that a comparison exercised them).</summary>
    internal FusedRowCounts Counts { get { lock (_countsLock) return _counts; } }

    /// <summary>Whether head <paramref name="head"/> of layer <paramref name="layer"/> has a structured kernel on this executor (its pattern, exact in T).</summary>
    public bool RunsStructured(int layer, int head) => _structured?.Takes(layer, head) ?? false;

    /// <summary>The earlier head of layer <paramref name="layer"/> whose per-role weights head <paramref name="head"/> takes (docs/math.md §9.6, fused rows, item 9); −1 when none.</summary>
    internal int WeightsSharedWith(int layer, int head) => _structured?.SharedWith(layer, head) ?? -1;

    /// <summary>Runs every prompt (in parallel; results do not depend on the thread count).</summary>
    public ForwardResult[] Forward(IReadOnlyList<(RegressionData Examples, double[] Query)> prompts, bool trace = false, int? maxDegreeOfParallelism = null)
    {
        var results = new ForwardResult[prompts.Count];
        var options = Numerics.Parallelism.Options(maxDegreeOfParallelism);
        Parallel.For(0, prompts.Count, options, b => results[b] = Forward(prompts[b].Examples, prompts[b].Query, trace));
        return results;
    }

    public ForwardResult Forward(RegressionData examples, double[] query, bool trace = false) => Forward(examples, query, trace, null);

    /// <summary>As above; <paramref name="final"/> receives the stream after the last layer (N × D, token-major), for tests.</summary>
    internal ForwardResult Forward(RegressionData examples, double[] query, bool trace, Action<double[]>? final)
    {
        var model = _model.Source;
        // The token-major embedding only when the trace or the rounding analysis needs it; else straight into H.
        var h0 = trace || _analysis is not null ? PromptTokens.Embed(model, examples, query) : null;
        int n = examples.N, N = model.Embedding.TokenCount(n), D = model.Dimension;
        int ld = AttentionKernels.Padded<T>(N);
        var ws = Rent(ld, D);
        try
        {
            var H = ws.H;
            if (h0 is not null) Load(ws, h0, N, ld, D);
            else Load(ws, N, ld, D, examples, query);
            var traces = trace ? new List<double[]> { h0! } : null;
            var bounds = _analysis?.Begin(h0!, n);
            var boundTraces = trace && bounds is not null ? new List<double[]> { TokenMajor(bounds.Bounds, N, N, D) } : null;
            var layers = new LayerCertificate[_model.Layers.Length];
            int[] roles = Roles(n, N);
            ws.Lazy = ReplicatedRowsPerRole && traces is null && bounds is null;
            if (ws.Structured is { } so) so.SummedOnly.On = ws.Lazy && so.Fused && RowsSummedOnly && !FuseBlocks;
            if (traces is null && bounds is null)
            {
                // The block schedule; when a phase's bound fails after its blocks, the prompt again, layer by layer.
                if (!RunLayers(ws, N, ld, D, n, roles, layers, FuseBlocks))
                {
                    ws.DeltaClean = false;
                    Load(ws, N, ld, D, examples, query);
                    RunLayers(ws, N, ld, D, n, roles, layers, fuse: false);
                }
            }
            else for (int l = 0; l < _model.Layers.Length; l++)
            {
                var layerBounds = bounds?.Layer(l, H, ld);    // on the layer's input, before it runs
                layers[l] = RunLayer(l, ws, N, ld, D, n, roles);
                if (layerBounds is not null) layers[l] = layers[l].WithBounds(layerBounds);
                if (traces is not null) traces.Add(TokenMajor(H, N, ld, D));
                boundTraces?.Add(TokenMajor(bounds!.Bounds, N, N, D));
            }
            ws.Structured?.SummedOnly.MaterialiseAll(H, ld);
            FillReplicated(ws, n, ld);
            ws.DeltaClean = true;
            final?.Invoke(TokenMajor(H, N, ld, D));
            // The read-out only looks at the query token (index n): read it as token 0 of a one-token stream.
            var queryToken = new double[D];
            for (int c = 0; c < D; c++) queryToken[c] = double.CreateChecked(H[c * ld + n]);
            var output = bounds?.Finish(H, ld);
            var cert = new Certificate(layers, n <= model.MaxPromptLength, n, model.MaxPromptLength)
            {
                Precision = typeof(T) == typeof(float) ? "float" : "double",
                PredictionErrorBound = output?.Prediction ?? double.NaN,
                BetaErrorBound = output?.Beta ?? double.NaN,
                ResponsibilityErrorBound = output?.Responsibilities ?? double.NaN,
            };
            return new ForwardResult(queryToken[model.ReadOut.Prediction], PromptTokens.ReadBeta(model, queryToken, 0), cert, traces?.ToArray(), PromptTokens.ReadMixing(model, queryToken, 0))
            {
                ErrorBoundTrace = boundTraces?.ToArray(),
            };
        }
        finally { Release(ws); }
    }

    /// <summary>A workspace back to the pool, its pass's shortcut counts added to the executor's.</summary>
    private void Release(Workspace ws)
    {
        if (ws.Structured is { } sc)
        {
            sc.Counts.SummedWritten += sc.SummedOnly.Materialised;
            sc.SummedOnly.Materialised = 0;
            lock (_countsLock) _counts.Add(sc.Counts);
            sc.Counts = default;
        }
        _pool.Push(ws);
    }

    /// <summary>
    /// Layer <paramref name="layer"/> alone, on a residual stream <paramref name="before"/> (N × D, token-major)
    /// of a prompt with n examples: the stream after it and the layer's certificate, by the same kernels as
    /// <see cref="Forward(RegressionData, double[], bool)"/>.
    /// </summary>
    public (double[] After, LayerCertificate Certificate) ForwardLayer(int layer, double[] before, int n)
    {
        int N = _model.Source.Embedding.TokenCount(n), D = _model.Source.Dimension;
        if (layer < 0 || layer >= _model.Layers.Length) throw new ArgumentOutOfRangeException(nameof(layer));
        if (before.Length != (long)N * D) throw new ArgumentException($"the stream has {before.Length} numbers, expected N·D = {N}·{D}");
        int ld = AttentionKernels.Padded<T>(N);
        var ws = Rent(ld, D);
        try
        {
            Load(ws, before, N, ld, D);
            ws.Lazy = false;
            var cert = RunLayer(layer, ws, N, ld, D, n, Roles(n, N));
            ws.DeltaClean = true;
            return (TokenMajor(ws.H, N, ld, D), cert);
        }
        finally { Release(ws); }
    }

    private LayerCertificate RunLayer(int l, Workspace ws, int N, int ld, int D, int n, int[] roles)
    {
        var layer = _model.Layers[l];
        var scratch = ws.Structured;
        if (scratch is not null) { scratch.Layer = l; if (scratch.SummedOnly.Rows.Count > 0) WriteSummedOnly(l, ws, scratch, ld); }
        if (scratch is { StaleCount: > 0 }) FillStale(l, ws, scratch, n, ld);
        scratch?.BeginLayer(layer.WrittenRows);
        if (layer is CompiledModel<T>.Mlp && scratch is not null) _structured!.MlpUpdates(l, scratch);
        var cert = layer switch
        {
            CompiledModel<T>.Attention a => RunAttention(a, ws, N, ld, D, n, roles, l),
            CompiledModel<T>.Mlp m => RunMlp(m, (MlpLayer)_model.Source.Layers[l], ws, N, ld, D, l, _structured?.Mlp(l), n),
            _ => throw new InvalidOperationException(),
        };
        scratch?.EndLayer(layer.WrittenRows);
        return cert;
    }

    /// <summary>
    /// Rows summed only (docs/math.md §9.6) written before layer l, except where the plan proved l does not read them: the
    /// layer after their commit (its heads read them through the sums formed ahead; a head run densely, or a sum not taken,
    /// writes them first) and the one after that, whose MLP writes those its reset does not set without reading them.
    /// </summary>
    private void WriteSummedOnly(int l, Workspace ws, StructuredScratch<T> scratch, int ld)
    {
        var rows = scratch.SummedOnly.Rows;
        for (int i = rows.Count - 1; i >= 0; i--)
        {
            int c = rows[i], from = scratch.SummedOnly.LayerOf(c);
            if (l == from + 1 || (l == from + 2 && _model.Layers[l] is CompiledModel<T>.Mlp)) continue;
            scratch.SummedOnly.Materialise(c, ws.H, ld);
        }
    }

    /// <summary>
    /// Rows kept per role that layer l reads or writes token by token filled first: every stale row c with
    /// !PerRoleOnly(l, c) and !CommitsOnConstant(l, c), checked per group of rows with one condition.
    /// </summary>
    private void FillStale(int l, Workspace ws, StructuredScratch<T> scratch, int n, int ld)
    {
        foreach (var (need, rows) in _structured!.StaleChecks(l))
        {
            bool any = false;
            foreach (int c in rows) any |= scratch.Stale[c];
            if (!any || StructuredExecutor<T>.KnownConstant(need, scratch)) continue;
            foreach (int c in rows) if (scratch.Stale[c]) Fill(ws, c, n, ld);
        }
    }

    private int[] Roles(int n, int N)
    {
        var roles = new int[N];
        for (int i = 0; i < N; i++) roles[i] = _model.Source.Embedding.RoleOf(i, n);
        return roles;
    }

    /// <summary>H ← the token-major stream h (feature-major, padding 0), Delta ← 0, and the per-row finiteness flags.</summary>
    private void Load(Workspace ws, double[] h, int N, int ld, int D) =>
        Load(ws, N, ld, D, write => { for (int i = 0; i < N; i++) write(i, h.AsSpan(i * D, D)); });

    /// <summary>
    /// As above, from the tokens <paramref name="tokens"/> gives one by one (<see cref="FeatureMajorLoad{T}"/>).
    /// Delta is cleared only when a pass did not end normally: every completed pass leaves it at +0 (each commit
    /// adds and clears the rows its layer writes, and the other rows are never written).
    /// </summary>
    private void Load(Workspace ws, int N, int ld, int D, Action<PromptTokens.TokenAction> tokens)
    {
        BeginLoad(ws, D, ld);
        ws.NonFiniteRows = FeatureMajorLoad<T>.Load(ws.H, ld, D, N, tokens, ws.RowFinite, ws.Stage);
    }

    /// <summary>As above, the prompt's embedding written straight into H (<see cref="FeatureMajorEmbedding"/>) when the model's rows allow it.</summary>
    private void Load(Workspace ws, int N, int ld, int D, RegressionData examples, double[] query)
    {
        if (_embedding is null) { Load(ws, N, ld, D, write => PromptTokens.Embed(_model.Source, examples, query, write)); return; }
        BeginLoad(ws, D, ld);
        ws.NonFiniteRows = _embedding.Load(examples, query, ws.H, ld, ws.RowFinite);
    }

    /// <summary>Before H is loaded: the structured scratch for a new prompt, Delta at +0, the masks to be refilled.</summary>
    private void BeginLoad(Workspace ws, int D, int ld)
    {
        if (_structured is not null)
        {
            (ws.Structured ??= _structured.Scratch(ws.Capacity, _model)).BeginPrompt();
            ws.Structured.Fused = FusedRows;
            ws.Structured.PerturbAhead = PerturbSumsAhead;
            ws.ResetsReadSummedOnly = ResetsReadSummedOnly;
            ws.Structured.RejectAhead = RejectSumsAhead;
            ws.Structured.SummedOnly.SkipWrites = SkipSummedOnlyWrites;
            ws.Structured.SummedOnly.Poison = PoisonSummedOnly;
            ws.Structured.SumsNotFinite = SumsAheadNotFinite;
            ws.Structured.RefuseRoleConstantKeys = RoleConstantKeysDensely;
        }
        if (!ws.DeltaClean) Array.Clear(ws.Delta, 0, D * ld);
        ws.DeltaClean = false;
        Array.Clear(ws.MasksFilled);
    }

    private static double[] TokenMajor(double[] h, int N, int ld, int D)
    {
        var r = new double[N * D];
        for (int c = 0; c < D; c++)
            for (int i = 0; i < N; i++) r[i * D + c] = h[c * ld + i];
        return r;
    }

    private static double[] TokenMajor(T[] h, int N, int ld, int D)
    {
        var r = new double[N * D];
        for (int c = 0; c < D; c++)
            for (int i = 0; i < N; i++) r[i * D + c] = double.CreateChecked(h[c * ld + i]);
        return r;
    }

    /// <summary>Per-prompt scratch, feature-major with row stride ld (a multiple of the token padding).</summary>
    private sealed class Workspace
    {
        public readonly int Capacity;           // largest ld it holds
        public readonly T[] H, Delta, QT, KT, KPacked, VT, S, Z, Acc, Out, Masks, Scale;
        public readonly int[] Positive, Counts, Dense, Chunks;
        public readonly bool[] MasksFilled, Divide, RowFinite, BlockFinite;
        /// <summary>Per row: a reset of the current MLP layer done without its pass (<see cref="LazyResets"/>).</summary>
        public readonly bool[] Reset;
        public int NonFiniteRows;     // per admission table, for the current prompt
        /// <summary>Whether per-role commits may keep replicated rows per role (a pass without trace or rounding analysis).</summary>
        public bool Lazy;
        /// <summary>For a test only (<see cref="ModelExecutor{T}.ResetsReadSummedOnly"/>).</summary>
        public bool ResetsReadSummedOnly;
        /// <summary>Whether Delta is all +0 (a pass ended normally, or the workspace is new).</summary>
        public bool DeltaClean = true;
        /// <summary>Staging for <see cref="FeatureMajorLoad{T}"/>: Block tokens × D.</summary>
        public readonly T[] Stage;
        public StructuredScratch<T>? Structured;   // created at the first structured head
        public PhaseScratch? Phases;               // created at the first phase of the block schedule
        public Workspace(CompiledModel<T> m, int ld, int d)
        {
            Capacity = ld;
            H = GC.AllocateUninitializedArray<T>(d * ld); Delta = new T[d * ld];
            Stage = new T[FeatureMajorLoad<T>.Block * d];
            QT = new T[m.MaxDk * ld]; KT = new T[m.MaxDk * ld]; KPacked = new T[m.MaxDk * ld]; VT = new T[m.MaxDv * ld];
            S = new T[AttentionKernels.RowTile * ld];
            Z = new T[Math.Max(1, m.MaxHidden) * Math.Max(MlpBlock, LoweredMlp<T>.Block)]; Acc = new T[MlpBlock];
            Out = new T[AttentionKernels.RowTile * m.MaxDv];
            Positive = new int[AttentionKernels.RowTile * ld]; Counts = new int[AttentionKernels.RowTile]; Chunks = new int[ld]; Dense = new int[AttentionKernels.RowTile]; Scale = new T[AttentionKernels.RowTile];
            Masks = new T[m.Admissions * 2 * m.Roles * ld]; MasksFilled = new bool[m.Admissions]; Divide = new bool[AttentionKernels.RowTile]; RowFinite = new bool[d]; BlockFinite = new bool[d]; Reset = new bool[d];
        }
    }

    /// <summary>Tokens per MLP block: the hidden activations of one block stay in cache.</summary>
    private const int MlpBlock = 256;

    private Workspace Rent(int ld, int d)
    {
        while (_pool.TryPop(out var ws))
            if (ws.Capacity >= ld) return ws;   // smaller ones are dropped; they are rebuilt at the larger size
        return new Workspace(_model, ld, d);
    }

    /// <summary>dst row a (length ld) = Σ over row a's non-zeros w · H[col], in column order.</summary>
    internal static void Project(CompiledModel<T>.SparseRows m, T[] h, int ld, T[] dst) => Project(m, h, ld, dst, 0, ld);

    /// <summary>As above on the tokens [lo, lo + count) only (element-wise: the same bits there).</summary>
    internal static void Project(CompiledModel<T>.SparseRows m, T[] h, int ld, T[] dst, int lo, int count)
    {
        for (int a = 0; a < m.Rows; a++)
        {
            var d = dst.AsSpan(a * ld + lo, count);
            int e0 = m.Start[a], e1 = m.Start[a + 1];
            if (e0 == e1) { d.Clear(); continue; }
            TensorPrimitives.Multiply(h.AsSpan(m.Cols[e0] * ld + lo, count), m.Values[e0], d);
            for (int e = e0 + 1; e < e1; e++) RowKernels<T>.AddScaled(d, h.AsSpan(m.Cols[e] * ld + lo, count), m.Values[e]);
        }
    }

    private LayerCertificate RunAttention(CompiledModel<T>.Attention layer, Workspace ws, int N, int ld, int D, int n, int[] roles, int index)
    {
        const int tile = AttentionKernels.RowTile;
        double minMargin = double.PositiveInfinity, maxLeak = 0;
        T invN = T.One / T.CreateChecked(N);
        var delta = ws.Delta;
        int limit = N / 16;
        bool hasSoftmax = false;
        for (int headIndex = 0; headIndex < layer.Heads.Length; headIndex++)
        {
            var head = layer.Heads[headIndex];
            int dk = head.Dk, dv = head.OutRows.Length;
            bool relu = head.Activation == Activation.Relu;
            bool softmax = head.Activation == Activation.Softmax;
            bool linear = head.Activation == Activation.Linear;   // admits every pair (AttentionHead checks)
            hasSoftmax |= softmax;
            if (_structured is not null
                && _structured.TryRun(index, headIndex, head, new HeadStream<T>(ws.H, delta, ws.QT, ws.KT, ws.VT, N, n, ld, ws.Structured!), out double m, out double lk))
            {
                minMargin = Math.Min(minMargin, m);
                maxLeak = Math.Max(maxLeak, lk);
                continue;
            }
            if (ws.Structured is { StaleCount: > 0 } st)
                foreach (var cols in new[] { head.QCols, head.KCols, head.VCols, head.OutRows })
                    foreach (int c in cols) if (st.Stale[c]) Fill(ws, c, n, ld);
            if (ws.Structured is { } so && so.SummedOnly.Rows.Count > 0)
                foreach (var cols in new[] { head.QCols, head.KCols, head.VCols, head.OutRows }) so.SummedOnly.WriteAmong(cols, ws.H, ld);
            ws.Structured?.Flush(head.OutRows, delta, ld, n);   // the dense head writes per token
            Project(head.QRows, ws.H, ld, ws.QT);
            Project(head.KRows, ws.H, ld, ws.KT);
            AttentionKernels.PackKeys<T>(ws.KT, ld, dk, ld, ws.KPacked);
            Project(head.VRows, ws.H, ld, ws.VT);
            int maskBase = 0;
            if (!((relu || linear) && head.AdmitsAll))
            {
                maskBase = head.AdmissionId * 2 * _model.Roles * ld;
                if (!ws.MasksFilled[head.AdmissionId])
                {
                    FillMasks(head.Admission, ws.Masks.AsSpan(maskBase, 2 * _model.Roles * ld), N, ld, roles);
                    ws.MasksFilled[head.AdmissionId] = true;
                }
            }
            // Largest score over the pairs a ReLU head does not admit, over all its query rows.
            T worstOut = T.NegativeInfinity;
            for (int i0 = 0; i0 < N; i0 += tile)
            {
                // s[r, j] = Σ_a q_(i0+r),a k_j,a for the tile's rows, accumulated in dimension order.
                AttentionKernels.ScoresPacked<T>(ws.QT, ld, i0, ws.KPacked, dk, ld, ws.S, ld);
                int dense = 0;
                // Full tiles of ReLU rows of one query role: one fused pass for positives and margin.
                bool tileFused = relu && i0 + tile <= N && (head.AdmitsAll || (roles[i0] == roles[i0 + tile - 1]));
                if (tileFused)
                {
                    int qr = roles[i0];
                    var mask = head.AdmitsAll ? default : ws.Masks.AsSpan(maskBase + 2 * qr * ld, ld);
                    bool self = !head.AdmitsAll && head.Admission[qr * _model.Roles + qr] == Admit.Self;
                    RowPasses<T>.ReluTile(ws.S, ld, N, mask, self, i0, ref worstOut, limit, ws.Counts, ws.Positive, ws.Chunks);
                }
                for (int r = 0; r < tile && i0 + r < N; r++)
                {
                    int i = i0 + r;
                    T scale;
                    if (tileFused)
                    {
                        var s = ws.S.AsSpan(r * ld, N);
                        int count = ws.Counts[r];
                        if (count == 0) continue;
                        if (count <= limit)
                        {
                            SparseSum(s, ws.Positive.AsSpan(r * ld, count), ws.VT, ld, head.OutRows, delta, i, invN);
                            continue;
                        }
                        TensorPrimitives.Max(s, T.Zero, s);
                        ws.S.AsSpan(r * ld + N, ld - N).Clear();   // padding carries no weight
                        scale = invN;
                    }
                    else if (linear)
                    {
                        // Weights s_ij / N of either sign: the dense product over every key.
                        ws.S.AsSpan(r * ld + N, ld - N).Clear();   // padding carries no weight
                        scale = invN;
                    }
                    else if (relu)
                    {
                        var s = ws.S.AsSpan(r * ld, N);
                        if (!head.AdmitsAll)
                        {
                            int qr = roles[i];
                            var na = ws.Masks.AsSpan(maskBase + 2 * qr * ld, ld);
                            bool self = head.Admission[qr * _model.Roles + qr] == Admit.Self;
                            if (self) na[i] = T.Zero;
                            worstOut = RowPasses<T>.MaxMasked(ws.S.AsSpan(r * ld, ld), na, worstOut);
                            if (self) na[i] = RowPasses<T>.AllBits;
                        }
                        // Positive scores (NaN counts: it stays NaN and is caught by the finiteness check).
                        int count = RowKernels<T>.ScanPositive(s, limit, ws.Positive);
                        if (count == 0) continue;
                        if (count <= limit)
                        {
                            SparseSum(s, ws.Positive.AsSpan(0, count), ws.VT, ld, head.OutRows, delta, i, invN);
                            continue;
                        }
                        TensorPrimitives.Max(s, T.Zero, s);
                        ws.S.AsSpan(r * ld + N, ld - N).Clear();   // padding carries no weight
                        scale = invN;
                    }
                    else
                    {
                        var (margin, leak, sum) = SoftmaxRow(head, ws, maskBase, r, i, ld, roles);
                        minMargin = Math.Min(minMargin, margin);
                        maxLeak = Math.Max(maxLeak, leak);
                        scale = sum;                                 // divided by below
                    }
                    ws.Scale[dense] = scale;
                    ws.Divide[dense] = softmax;
                    ws.Dense[dense++] = r;
                }
                if (dense == 0 || dv == 0) continue;   // a head whose V is all zero still has its margins
                // out[r, v] = Σ_j w[r, j] v[v, j] for the tile's dense rows.
                AttentionKernels.WeightedSums<T>(ws.S, ld, ws.Dense.AsSpan(0, dense), ws.VT, ld, dv, ld, ws.Out, dv);
                for (int t = 0; t < dense; t++)
                {
                    int i = i0 + ws.Dense[t];
                    T scale = ws.Scale[t];
                    if (ws.Divide[t]) for (int v = 0; v < dv; v++) delta[head.OutRows[v] * ld + i] += ws.Out[t * dv + v] / scale;
                    else for (int v = 0; v < dv; v++) delta[head.OutRows[v] * ld + i] += ws.Out[t * dv + v] * scale;
                }
            }
            if (relu && !head.AdmitsAll)
            {
                // The smallest margin over the rows, −max over every row's non-admitted scores (max is exact).
                double worst = double.CreateChecked(worstOut);
                if (worst != double.NegativeInfinity) minMargin = Math.Min(minMargin, -worst);
            }
        }
        bool finite = Commit(ws, layer.WrittenRows, N, ld, n);
        bool inDomain = finite && minMargin >= 0 && (!hasSoftmax || maxLeak <= Certificate.LeakageTolerance);
        return new LayerCertificate(index, minMargin, maxLeak, inDomain, finite);
    }

    /// <summary>
    /// Key masks per query role (all bits set or zero, one per key): row 2·qr "not admitted" (No, or
    /// Self — the query's own key is taken out per row), row 2·qr + 1 "admitted" (Yes). Padding is in neither.
    /// </summary>
    private void FillMasks(Admit[] admission, Span<T> masks, int N, int ld, int[] roles)
    {
        int R = _model.Roles;
        T all = RowPasses<T>.AllBits;
        for (int qr = 0; qr < R; qr++)
        {
            var na = masks.Slice(2 * qr * ld, ld); var yes = masks.Slice((2 * qr + 1) * ld, ld);
            for (int j = 0; j < N; j++)
            {
                bool admitted = admission[qr * R + roles[j]] == Admit.Yes;
                na[j] = admitted ? T.Zero : all;
                yes[j] = admitted ? all : T.Zero;
            }
            na[N..].Clear(); yes[N..].Clear();
        }
    }

    /// <summary>
    /// Softmax of score row r (query i) in place, unnormalised: s_j ← exp(s_j − max), padding 0. Returns the
    /// row's margin (best admitted − best non-admitted score), its leakage (weight on non-admitted keys) and
    /// the normaliser Σ_j exp(s_j − max), by which the caller divides the weighted sums.
    /// </summary>
    private (double Margin, double Leak, T Sum) SoftmaxRow(CompiledModel<T>.Head head, Workspace ws, int maskBase, int r, int i, int ld, int[] roles)
    {
        int qr = roles[i];
        var na = ws.Masks.AsSpan(maskBase + 2 * qr * ld, ld); var yes = ws.Masks.AsSpan(maskBase + (2 * qr + 1) * ld, ld);
        bool self = head.Admission[qr * _model.Roles + qr] == Admit.Self;
        if (self) { na[i] = T.Zero; yes[i] = RowPasses<T>.AllBits; }
        var s = ws.S.AsSpan(r * ld, ld);
        var (bestInT, bestOutT) = RowPasses<T>.MaxInOut(s, yes, na);
        double bestIn = double.CreateChecked(bestInT), bestOut = double.CreateChecked(bestOutT);
        bool any = bestIn > double.NegativeInfinity;
        double margin = !any ? double.NegativeInfinity : bestOut == double.NegativeInfinity ? double.PositiveInfinity : bestIn - bestOut;
        T max = T.Max(bestInT, bestOutT);
        var (sum, leakSum) = RowPasses<T>.ExpRow(s, max, yes, na);
        if (self) { na[i] = RowPasses<T>.AllBits; yes[i] = T.Zero; }
        double leak = any ? Math.Max(double.CreateChecked(leakSum / sum), 0) : 1.0;
        return (margin, leak, sum);
    }

    /// <summary>
    /// H += Delta and Delta = 0 on the rows the layer writes (the others hold Delta = 0; only the sign
    /// of a zero could differ from adding it), padding columns back to 0; whether all of H is finite
    /// (per-row flags, so rows the layer does not touch keep their earlier verdict).
    /// </summary>
    private static bool Commit(Workspace ws, int[] rows, int N, int ld, int n = -1)
    {
        if (ws.Structured is { } sc && n >= 0) CommitPerRole(ws, sc, rows, N, ld, n);
        foreach (int c in rows)
        {
            if (ws.Structured is { } st && n >= 0 && st.Pending[c] == PendingState.PerRole) continue;
            if (ws.Structured is { } ss && ss.Stale[c]) Fill(ws, c, N - 1 - (ss.Roles - 2), ld);   // n examples of N tokens
            // A row whose examples a kernel committed: the other tokens (and the padding) take their Delta.
            int from = ws.Structured is { } th && n >= 0 && th.Through[c] ? n : 0;
            bool f = RowKernels<T>.AddAndClear(ws.H.AsSpan(c * ld + from, ld - from), ws.Delta.AsSpan(c * ld + from, ld - from))
                && (from == 0 || ws.Structured!.ThroughFinite[c]);
            if (f != ws.RowFinite[c]) { ws.RowFinite[c] = f; ws.NonFiniteRows += f ? -1 : 1; }
            ws.H.AsSpan(c * ld + N, ld - N).Clear();
        }
        return ws.NonFiniteRows == 0;
    }

    /// <summary>A replicated row kept per role (<see cref="StructuredScratch{T}.Stale"/>): every example takes the first one's value.</summary>
    private static void Fill(Workspace ws, int c, int n, int ld) => ws.Structured!.Fill(ws.H, c, n, ld);

    /// <summary>Every replicated row filled (the end of a pass, or before a phase of the block schedule).</summary>
    private static void FillReplicated(Workspace ws, int n, int ld)
    {
        if (ws.Structured is not { StaleCount: > 0 } sc) return;
        for (int c = 0; c < sc.Stale.Length; c++) if (sc.Stale[c]) Fill(ws, c, n, ld);
    }

    /// <summary>After a commit done block by block (<see cref="LoweredMlp{T}.Run"/>): padding back to 0 and the finiteness flags, as <see cref="Commit"/>.</summary>
    private static bool Committed(Workspace ws, int[] rows, int N, int ld)
    {
        foreach (int c in rows)
        {
            bool f = ws.BlockFinite[c];
            if (f != ws.RowFinite[c]) { ws.RowFinite[c] = f; ws.NonFiniteRows += f ? -1 : 1; }
            ws.H.AsSpan(c * ld + N, ld - N).Clear();
        }
        return ws.NonFiniteRows == 0;
    }

    /// <summary>
    /// The commit of rows whose update this layer is one value per role (<see cref="PendingState.PerRole"/>; Delta
    /// holds +0 there): h_i + δ_role(i), the dense commit's sums. On a row that is role-constant before the layer
    /// each role's sum is formed once and written to its tokens; any other row takes its update through Delta.
    /// </summary>
    private static void CommitPerRole(Workspace ws, StructuredScratch<T> sc, int[] rows, int N, int ld, int n)
    {
        var stream = new HeadStream<T>(ws.H, ws.Delta, ws.QT, ws.KT, ws.VT, N, n, ld, sc);
        foreach (int c in rows)
        {
            if (sc.Pending[c] != PendingState.PerRole) continue;
            if (!stream.RoleConstant(c))
            {
                sc.Flush(c, ws.Delta, ld, n);
                continue;
            }
            bool f = true;
            for (int r = 0; r < sc.Roles; r++)
            {
                var (start, count) = HeadStream<T>.RangeOf(r, n);
                if (count == 0) continue;
                T v = ws.H[c * ld + start] + sc.RoleDelta[c * sc.Roles + r];
                if (ws.Lazy && count > 1) { ws.H[c * ld + start] = v; if (!sc.Stale[c]) { sc.Stale[c] = true; sc.StaleCount++; } }
                else ws.H.AsSpan(c * ld + start, count).Fill(v);
                f &= T.IsFinite(v);
            }
            if (f != ws.RowFinite[c]) { ws.RowFinite[c] = f; ws.NonFiniteRows += f ? -1 : 1; }
        }
    }

    /// <summary>
    /// A ReLU row with few positive scores: for each value dimension v,
    /// delta[out_v, i] += (1/N)·Σ_{j ∈ positive} s_j·V[v, j], in ascending j.
    /// </summary>
    private static void SparseSum(ReadOnlySpan<T> s, ReadOnlySpan<int> positive, T[] vt, int ld, int[] outRows, T[] delta, int i, T invN)
    {
        for (int v = 0; v < outRows.Length; v++)
        {
            T acc = T.Zero;
            var vrow = vt.AsSpan(v * ld, ld);
            foreach (int j in positive) acc += s[j] * vrow[j];
            delta[outRows[v] * ld + i] += acc * invN;
        }
    }

    private static LayerCertificate RunMlp(CompiledModel<T>.Mlp mlp, MlpLayer source, Workspace ws, int N, int ld, int D, int index, LoweredMlp<T>? lowered, int n)
    {
        // The declared input ranges are checked on the layer's input (before it writes).
        var h = ws.H;
        // Rows summed only: this MLP reads those its lazy resets do not set (and any its declared input ranges read).
        bool[]? skip = lowered is not null ? LazyResets(ws, lowered) : null;
        if (ws.Structured is { } so && so.SummedOnly.Rows.Count > 0)
        {
            var rows = so.SummedOnly.Rows;
            for (int i = rows.Count - 1; i >= 0; i--)
                if (skip is null || !skip[rows[i]] || source.InputRanges.Length > 0) so.SummedOnly.Materialise(rows[i], h, ld);
        }
        double slack = source.InputRanges.Length == 0 ? double.PositiveInfinity
            : LayerCertificate.SlackOf(source, (i, row) => double.CreateChecked(h[row * ld + i]), N);
        // Per token (vectorised over a block of tokens): z_u = ReLU(b1_u + Σ_k W1[u,k] h_k) in column
        // order, then Delta[out_r] = Σ_u W2[r,u] z_u in unit order, then the constant rows. The MLP
        // reads h before it writes: outputs go through Delta. A lowered MLP (the structured path) computes the same.
        bool finite = false;
        if (lowered is not null)
        {
            lowered.Run(ws.H, ws.Delta, ld, ws.Z, mlp.WrittenRows, ws.BlockFinite, skip);
            if (skip is not null) CommitResets(ws, lowered, n, ld);
            finite = Committed(ws, mlp.WrittenRows, N, ld);
        }
        else for (int j0 = 0; j0 < ld; j0 += MlpBlock) MlpBlockOutputs(mlp, ws, ld, j0, Math.Min(MlpBlock, ld - j0));
        if (lowered is null) finite = Commit(ws, mlp.WrittenRows, N, ld);
        // The declared error is derived for double evaluation (LogApproximation.RoundingBound); in any
        // other precision no bound is declared, so the certificate says +∞ rather than a wrong number.
        double declared = source.DeclaredError == 0 ? 0 : typeof(T) == typeof(double) ? source.DeclaredError : double.PositiveInfinity;
        return new LayerCertificate(index, double.PositiveInfinity, 0, finite && slack >= 0, finite, slack, declared);
    }

    /// <summary>
    /// The reset rows of a lowered MLP (<see cref="LoweredMlp{T}.Resets"/>) that are finite on every token, marked in
    /// <see cref="Workspace.Reset"/>: their reset gives +0 everywhere, so it is written per role (<see cref="CommitResets"/>)
    /// instead of by a pass; null when there is none (or the pass keeps no row per role).
    /// </summary>
    private static bool[]? LazyResets(Workspace ws, LoweredMlp<T> mlp)
    {
        if (!ws.Lazy || ws.Structured is not { Fused: true } || mlp.Resets.Length == 0) return null;
        bool any = false;
        foreach (int c in mlp.Resets) any |= ws.Reset[c] = ws.RowFinite[c] && !(ws.ResetsReadSummedOnly && ws.Structured.SummedOnly.Holds(c));
        return any ? ws.Reset : null;
    }

    /// <summary>
    /// The marked resets committed after the MLP's other outputs: +0 at each role's first token, the row kept per role
    /// (<see cref="StructuredScratch{T}.Stale"/>) and known role-constant, and finite. Every token the dense commit would
    /// set to +0 reads +0 from here on (docs/math.md §9.6).
    /// </summary>
    private static void CommitResets(Workspace ws, LoweredMlp<T> mlp, int n, int ld)
    {
        var sc = ws.Structured!;
        foreach (int c in mlp.Resets)
        {
            if (!ws.Reset[c]) continue;
            ws.Reset[c] = false;
            if (sc.SummedOnly.Holds(c)) sc.SummedOnly.Forget(c);   // set to +0 without being read
            for (int r = 0; r < sc.Roles; r++)
            {
                var (start, count) = HeadStream<T>.RangeOf(r, n);
                if (count > 0) ws.H[c * ld + start] = T.Zero;
            }
            if (n > 1 && !sc.Stale[c]) { sc.Stale[c] = true; sc.StaleCount++; }
            sc.Known[c] = sc.Constant[c] = sc.DeltaConstant[c] = true;
            ws.BlockFinite[c] = true;
            sc.Counts.Resets++;
        }
    }

    /// <summary>Delta += the MLP's output on the tokens [j0, j0 + w), w ≤ <see cref="MlpBlock"/> (per token, so the same bits in any blocking).</summary>
    private static void MlpBlockOutputs(CompiledModel<T>.Mlp mlp, Workspace ws, int ld, int j0, int w)
    {
        int hidden = mlp.Hidden;
        var w1 = mlp.W1Rows; var w2 = mlp.W2Rows;
        {
            for (int u = 0; u < hidden; u++)
            {
                var z = ws.Z.AsSpan(u * MlpBlock, w);
                z.Fill(mlp.B1[u]);
                for (int e = w1.Start[u]; e < w1.Start[u + 1]; e++) RowKernels<T>.AddScaled(z, ws.H.AsSpan(w1.Cols[e] * ld + j0, w), w1.Values[e]);
                TensorPrimitives.Max(z, T.Zero, z);   // ReLU; NaN stays NaN
            }
            var acc = ws.Acc.AsSpan(0, w);
            for (int r = 0; r < mlp.OutRows.Length; r++)
            {
                int e0 = w2.Start[r], e1 = w2.Start[r + 1];
                if (e0 == e1) continue;
                TensorPrimitives.Multiply(ws.Z.AsSpan(w2.Cols[e0] * MlpBlock, w), w2.Values[e0], acc);
                for (int e = e0 + 1; e < e1; e++) RowKernels<T>.AddScaled(acc, ws.Z.AsSpan(w2.Cols[e] * MlpBlock, w), w2.Values[e]);
                TensorPrimitives.Add(ws.Delta.AsSpan(mlp.OutRows[r] * ld + j0, w), acc, ws.Delta.AsSpan(mlp.OutRows[r] * ld + j0, w));
            }
            for (int b = 0; b < mlp.BiasRows.Length; b++) TensorPrimitives.Add(ws.Delta.AsSpan(mlp.BiasRows[b] * ld + j0, w), mlp.Bias[b], ws.Delta.AsSpan(mlp.BiasRows[b] * ld + j0, w));
        }
    }
}
