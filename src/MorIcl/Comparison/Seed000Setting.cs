namespace MorIcl.Comparison;

/// <summary>The prompt distributions seed 000's figures are run in (issue 14; docs/math.md §1).</summary>
public enum Seed000Setting
{
    /// <summary>Seed 000 §5: per-sample components, β fixed (drawn once), π uniform.</summary>
    Paper,
    /// <summary>One component per prompt (shared by its examples and the query), β fixed, π uniform: the Bayes predictor reads the context.</summary>
    PerPrompt,
    /// <summary>Per-sample components with β drawn afresh for every prompt from the prior (meta-learning): the β must be learnt in context.</summary>
    BetaPerPrompt,
    /// <summary>As the paper's, with unequal mixing weights π_k ∝ 2^(−k).</summary>
    UnequalMixing,
    /// <summary>As the paper's with fewer examples than dimensions (n &lt; d): d = 10 and n ∈ {3, 5, 8} at the default scale.</summary>
    SmallN,
}

/// <summary>Names (as on the command line and in file names) and descriptions of the settings.</summary>
public static class Seed000Settings
{
    public static readonly Seed000Setting[] All = Enum.GetValues<Seed000Setting>();

    public static string Name(Seed000Setting s) => s switch
    {
        Seed000Setting.Paper => "paper",
        Seed000Setting.PerPrompt => "per-prompt",
        Seed000Setting.BetaPerPrompt => "beta-per-prompt",
        Seed000Setting.UnequalMixing => "unequal-mixing",
        Seed000Setting.SmallN => "small-n",
        _ => throw new ArgumentOutOfRangeException(nameof(s)),
    };

    public static Seed000Setting Parse(string text)
    {
        foreach (var s in All) if (Name(s) == text) return s;
        throw new SpecificationException($"--setting: '{text}' is not a setting; use {string.Join(", ", All.Select(Name))}");
    }

    public static string Describe(Seed000Setting s) => s switch
    {
        Seed000Setting.Paper => "per-sample components, fixed β, uniform π (seed 000 §5)",
        Seed000Setting.PerPrompt => "one component per prompt, fixed β, uniform π",
        Seed000Setting.BetaPerPrompt => "per-sample components, β drawn afresh per prompt, uniform π",
        Seed000Setting.UnequalMixing => "per-sample components, fixed β, π ∝ 2^-k",
        Seed000Setting.SmallN => "per-sample components, fixed β, uniform π, n < d",
        _ => throw new ArgumentOutOfRangeException(nameof(s)),
    };

    /// <summary>π_k ∝ 2^(−k), k = 1 … K: (2/3, 1/3) for K = 2, (4/7, 2/7, 1/7) for K = 3.</summary>
    public static double[] UnequalMixing(int k)
    {
        var w = Enumerable.Range(1, k).Select(j => Math.Pow(2, -j)).ToArray();
        double s = w.Sum();
        return w.Select(v => v / s).ToArray();
    }

    /// <summary>The file name stem of a figure in a setting: "figure1", "figure1-per-prompt", …</summary>
    public static string FileStem(string figure, Seed000Setting s) => s == Seed000Setting.Paper ? $"figure{figure}" : $"figure{figure}-{Name(s)}";
}
