using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Mixture;

namespace MorIcl.Verification;

/// <summary>
/// The system under test of a proof check. For a construction specification — what the system claims
/// to compute: d, K, σ, π, S, T, α, β⁽⁰⁾ — it gives an instance that answers prompts. The constructed
/// transformer run by the runtime is one (<see cref="TransformerSubject"/>); a damaged or hand-edited
/// model, a model file (<c>verify --model</c>) and an algorithm standing in for the transformer (a
/// mutant such as OLS in place of EM, <see cref="AlgorithmSubject"/>) plug in the same way.
/// </summary>
public interface ISubject
{
    string Name { get; }
    ISubjectInstance For(ConstructionSpec spec);
}

/// <summary>One system for one specification.</summary>
public interface ISubjectInstance
{
    /// <summary>The specification the instance claims to implement: what the checks hold it to.</summary>
    ConstructionSpec Spec { get; }
    /// <summary>The weights when the subject is a transformer (checks of layers and heads read them); null for an algorithm.</summary>
    TransformerModel? Model { get; }
    /// <summary>Answers one prompt; with <paramref name="trace"/> also the iterates (and, for a transformer, the residual stream).</summary>
    SubjectRun Run(Prompt prompt, bool trace);
}

/// <summary>
/// One answer: ŷ at the prompt's query, β̂ (K vectors; the symmetric program reports β̂ and −β̂), whether
/// the run stayed in its certified domain (an algorithm has no domain and reports true), and with a
/// trace: b after every inner gradient step in order, the E-step outputs (γ_ik per component, or [w]) in
/// order, and for a transformer the residual stream after every layer.
/// </summary>
public sealed record SubjectRun(double Prediction, double[][] Beta, bool InDomain,
    IReadOnlyList<double[][]>? InnerSteps = null, IReadOnlyList<double[][]>? EStep = null, double[][]? Trace = null);
