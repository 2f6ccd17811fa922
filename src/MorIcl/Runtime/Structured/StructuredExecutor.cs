using System.Numerics;
using MorIcl.Construction.Model;

namespace MorIcl.Runtime.Structured;

/// <summary>
/// The per-head dispatch of the structured path (docs/math.md §9): each head of the plan lowered once, at
/// model-compile time, to its kernel in precision T. A head whose plan is Dense, or whose exactness
/// argument does not hold in T (<see cref="HeadPlan.ExactIn"/>), is not taken; <see cref="TryRun"/>
/// returns false for it, and for a prompt on which the kernel's condition fails, so the caller runs it
/// densely. Kernels write only when they succeed.
/// </summary>
internal sealed class StructuredExecutor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ExecutionPlan _plan;
    private readonly AdmittedKeysOnlyKernel<T>.Compiled?[][] _admittedOnly;
    private readonly bool[][] _taken;
    private readonly int _roles;

    public StructuredExecutor(ExecutionPlan plan, CompiledModel<T> model)
    {
        _plan = plan;
        _roles = model.Roles;
        int bits = typeof(T) == typeof(float) ? 24 : 53;
        _taken = new bool[plan.Heads.Count][];
        _admittedOnly = new AdmittedKeysOnlyKernel<T>.Compiled?[plan.Heads.Count][];
        for (int l = 0; l < plan.Heads.Count; l++)
        {
            var heads = plan.Heads[l];
            _taken[l] = heads.Select(h => h.Pattern != HeadPattern.Dense && h.ExactIn(bits)).ToArray();
            _admittedOnly[l] = new AdmittedKeysOnlyKernel<T>.Compiled?[heads.Length];
            if (model.Layers[l] is not CompiledModel<T>.Attention a) continue;
            for (int h = 0; h < heads.Length; h++)
                if (_taken[l][h] && heads[h].Pattern == HeadPattern.AdmittedKeysOnly)
                    _admittedOnly[l][h] = AdmittedKeysOnlyKernel<T>.Compile(heads[h], a.Heads[h], plan.Rows);
        }
    }

    public ExecutionPlan Plan => _plan;

    /// <summary>Whether head h of layer l has a structured kernel in this precision.</summary>
    public bool Takes(int layer, int head) => _taken[layer][head];

    /// <summary>Runs head h of layer l structurally; false (nothing written) when it must run densely on this prompt.</summary>
    public bool TryRun(int layer, int index, CompiledModel<T>.Head head, in HeadStream<T> s, out double margin, out double leak)
    {
        margin = double.PositiveInfinity; leak = 0;
        if (!_taken[layer][index]) return false;
        var plan = _plan.Heads[layer][index];
        return plan.Pattern switch
        {
            HeadPattern.RoleConstantKeys => RoleConstantKeysKernel<T>.Run(head, plan, s, _roles, out margin, out leak),
            HeadPattern.AdmittedKeysOnly => AdmittedKeysOnlyKernel<T>.Run(head, plan, _admittedOnly[layer][index]!, s, _plan.MaxPosition, out margin, out leak),
            _ => false,
        };
    }

    /// <summary>Scratch for prompts of padded length ld.</summary>
    public StructuredScratch<T> Scratch(int ld, CompiledModel<T> model) => new(ld, _roles, model.MaxDk, model.MaxDv, model.Source.Dimension);
}
