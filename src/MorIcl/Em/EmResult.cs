namespace MorIcl.Em;

/// <summary>One outer EM iteration as recorded when <see cref="EmOptions.RecordTrace"/> is set.</summary>
/// <param name="Iteration">Outer iteration s (0-based).</param>
/// <param name="Responsibilities">γ_ik of the E-step, component-major (K × n).</param>
/// <param name="InnerBetas">β after each inner gradient step t = 1 … T (exact EM: one entry).</param>
public sealed record EmTraceEntry(int Iteration, double[] Responsibilities, double[][][] InnerBetas);

/// <summary>Result of an EM run.</summary>
public sealed record EmResult(
    MixtureParameters Parameters,
    int Iterations,
    bool Converged,
    double LogLikelihood,
    IReadOnlyList<double> LogLikelihoodTrace,
    IReadOnlyList<EmTraceEntry>? Trace);
