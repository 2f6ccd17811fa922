using System.Numerics;

namespace MorIcl.Runtime.Structured;

/// <summary>
/// The per-role weights of a <see cref="HeadPattern.RoleConstantKeys"/> head whose queries are role-constant, kept for the
/// later heads of the same layer that have its Q, K, admission and activation bit for bit (docs/math.md §9.6, fused rows,
/// item 9: the gradient step's example means, one head per component). Such heads read the same rows of H, which no head
/// of the layer writes before its commit, so their key groups, pair counts, scores, softmax weights (or ReLU'd scores),
/// normalisers, margins and leakages are the same numbers; only their value sums differ. One per workspace (one thread), and
/// one set of weights at a time: in a layer whose sharing groups interleave (A, B, A) the second A forms its own (a cost,
/// never a wrong number). Off in the block schedule's phases, which pass <c>Share.None</c>.
/// </summary>
internal sealed class SharedWeights<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int _roles;
    /// <summary>The layer epoch and head the weights were formed for (int.MinValue and −1: none).</summary>
    private int _epoch = int.MinValue, _head = -1;

    /// <summary>How many key groups there are.</summary>
    public int Groups;
    /// <summary>Each role's key group (−1 for a role without tokens).</summary>
    public readonly int[] Group;
    /// <summary>Per role: its weights (softmax) or ReLU'd scores, one per group, at [role · roles + g]; its normaliser (softmax).</summary>
    public readonly T[] Weights, Sum;
    /// <summary>Per role: whether it has tokens; whether its weights are the previous formed role's (the same query and pair counts).</summary>
    public readonly bool[] Present, SameAsBefore;
    public readonly double[] Margin, Leak;

    public SharedWeights(int roles)
    {
        _roles = roles;
        Group = new int[roles];
        Weights = new T[roles * roles]; Sum = new T[roles];
        Present = new bool[roles]; SameAsBefore = new bool[roles];
        Margin = new double[roles]; Leak = new double[roles];
    }

    /// <summary>Whether the weights held were formed by head <paramref name="head"/> in layer epoch <paramref name="epoch"/>.</summary>
    public bool Holds(int epoch, int head) => _epoch == epoch && _head == head;

    /// <summary>A head starts to form its weights over <paramref name="groups"/> key groups (held once <see cref="Done"/> names it).</summary>
    public void Begin(int groups, ReadOnlySpan<int> group)
    {
        Forget();
        Groups = groups;
        group.CopyTo(Group);
        Array.Clear(Present);
    }

    /// <summary>Role <paramref name="role"/>'s weights, normaliser, margin and leakage.</summary>
    public void Set(int role, ReadOnlySpan<T> weights, T sum, bool sameAsBefore, double margin, double leak)
    {
        weights.CopyTo(Weights.AsSpan(role * _roles, Groups));
        Sum[role] = sum; Present[role] = true; SameAsBefore[role] = sameAsBefore;
        Margin[role] = margin; Leak[role] = leak;
    }

    /// <summary>No weights are held.</summary>
    public void Forget() { _epoch = int.MinValue; _head = -1; }

    /// <summary>Every role's weights are set: they are held for head <paramref name="head"/> of layer epoch <paramref name="epoch"/>.</summary>
    public void Done(int epoch, int head) { _epoch = epoch; _head = head; }

    /// <summary>Role r's weights.</summary>
    public ReadOnlySpan<T> Of(int role) => Weights.AsSpan(role * _roles, Groups);
}
