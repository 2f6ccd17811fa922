using System.Numerics;
using System.Runtime.InteropServices;
using MorIcl.Construction.Model;

namespace MorIcl.Runtime.Structured;

/// <summary>
/// What a structured head kernel reads and writes for one prompt: the feature-major residual stream H
/// (D × ld), the layer's pending update Delta, the projection buffers (rows of length ld) and the
/// token ranges of the roles: examples [0, n), the query n, auxiliary token a at n + 1 + a.
/// </summary>
internal readonly struct HeadStream<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly T[] H, Delta, QT, KT, VT;
    public readonly int N, Examples, Ld;
    public readonly StructuredScratch<T> Scratch;
    /// <summary>
    /// The window of tokens [Lo, Hi) whose per-token work a kernel does (docs/math.md §9.6, the block schedule);
    /// every token for a layer run on its own. Role counts and single-token keys are those of the whole prompt.
    /// </summary>
    public readonly int Lo, Hi;

    public HeadStream(T[] h, T[] delta, T[] qt, T[] kt, T[] vt, int tokens, int examples, int ld, StructuredScratch<T> scratch)
        : this(h, delta, qt, kt, vt, tokens, examples, ld, scratch, 0, int.MaxValue) { }

    private HeadStream(T[] h, T[] delta, T[] qt, T[] kt, T[] vt, int tokens, int examples, int ld, StructuredScratch<T> scratch, int lo, int hi)
    {
        H = h; Delta = delta; QT = qt; KT = kt; VT = vt; N = tokens; Examples = examples; Ld = ld; Scratch = scratch; Lo = lo; Hi = hi;
    }

    /// <summary>Whether the stream is a window of the block schedule (maxima are then kept across windows).</summary>
    public bool Windowed => Lo != 0 || Hi != int.MaxValue;

    /// <summary>The same stream with the per-token work restricted to the tokens [lo, hi).</summary>
    public HeadStream<T> Window(int lo, int hi) => new(H, Delta, QT, KT, VT, N, Examples, Ld, Scratch, lo, hi);

    /// <summary>The tokens of a role inside the window: first token and count (count 0 when none).</summary>
    public (int Start, int Count) Span(int role)
    {
        var (start, count) = Range(role);
        int lo = Math.Max(start, Lo), hi = (int)Math.Min((long)start + count, Hi);
        return hi > lo ? (lo, hi - lo) : (lo, 0);
    }

    /// <summary>First token and number of tokens of a role.</summary>
    public (int Start, int Count) Range(int role) => RangeOf(role, Examples);

    /// <summary>First token and number of tokens of a role in a prompt of n examples.</summary>
    public static (int Start, int Count) RangeOf(int role, int n) =>
        role == TokenRoles.Example ? (0, n) : role == TokenRoles.Query ? (n, 1) : (n + 1 + role - 2, 1);

    /// <summary>Row a (length ld) of a feature-major buffer.</summary>
    public static Span<T> Row(T[] buffer, int a, int ld) => buffer.AsSpan(a * ld, ld);

    /// <summary>
    /// Whether residual row c holds bitwise the same value on every token of each role (only the
    /// examples can differ; the other roles have one token). Cached in the scratch until a layer writes
    /// the row with an update that is not itself role-constant (<see cref="StructuredScratch{T}.EndLayer"/>).
    /// </summary>
    public bool RoleConstant(int c)
    {
        var s = Scratch;
        if (s.Known[c]) return s.Constant[c];
        if (s.SummedOnly.Holds(c)) s.SummedOnly.Materialise(c, H, Ld);   // read below: written first
        bool same = true;
        if (Examples > 1)
        {
            var row = H.AsSpan(c * Ld, Examples);
            same = typeof(T) == typeof(double)
                ? MemoryMarshal.Cast<T, long>(row).IndexOfAnyExcept(MemoryMarshal.Cast<T, long>(row)[0]) < 0
                : MemoryMarshal.Cast<T, int>(row).IndexOfAnyExcept(MemoryMarshal.Cast<T, int>(row)[0]) < 0;
        }
        s.Known[c] = true; s.Constant[c] = same;
        return same;
    }
}

/// <summary>How often the fused-row shortcuts of docs/math.md §9.6 ran.</summary>
internal struct FusedRowCounts
{
    public long Scores, Commits, SumsAhead, SumsUsed, Resets, OnConstant, ScoresInOrder, MaximaKnown, SummedOnly, SummedWritten, QuotientOnConstant, ExpRowsRemembered, WeightsShared;
    public void Add(in FusedRowCounts o) { Scores += o.Scores; Commits += o.Commits; SumsAhead += o.SumsAhead; SumsUsed += o.SumsUsed; Resets += o.Resets; OnConstant += o.OnConstant; ScoresInOrder += o.ScoresInOrder; MaximaKnown += o.MaximaKnown; SummedOnly += o.SummedOnly; SummedWritten += o.SummedWritten; QuotientOnConstant += o.QuotientOnConstant; ExpRowsRemembered += o.ExpRowsRemembered; WeightsShared += o.WeightsShared; }
}

/// <summary>Where a row's update of the current layer is.</summary>
internal enum PendingState : byte
{
    /// <summary>No head wrote it yet: Delta holds +0.</summary>
    Untouched,
    /// <summary>Only role-constant updates so far, kept per role in <see cref="StructuredScratch{T}.RoleDelta"/>; Delta holds +0.</summary>
    PerRole,
    /// <summary>In Delta.</summary>
    InDelta,
}

/// <summary>Per-prompt scratch of the structured kernels (O(roles·N) numbers), pooled with the executor's workspace.</summary>
internal sealed class StructuredScratch<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly int Capacity;
    /// <summary>Scores per role group or per formed key, roles × ld.</summary>
    public readonly T[] Scores;
    /// <summary>Per-token accumulators and softmax normalisers, ld each.</summary>
    public readonly T[] Sum, Max, Normaliser;
    /// <summary>Queries and keys per role (roles × d_k), value sums per group (roles × d_v).</summary>
    public readonly T[] QueryOfRole, KeyOfRole, ValueSumOfGroup;
    /// <summary>Content maxima |q_a|, |k_a| per role (roles × d_k).</summary>
    public readonly double[] MaxQ, MaxK;
    /// <summary>
    /// Role-constancy per residual row of the current stream: known (Known[c]) and its value (Constant[c]);
    /// DeltaConstant[c]: whether every update the current layer made to row c so far is role-constant.
    /// </summary>
    public readonly bool[] Known, Constant, DeltaConstant;
    /// <summary>
    /// Role-constant updates of the current layer kept per role instead of in Delta (docs/math.md §9.6): per
    /// residual row its <see cref="PendingState"/> and one value per role (dimension × roles).
    /// </summary>
    public readonly T[] RoleDelta;
    public readonly PendingState[] Pending;
    public readonly int Roles;
    /// <summary>
    /// Rows whose examples a kernel committed itself this layer (<see cref="StructuredRowKernels{T}.CommitWeightedValue"/>):
    /// the commit adds Delta on the other tokens only; ThroughFinite[c] says whether the examples' sums were finite.
    /// </summary>
    public readonly bool[] Through, ThroughFinite;
    /// <summary>Whether this pass uses the fused-row shortcuts (<see cref="ModelExecutor{T}.FusedRows"/>).</summary>
    public bool Fused = true;
    /// <summary>How often each fused-row shortcut ran in this pass (for tests: a comparison is void if the path never ran).</summary>
    public FusedRowCounts Counts;
    /// <summary>Counts layers (the pair record below is valid within one).</summary>
    public int Epoch;
    /// <summary>The first head of a ReLU pair that ran structurally in layer epoch PairEpoch, and its margin.</summary>
    public int PairEpoch = -1, PairHead = -1;
    public double PairMargin;

    public StructuredScratch(int ld, int roles, int dk, int dv, int dimension)
    {
        Capacity = ld;
        Scores = new T[roles * ld]; Sum = new T[ld]; Max = new T[ld]; Normaliser = new T[ld];
        QueryOfRole = new T[roles * dk]; KeyOfRole = new T[roles * dk]; ValueSumOfGroup = new T[roles * dv];
        MaxQ = new double[roles * dk]; MaxK = new double[roles * dk];
        Known = new bool[dimension]; Constant = new bool[dimension]; DeltaConstant = new bool[dimension];
        Roles = roles; RoleDelta = new T[dimension * roles]; Pending = new PendingState[dimension];
        Through = new bool[dimension]; ThroughFinite = new bool[dimension]; Stale = new bool[dimension];
        _aheadSum = new T[dimension]; _aheadWeight = new T[dimension]; _aheadCount = new int[dimension];
        _aheadEpoch = Enumerable.Repeat(int.MinValue, dimension).ToArray();
        _rowMax = new double[roles * dimension]; _rowMaxUntil = new int[roles * dimension];
        SummedOnly = new SummedOnlyRows<T>(dimension);
        ExpRows = new ExpRowMemo<T>(roles);
        Shared = new SharedWeights<T>(roles);
    }

    /// <summary>e^x of single numbers, remembered by their bits (the per-role softmax).</summary>
    public readonly ExpMemo<T> Exp = new();

    /// <summary>e^x of rows, remembered by their bits (the per-token softmax of the E-step gates).</summary>
    public readonly ExpRowMemo<T> ExpRows;

    /// <summary>The per-role weights of a RoleConstantKeys head, for the later heads of its layer with the same Q, K and admission.</summary>
    public readonly SharedWeights<T> Shared;

    /// <summary>Rows a commit summed and did not write (docs/math.md §9.6), written before anything else reads them.</summary>
    public readonly SummedOnlyRows<T> SummedOnly;
    /// <summary>The layer running (set by the executor before each layer; −1 before the first).</summary>
    public int Layer = -1;

    /// <summary>
    /// Per layer l and residual row c (at [l·D + c]): the first layer from l on that writes row c (the number of layers when
    /// none does). A maximum of |h_c| formed in layer l holds for the heads of every layer up to that one: until then row c
    /// keeps its numbers, and the layer that writes it reads it before its commit (a head that commits rows itself commits
    /// only rows no head of its layer reads: StructuredExecutor.CommitsExamples). The one write outside a layer's commit is
    /// a row summed only written late (<see cref="SummedOnlyRows{T}"/>), in layer l + 1 or l + 2 of its commit in layer l:
    /// it is a row of l's WrittenRows (so no maximum formed before l + 1 holds for it), and the plan bars it from the
    /// queries and keys of layer l + 1 (StructuredExecutor.SummedOnly); l + 2 resets it, a write.
    /// </summary>
    public int[] NextWrite = Array.Empty<int>();
    /// <summary>Per role and residual row: max(0, max |h_c|) over the role's tokens (NaN when one is NaN), and the last layer it holds for (−1: none).</summary>
    private readonly double[] _rowMax;
    private readonly int[] _rowMaxUntil;

    /// <summary>
    /// Whether every row of <paramref name="rows"/> below <paramref name="count"/> is a direct row whose maximum over role
    /// <paramref name="role"/> was formed on this pass and still holds in this layer; if so they are written into <paramref name="max"/>.
    /// </summary>
    public bool KnownMaxima(RowSources<T> rows, int role, int count, Span<double> max)
    {
        int D = Known.Length;
        if (Layer < 0) return false;
        for (int a = 0; a < count; a++)
        {
            int col = rows.Column[a];
            if (col < 0 || Layer > _rowMaxUntil[role * D + col]) return false;
        }
        for (int a = 0; a < count; a++) max[a] = _rowMax[role * D + rows.Column[a]];
        Counts.MaximaKnown++;
        return true;
    }

    /// <summary>Keeps the maxima just formed for the direct rows among <paramref name="rows"/>, valid up to the next layer that writes each.</summary>
    public void KeepMaxima(RowSources<T> rows, int role, int count, ReadOnlySpan<double> max)
    {
        int D = Known.Length;
        if (Layer < 0 || NextWrite.Length < (Layer + 1) * D) return;
        for (int a = 0; a < count; a++)
        {
            int col = rows.Column[a];
            if (col < 0) continue;
            _rowMax[role * D + col] = max[a];
            _rowMaxUntil[role * D + col] = NextWrite[Layer * D + col];
        }
    }

    /// <summary>A new stream: nothing is known about its rows.</summary>
    public void BeginPrompt()
    {
        Epoch++;              // nothing formed for another stream (a sum ahead, a pair) is taken as the layer before's
        PairHead = -1;
        Array.Clear(Known);
        Array.Clear(Stale);
        Array.Fill(_rowMaxUntil, -1);
        Layer = -1;
        SummedOnly.Clear();
        SummedOnly.On = false;
        StaleCount = 0;
    }

    /// <summary>
    /// Replicated rows kept per role (docs/math.md §9.6): a role-constant row whose per-role commit wrote only each role's
    /// first token; the other tokens of the role are filled (<see cref="ModelExecutor{T}"/>) before anything reads them
    /// token by token. Such a row is known role-constant.
    /// </summary>
    public readonly bool[] Stale;
    public int StaleCount;

    /// <summary>
    /// Sums of example rows formed ahead by the layer that wrote them (<see cref="AdmittedKeysOnlyKernel{T}.Compiled.SumWeight"/>):
    /// per residual row, SimdSpan.Dot of its n examples against the weight, and the layer epoch it was formed in. The row is
    /// not written again before the next layer (its writer commits its examples alone, and no head of that layer reads it).
    /// </summary>
    private readonly T[] _aheadSum, _aheadWeight;
    private readonly int[] _aheadEpoch, _aheadCount;

    /// <summary>Row c's examples sum to <paramref name="sum"/> against <paramref name="weight"/> (n = <paramref name="count"/>), as formed in this layer.</summary>
    public void SumAhead(int c, T sum, T weight, int count)
    {
        _aheadSum[c] = PerturbAhead ? T.BitIncrement(sum) : sum; _aheadWeight[c] = weight; _aheadCount[c] = count; _aheadEpoch[c] = Epoch;
    }

    /// <summary>
    /// The sum formed ahead for row c, when it was formed in the layer just before this one, over <paramref name="count"/>
    /// examples, against a weight with the bits of <paramref name="weight"/>.
    /// </summary>
    public bool TryAhead(int c, T weight, int count, out T sum)
    {
        sum = _aheadSum[c];
        return !RejectAhead && _aheadEpoch[c] == Epoch - 1 && _aheadCount[c] == count && Bits(_aheadWeight[c]) == Bits(weight);
    }

    /// <summary>For a test only: every sum formed ahead is changed by one unit in the last place before it is read.</summary>
    public bool PerturbAhead;
    /// <summary>For a test only: no sum formed ahead is taken (the consumers sum H, so rows summed only must be written first).</summary>
    public bool RejectAhead;
    /// <summary>For a test only: every sum formed ahead is taken as not finite (its row goes to the exact test, which reads it).</summary>
    public bool SumsNotFinite;
    /// <summary>For a test only: RoleConstantKeys heads are not run structurally (they run densely, reading their rows from H).</summary>
    public bool RefuseRoleConstantKeys;

    /// <summary>The bits of x (weights are matched bit for bit: +0 and −0 differ).</summary>
    internal static long Bits(T x) => typeof(T) == typeof(double) ? BitConverter.DoubleToInt64Bits(double.CreateTruncating(x)) : BitConverter.SingleToInt32Bits(float.CreateTruncating(x));

    /// <summary>Row c of H, kept per role, filled: every example takes the first one's value (n examples, rows of length ld).</summary>
    public void Fill(T[] h, int c, int n, int ld)
    {
        h.AsSpan(c * ld, n).Fill(h[c * ld]);
        Unstale(c);
    }

    /// <summary>Row c no longer kept per role: its tokens hold their values (filled, or written per token).</summary>
    public void Unstale(int c)
    {
        Stale[c] = false; StaleCount--;
    }

    /// <summary>A new layer, which writes <paramref name="written"/>: its updates are role-constant until a kernel says otherwise.</summary>
    public void BeginLayer(int[] written)
    {
        Epoch++;
        foreach (int c in written) { DeltaConstant[c] = true; Pending[c] = PendingState.Untouched; Through[c] = false; }
    }

    /// <summary>
    /// Row c's update on the tokens of <paramref name="role"/> += value, the same value on each: kept per role
    /// while the row's Delta is untouched this layer (Delta would hold exactly these sums, as both start at +0
    /// and take the same additions in the same order), else added to Delta.
    /// </summary>
    public void AddPerRole(int c, int role, T value, T[] delta, int ld, int examples)
    {
        if (Pending[c] == PendingState.InDelta)
        {
            var (start, count) = HeadStream<T>.RangeOf(role, examples);
            var d = delta.AsSpan(c * ld + start, count);
            System.Numerics.Tensors.TensorPrimitives.Add(d, value, d);
            return;
        }
        if (Pending[c] == PendingState.Untouched) { RoleDelta.AsSpan(c * Roles, Roles).Clear(); Pending[c] = PendingState.PerRole; }
        RoleDelta[c * Roles + role] += value;
    }

    /// <summary>Before a per-token write to these rows: their per-role updates go into Delta (which held +0 there).</summary>
    public void Flush(int[] rows, T[] delta, int ld, int examples)
    {
        foreach (int c in rows) Flush(c, delta, ld, examples);
    }

    public void Flush(int c, T[] delta, int ld, int examples)
    {
        if (Pending[c] == PendingState.PerRole) WritePerRole(c, delta, ld, examples);
        Pending[c] = PendingState.InDelta;
    }

    /// <summary>buffer row c ← the row's per-role values on each role's tokens (padding untouched).</summary>
    public void WritePerRole(int c, T[] buffer, int ld, int examples)
    {
        for (int r = 0; r < Roles; r++)
        {
            var (start, count) = HeadStream<T>.RangeOf(r, examples);
            buffer.AsSpan(c * ld + start, count).Fill(RoleDelta[c * Roles + r]);
        }
    }

    /// <summary>The rows <paramref name="rows"/> received an update that may differ between tokens of a role.</summary>
    public void Varying(int[] rows)
    {
        foreach (int c in rows) DeltaConstant[c] = false;
    }

    /// <summary>After the layer's commit: a written row stays known only if it was known and every update to it was role-constant.</summary>
    public void EndLayer(int[] written)
    {
        foreach (int c in written) if (!DeltaConstant[c]) Known[c] = false;
    }
}
