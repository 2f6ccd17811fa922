namespace MorIcl.Mixture;

/// <summary>How component labels are drawn (docs/math.md §1).</summary>
public enum MixtureMode
{
    /// <summary>Each example draws its own component z_i ~ Cat(π) (seed 000 eq. (1), §4).</summary>
    PerSample,
    /// <summary>One component z ~ Cat(π) per prompt, shared by its examples and the query.</summary>
    PerPrompt,
}
