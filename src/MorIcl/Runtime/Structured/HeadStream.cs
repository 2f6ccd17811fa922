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
    /// examples can differ; the other roles have one token). Cached per layer in the scratch.
    /// </summary>
    public bool RoleConstant(int c)
    {
        var s = Scratch;
        if (s.Stamp[c] == s.Epoch) return s.Constant[c];
        bool same = true;
        if (Examples > 1)
        {
            var row = H.AsSpan(c * Ld, Examples);
            same = typeof(T) == typeof(double)
                ? MemoryMarshal.Cast<T, long>(row).IndexOfAnyExcept(MemoryMarshal.Cast<T, long>(row)[0]) < 0
                : MemoryMarshal.Cast<T, int>(row).IndexOfAnyExcept(MemoryMarshal.Cast<T, int>(row)[0]) < 0;
        }
        s.Stamp[c] = s.Epoch; s.Constant[c] = same;
        return same;
    }
}

/// <summary>Per-prompt scratch of the structured kernels (O(roles·N) numbers), pooled with the executor's workspace.</summary>
internal sealed class StructuredScratch<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly int Capacity;
    /// <summary>Scores per role group or per formed key, roles × ld.</summary>
    public readonly T[] Scores;
    /// <summary>Per-token softmax normalisers and maxima, ld each.</summary>
    public readonly T[] Sum, Max;
    /// <summary>Keys per role (roles × d_k), value sums per role and per group (roles × d_v).</summary>
    public readonly T[] KeyOfRole, ValueSumOfRole, ValueSumOfGroup;
    /// <summary>Content maxima |q_a|, |k_a| per role (roles × d_k).</summary>
    public readonly double[] MaxQ, MaxK;
    /// <summary>Role-constancy cache per residual row: valid while Stamp[c] == Epoch (one epoch per layer).</summary>
    public readonly int[] Stamp;
    public readonly bool[] Constant;
    public int Epoch;

    public StructuredScratch(int ld, int roles, int dk, int dv, int dimension)
    {
        Capacity = ld;
        Scores = new T[roles * ld]; Sum = new T[ld]; Max = new T[ld];
        KeyOfRole = new T[roles * dk]; ValueSumOfRole = new T[roles * dv]; ValueSumOfGroup = new T[roles * dv];
        MaxQ = new double[roles * dk]; MaxK = new double[roles * dk];
        Stamp = new int[dimension]; Constant = new bool[dimension];
    }
}
