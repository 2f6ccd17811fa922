namespace MorIcl;

/// <summary>
/// Asks the MorIcl source generator to construct, at compile time, the transformer whose layers run
/// gradient EM for this specification, and to emit its weights as readable C# into
/// <c>&lt;Class&gt;.g.cs</c>: one field per weight matrix (named by layer and role, rows written one by
/// one with named columns), the residual layout as a table, and a <c>Model</c> property that returns
/// the runtime model built from those fields. Apply it to a <c>static partial class</c>.
/// Bad specifications are compiler errors MORICL001…; see README.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ConstructedTransformerAttribute : Attribute
{
    /// <summary>Dimension d of x (required).</summary>
    public int Dimension { get; set; }
    /// <summary>Number of components K (required; 2 when <see cref="Symmetric"/>).</summary>
    public int Components { get; set; }
    /// <summary>Outer EM iterations S (required).</summary>
    public int EmIterations { get; set; }
    /// <summary>Inner gradient steps T per M-step (required).</summary>
    public int GradientSteps { get; set; }
    /// <summary>Step size α of the inner steps (required).</summary>
    public double StepSize { get; set; }
    /// <summary>Known noise level σ (required).</summary>
    public double Sigma { get; set; }
    /// <summary>Known mixing weights π (default uniform; symmetric: π, 1 − π).</summary>
    public double[]? Mixing { get; set; }
    /// <summary>The symmetric two-component program (tanh form).</summary>
    public bool Symmetric { get; set; }
    /// <summary>β⁽⁰⁾ flattened row by row: K·d numbers (symmetric: d numbers, β⁽⁰⁾ and −β⁽⁰⁾). Default: the construction's deterministic start.</summary>
    public double[]? InitialBeta { get; set; }
    /// <summary>Margin R of positional and exclusion scores (default 4096).</summary>
    public double Margin { get; set; } = 4096;
    /// <summary>Longest prompt the positional scheme encodes (default 1023).</summary>
    public int MaxPromptLength { get; set; } = 1023;
    /// <summary>Estimate π in context (then <see cref="Mixing"/> is π⁽⁰⁾); adds an approximate log operator.</summary>
    public bool EstimateMixing { get; set; }
    /// <summary>Smallest π̂_k for which the log approximation's declared error holds (default 0.001).</summary>
    public double MixingFloor { get; set; } = 1e-3;
}
