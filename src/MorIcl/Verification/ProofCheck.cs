using MorIcl.Construction;
using MorIcl.Construction.Model;

namespace MorIcl.Verification;

/// <summary>How a check runs: fast (inside <c>dotnet test</c>) or full (<c>mor-icl verify --full</c>), on what, with which seed.</summary>
public sealed record CheckOptions
{
    public bool Full { get; init; }
    /// <summary>Root seed of every Monte-Carlo draw of the check.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>The system under test (default: the compiled construction run by the runtime). Tests pass
    /// generated models; the mutant catalogue passes damaged models and algorithms.</summary>
    public ISubject Subject { get; init; } = TransformerSubject.Compiled;
    /// <summary>
    /// <c>verify --model</c>: check this one model at its own specification (d, K, σ, π, S, T, α, β⁽⁰⁾),
    /// n swept up to its maximum prompt length. Null: each check uses its own configurations.
    /// </summary>
    public TransformerModel? Target { get; init; }
    /// <summary>Data are drawn with σ_data = NoiseScale·σ while the model assumes σ (1 = matched).</summary>
    public double NoiseScale { get; init; } = 1;
    public int? MaxDegreeOfParallelism { get; init; }
    /// <summary>
    /// Multiplies every statistical check's number of Monte-Carlo prompts (1 = the calibrated sizes). Tests that
    /// only need a mutant's slope to leave its window use less; the precision criteria (SE ≤ 0.03) then fail too.
    /// </summary>
    public double PromptScale { get; init; } = 1;

    /// <summary><paramref name="count"/> prompts scaled by <see cref="PromptScale"/> (at least 8).</summary>
    public int Prompts(int count) => PromptScale == 1 ? count : Math.Max(8, (int)Math.Round(count * PromptScale));

    /// <summary>The subject's instance for a specification.</summary>
    public ISubjectInstance InstanceFor(ConstructionSpec spec) => Subject.For(spec);
}

/// <summary>
/// One measured number next to the bound it is checked against. <paramref name="StandardError"/> is the
/// Monte-Carlo standard error of a statistical measurement (NaN for an exact one).
/// </summary>
public sealed record Measurement(string Name, double Value, string Criterion, bool Passed, double StandardError = double.NaN);

/// <summary>A rate series for plots: x (n, d or σ), the Monte-Carlo central value and 95 % quantile, the fit.</summary>
public sealed record RateSeries(string Title, string XLabel, string YLabel, double[] X, double[] Median, double[] Quantile95,
    double Slope, double Intercept, double[]? BoundOrder, string BoundLabel);

/// <summary>Passed, failed, or not applicable to the system it was asked to check (with the reason).</summary>
public enum CheckStatus { Passed, Failed, NotApplicable }

/// <summary>The outcome of one check.</summary>
public sealed record CheckResult(
    string Name, string Statement, bool Passed, string Summary, IReadOnlyList<Measurement> Measurements,
    IReadOnlyList<RateSeries> Series, string Configuration, string Reproduce, double Seconds, string? NotApplicableReason = null)
{
    public CheckStatus Status => NotApplicableReason is not null ? CheckStatus.NotApplicable : Passed ? CheckStatus.Passed : CheckStatus.Failed;
    public bool Applicable => NotApplicableReason is null;
    /// <summary>Failed (applicable and not passed).</summary>
    public bool Failed => Status == CheckStatus.Failed;

    /// <summary>The one-line failure message: statement, configuration, seed, by how much, and how to reproduce.</summary>
    public string FailureMessage =>
        $"{Name} FAILED ({Statement}): " + string.Join("; ", Measurements.Where(m => !m.Passed).Select(m => $"{m.Name} = {m.Value:G4}{(double.IsNaN(m.StandardError) ? "" : $" ± {m.StandardError:G2}")} violates {m.Criterion}"))
        + $". Configuration: {Configuration}. Reproduce: {Reproduce}";
}

/// <summary>
/// A numerical check of one statement of a seed paper. Each states what it measures, on which seeded
/// configurations, and its pass criterion with the derivation from the statement (docs/math.md §10) —
/// criteria come from the statements and the measured sampling error, not from looking at results.
/// </summary>
public abstract class ProofCheck
{
    /// <summary>Identifier named after the statement (e.g. <c>TheoremB2</c>).</summary>
    public abstract string Name { get; }
    /// <summary>The statement, in words.</summary>
    public abstract string Statement { get; }
    /// <summary>What is measured and how the criterion follows from the statement.</summary>
    public abstract string Derivation { get; }
    /// <summary>The mutants (<see cref="MutantCatalogue"/>) this check is designed to reject; asserted by tests.</summary>
    public virtual IReadOnlyList<string> MeantToKill => Array.Empty<string>();

    public CheckResult Run(CheckOptions options, IProgress<double>? progress = null)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        string? reason = options.Target is { } target ? NotApplicableTo(target) : null;
        var r = reason is not null
            ? new CheckResult(Name, Statement, true, "not applicable: " + reason, Array.Empty<Measurement>(), Array.Empty<RateSeries>(), "", "", 0, reason)
            : Execute(options, progress ?? new Progress<double>());
        string reproduce = options.Target is not null ? $"mor-icl verify --model MODEL --check {Name} --seed {options.Seed}"
            : $"mor-icl verify --check {Name} --seed {options.Seed}{(options.Full ? " --full" : "")}";
        return r with { Seconds = sw.Elapsed.TotalSeconds, Reproduce = reproduce };
    }

    /// <summary>
    /// <c>verify --model</c>: why this check cannot be run on <paramref name="model"/> at its own
    /// specification (null when it can). The default: checks that do not read a seed 000 model.
    /// </summary>
    protected virtual string? NotApplicableTo(TransformerModel model) => "this check is not about a constructed seed 000 transformer";

    /// <summary>Why this check cannot be run on <paramref name="model"/> at its own specification, or null.</summary>
    public string? ApplicabilityTo(TransformerModel model) => NotApplicableTo(model);

    protected abstract CheckResult Execute(CheckOptions options, IProgress<double> progress);

    protected CheckResult Result(IReadOnlyList<Measurement> measurements, string summary, string configuration, IReadOnlyList<RateSeries>? series = null) =>
        new(Name, Statement, measurements.All(m => m.Passed), summary, measurements, series ?? Array.Empty<RateSeries>(), configuration, "", 0);

    /// <summary>A result that says the check cannot be run on what it was given (e.g. an algorithm has no heads to read).</summary>
    protected CheckResult NotApplicable(string reason) =>
        new(Name, Statement, true, "not applicable: " + reason, Array.Empty<Measurement>(), Array.Empty<RateSeries>(), "", "", 0, reason);
}
