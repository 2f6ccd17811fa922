using MorIcl.Construction;
using MorIcl.Construction.Model;

namespace MorIcl.Verification;

/// <summary>How a check runs: fast (inside <c>dotnet test</c>) or full (<c>mor-icl verify --full</c>).</summary>
public sealed record CheckOptions
{
    public bool Full { get; init; }
    /// <summary>Root seed of every Monte-Carlo draw of the check.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>How a check obtains the transformer for a specification (default: compile it). Tests pass
    /// generated models, or a deliberately damaged one to see the check fail.</summary>
    public Func<ConstructionSpec, TransformerModel> ModelFor { get; init; } = Compiler.Compile;
    /// <summary>Data are drawn with σ_data = NoiseScale·σ while the model assumes σ (1 = matched).</summary>
    public double NoiseScale { get; init; } = 1;
    public int? MaxDegreeOfParallelism { get; init; }
}

/// <summary>One measured number next to the bound it is checked against.</summary>
public sealed record Measurement(string Name, double Value, string Criterion, bool Passed);

/// <summary>A rate series for plots: x (n or d), the Monte-Carlo median and 95 % quantile, the fit.</summary>
public sealed record RateSeries(string Title, string XLabel, string YLabel, double[] X, double[] Median, double[] Quantile95,
    double Slope, double Intercept, double[]? BoundOrder, string BoundLabel);

/// <summary>The outcome of one check.</summary>
public sealed record CheckResult(
    string Name, string Statement, bool Passed, string Summary, IReadOnlyList<Measurement> Measurements,
    IReadOnlyList<RateSeries> Series, string Configuration, string Reproduce, double Seconds)
{
    /// <summary>The one-line failure message: statement, configuration, seed, by how much, and how to reproduce.</summary>
    public string FailureMessage =>
        $"{Name} FAILED ({Statement}): " + string.Join("; ", Measurements.Where(m => !m.Passed).Select(m => $"{m.Name} = {m.Value:G4} violates {m.Criterion}"))
        + $". Configuration: {Configuration}. Reproduce: {Reproduce}";
}

/// <summary>
/// A numerical check of one statement of seed 000. Each states what it measures, on which seeded
/// configurations, and its pass criterion with the derivation from the statement (docs/math.md §2) —
/// criteria come from the statements, not from looking at results.
/// </summary>
public abstract class ProofCheck
{
    /// <summary>Identifier named after the statement (e.g. <c>TheoremB2</c>).</summary>
    public abstract string Name { get; }
    /// <summary>The statement, in words.</summary>
    public abstract string Statement { get; }
    /// <summary>What is measured and how the criterion follows from the statement.</summary>
    public abstract string Derivation { get; }

    public CheckResult Run(CheckOptions options, IProgress<double>? progress = null)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var r = Execute(options, progress ?? new Progress<double>());
        return r with { Seconds = sw.Elapsed.TotalSeconds, Reproduce = $"mor-icl verify --check {Name} --seed {options.Seed}{(options.Full ? " --full" : "")}" };
    }

    protected abstract CheckResult Execute(CheckOptions options, IProgress<double> progress);

    protected CheckResult Result(IReadOnlyList<Measurement> measurements, string summary, string configuration, IReadOnlyList<RateSeries>? series = null) =>
        new(Name, Statement, measurements.All(m => m.Passed), summary, measurements, series ?? Array.Empty<RateSeries>(), configuration, "", 0);
}
