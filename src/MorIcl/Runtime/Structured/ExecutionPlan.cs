using System.Text;
using MorIcl.Construction.Model;

namespace MorIcl.Runtime.Structured;

/// <summary>Which path <see cref="ModelExecutor{T}"/> takes.</summary>
public enum ExecutorKind
{
    /// <summary>Each head by the kernel of its pattern (<see cref="HeadPattern"/>); heads without one run densely.</summary>
    Structured,
    /// <summary>Every head forms its N × N scores.</summary>
    Dense,
}

/// <summary>How one attention head is executed (docs/math.md §9).</summary>
public enum HeadPattern
{
    /// <summary>Every score s_ij is formed: O(N²·d_k).</summary>
    Dense,
    /// <summary>
    /// The keys are the same within each token role, so s_ij = s_(i, role of j): O(N·roles·d_k) scores,
    /// the very numbers the dense kernel forms, and value sums per role. Covers the products with a
    /// replicated quantity (all tokens alike), the example means and copy_over. When a key row is not
    /// an embedding constant, each prompt checks it (bitwise-equal on every token of a role, O(N)) and
    /// the head runs densely if it is not.
    /// </summary>
    RoleConstantKeys,
    /// <summary>
    /// The only admitted keys of a query are itself (Self) and single-token roles (the query token, the
    /// auxiliary tokens): those O(N) scores are formed. Every other score is bounded above without
    /// being formed, from the positional form (<see cref="PositionalForm"/>: −ρ·Σ_d (p_d − q_d)² ≤ −ρ for
    /// distinct positions) plus Σ_a max|q_a|·max|k_a| over the content dimensions, rounded upward
    /// (<see cref="ScoreBound"/>). Covers the per-token products (only itself) and the E-step gates. On a
    /// prompt where the bound does not prove the head's domain, the head runs densely.
    /// </summary>
    AdmittedKeysOnly,
}

/// <summary>How the keys of one (query role, key role) block are treated by <see cref="HeadPattern.AdmittedKeysOnly"/>.</summary>
public enum BlockTreatment
{
    /// <summary>No pair of the block is admitted: every score is bounded, never formed.</summary>
    Bounded,
    /// <summary>The block's single key is admitted (a single-token role): its score is formed.</summary>
    Formed,
    /// <summary>Query and key role agree and only j = i is admitted: that score is formed, the others bounded.</summary>
    SelfFormedRestBounded,
}

/// <summary>Shape of the positional part P(i, j) = Σ_{a &lt; PositionalDims} q_a(h_i)·k_a(h_j) on a block of roles.</summary>
public enum PositionalFormKind
{
    /// <summary>P = c for every pair of the block.</summary>
    Constant,
    /// <summary>P = c − ρ·Σ_d (p_d − q_d)² for positions p (query) and q (key), ρ &gt; 0.</summary>
    Distance,
}

/// <summary>
/// The positional part of a head's scores on a block of roles, recognised exactly from the weights
/// (integer coefficients over embedding rows no earlier layer writes). Every value is an integer.
/// </summary>
public readonly record struct PositionalForm(PositionalFormKind Kind, double Constant, double Rho)
{
    /// <summary>P at query position p and key position q (Distance; Constant ignores them).</summary>
    public double At(long p, long q, int positionBase, int digits)
    {
        if (Kind == PositionalFormKind.Constant) return Constant;
        long sum = 0;
        for (int d = 0; d < digits; d++)
        {
            long diff = p % positionBase - q % positionBase;
            sum += diff * diff;
            p /= positionBase; q /= positionBase;
        }
        return Constant - Rho * sum;
    }

    /// <summary>The largest P over the block's pairs: c − ρ when every pair has distinct positions (Distance), else c.</summary>
    public double Max(bool distinctPositions) => Kind == PositionalFormKind.Distance && distinctPositions ? Constant - Rho : Constant;

    public override string ToString() => Kind == PositionalFormKind.Constant ? $"{Constant:R}" : $"{Constant:R} − {Rho:R}·Σ(p_d − q_d)²";
}

/// <summary>
/// The plan for one attention head: its pattern, why, and — for <see cref="HeadPattern.AdmittedKeysOnly"/> —
/// what the O(N) bound on its unformed scores is built from. Arrays indexed by block are
/// [queryRole · Roles + keyRole].
/// </summary>
public sealed class HeadPlan
{
    public required int Layer { get; init; }
    public required int Head { get; init; }
    public required string Name { get; init; }
    public required Activation Activation { get; init; }
    public required HeadPattern Pattern { get; init; }
    /// <summary>Why this pattern (for Dense: which condition failed).</summary>
    public required string Reason { get; init; }
    public required int Roles { get; init; }
    /// <summary>Head dimensions [0, PositionalDims) form the exact positional part; the rest are content dimensions.</summary>
    public int PositionalDims { get; init; }
    /// <summary>AdmittedKeysOnly: the positional form of every block.</summary>
    public PositionalForm[]? Forms { get; init; }
    /// <summary>AdmittedKeysOnly: how every block is treated.</summary>
    public BlockTreatment[]? Blocks { get; init; }
    /// <summary>
    /// AdmittedKeysOnly: whether the bound of a block's unformed pairs assumes distinct positions (true for
    /// different positioned roles and for the other tokens of a Self block): valid while n ≤ the positional
    /// scheme's largest position.
    /// </summary>
    public bool[]? DistinctPositions { get; init; }
    /// <summary>
    /// AdmittedKeysOnly: Σ_a max|q_a|·max|k_a| over the positional dimensions (and the projections' Σ|w|·max|row|):
    /// a bound on the sum of the positional terms' magnitudes, as a rounding analysis of an inexact prefix needs it.
    /// It also bounds every partial sum, but loosely (4R(B−1)² per digit where the sums stay within R(B−1)²·G).
    /// </summary>
    public double PositionalMagnitude { get; init; }
    /// <summary>
    /// AdmittedKeysOnly: a bound on every number the score kernel forms on the positional part in its order —
    /// the projections, each product q_a·k_a and each prefix Σ_{a &lt; A} q_a·k_a — all integers
    /// (<see cref="PositionalPrefixBound"/>, docs/math.md §9.5). The positional prefix is exact in a precision
    /// with p significant bits when this is at most 2^p: 2^24 for float, 2^53 for double.
    /// </summary>
    public double PositionalPartialSums { get; init; }
    /// <summary>RoleConstantKeys: whether every key row is an embedding constant (no per-prompt check needed).</summary>
    public bool KeysAreEmbeddingConstants { get; init; }
    /// <summary>
    /// AdmittedKeysOnly ReLU heads: the index of the other head of a ReLU pair in the same layer (−1 when none).
    /// The pair has the same positional part and keys, opposite content queries and opposite values, and every
    /// formed score's positional part is 0, so its scores are ŝ and −ŝ exactly and
    /// ReLU(ŝ)·v + ReLU(−ŝ)·(−v) = ŝ·v: the first head computes both (one term is ±0), the second adds nothing.
    /// </summary>
    public int PairedWith { get; internal set; } = -1;

    /// <summary>Whether the pattern's exactness argument holds in a precision with <paramref name="mantissaBits"/> significant bits (24 or 53).</summary>
    public bool ExactIn(int mantissaBits) => Pattern != HeadPattern.AdmittedKeysOnly || PositionalPartialSums <= Math.ScaleB(1.0, mantissaBits);
}

/// <summary>
/// The executor's compiled plan (docs/math.md §9): for every attention layer, one <see cref="HeadPlan"/> per head,
/// decided once from the admission tables, the weights and which rows earlier layers write. The
/// same plan drives the structured kernels and their certificate; a rounding-error analysis can read
/// the positional forms and block treatments from it.
/// </summary>
public sealed class ExecutionPlan
{
    /// <summary>Per layer (empty for MLP layers), per head.</summary>
    public IReadOnlyList<HeadPlan[]> Heads { get; }
    public EmbeddingRows Rows { get; }
    /// <summary>Largest position the positional scheme encodes (distinct-position bounds hold for n up to this).</summary>
    public long MaxPosition { get; }

    public ExecutionPlan(IReadOnlyList<HeadPlan[]> heads, EmbeddingRows rows, long maxPosition)
    {
        Heads = heads; Rows = rows; MaxPosition = maxPosition;
    }

    public static ExecutionPlan Compile(TransformerModel model) => PlanCompiler.Compile(model);

    /// <summary>How many heads take each pattern.</summary>
    public IReadOnlyDictionary<HeadPattern, int> Counts() =>
        Enum.GetValues<HeadPattern>().ToDictionary(p => p, p => Heads.Sum(l => l.Count(h => h.Pattern == p)));

    /// <summary>One line per head: layer, head, pattern, reason.</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        foreach (var layer in Heads)
            foreach (var h in layer)
                sb.Append("layer ").Append(h.Layer).Append(" head ").Append(h.Head).Append(" (").Append(h.Name).Append("): ")
                  .Append(h.Pattern).Append(" — ").Append(h.Reason).Append('\n');
        return sb.ToString();
    }
}
