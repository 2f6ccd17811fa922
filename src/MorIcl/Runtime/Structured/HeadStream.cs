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

    public HeadStream(T[] h, T[] delta, T[] qt, T[] kt, T[] vt, int tokens, int examples, int ld, StructuredScratch<T> scratch)
    {
        H = h; Delta = delta; QT = qt; KT = kt; VT = vt; N = tokens; Examples = examples; Ld = ld; Scratch = scratch;
    }

    /// <summary>First token and number of tokens of a role.</summary>
    public (int Start, int Count) Range(int role) =>
        role == TokenRoles.Example ? (0, Examples) : role == TokenRoles.Query ? (Examples, 1) : (Examples + 1 + role - 2, 1);

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
    }

    /// <summary>A new stream: nothing is known about its rows.</summary>
    public void BeginPrompt() => Array.Clear(Known);

    /// <summary>A new layer, which writes <paramref name="written"/>: its updates are role-constant until a kernel says otherwise.</summary>
    public void BeginLayer(int[] written)
    {
        Epoch++;
        foreach (int c in written) DeltaConstant[c] = true;
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
