namespace MorIcl.Mixture;

/// <summary>
/// One in-context prompt: n labelled examples, a query x_{n+1} and its (hidden) label y_{n+1},
/// and the hidden component labels (z_1 … z_{n+1}; all equal in per-prompt mode).
/// </summary>
public sealed class Prompt
{
    public RegressionData Examples { get; }
    public double[] Query { get; }
    public double QueryLabel { get; }
    /// <summary>Component of each example, then of the query (length n + 1).</summary>
    public int[] Components { get; }
    /// <summary>The prompt's own regression vectors when the mixture draws β per prompt (<see cref="MixtureSpec.BetaPerPrompt"/>), else null.</summary>
    public IReadOnlyList<double[]>? Beta { get; }

    public Prompt(RegressionData examples, double[] query, double queryLabel, int[] components, IReadOnlyList<double[]>? beta = null)
    {
        if (query.Length != examples.D) throw new SpecificationException($"query has {query.Length} features, expected d = {examples.D}");
        if (components.Length != examples.N + 1) throw new SpecificationException($"expected n + 1 = {examples.N + 1} component labels, got {components.Length}");
        Examples = examples; Query = query; QueryLabel = queryLabel; Components = components; Beta = beta;
    }

    public int N => Examples.N;
    public int D => Examples.D;
}
