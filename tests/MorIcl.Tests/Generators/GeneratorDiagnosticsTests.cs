using Microsoft.CodeAnalysis;
using MorIcl.Tests.Support;
using Snapshooter;
using Snapshooter.Xunit;

namespace MorIcl.Tests.Generators;

/// <summary>Bad specifications are compiler diagnostics with stable ids, at the offending argument; no file is emitted.</summary>
public class GeneratorDiagnosticsTests
{
    private const string Good = "Dimension = 2, Components = 2, EmIterations = 1, GradientSteps = 1, StepSize = 0.5, Sigma = 0.5";

    public static TheoryData<string, string, string, string?> Cases => new()
    {
        // name, attribute arguments, expected id, the argument the diagnostic must point at (null: the attribute or class)
        { "NotStaticPartial", "", "MORICL001", null },
        { "MissingArguments", "Dimension = 2, Components = 2", "MORICL002", null },
        { "DimensionZero", Good.Replace("Dimension = 2", "Dimension = 0"), "MORICL003", "Dimension = 0" },
        { "ComponentsZero", Good.Replace("Components = 2", "Components = 0"), "MORICL003", "Components = 0" },
        { "SigmaNotPositive", Good.Replace("Sigma = 0.5", "Sigma = -1"), "MORICL003", "Sigma = -1" },
        { "StepSizeNotPositive", Good.Replace("StepSize = 0.5", "StepSize = 0"), "MORICL003", "StepSize = 0" },
        { "EmIterationsZero", Good.Replace("EmIterations = 1", "EmIterations = 0"), "MORICL003", "EmIterations = 0" },
        { "GradientStepsZero", Good.Replace("GradientSteps = 1", "GradientSteps = 0"), "MORICL003", "GradientSteps = 0" },
        { "MixingNotPositive", Good + ", Mixing = new[] { 1.5, -0.5 }", "MORICL003", "Mixing = new[] { 1.5, -0.5 }" },
        { "MixingNotSummingToOne", Good + ", Mixing = new[] { 0.5, 0.6 }", "MORICL003", "Mixing = new[] { 0.5, 0.6 }" },
        { "InitialBetaWrongShape", Good + ", InitialBeta = new[] { 1.0, 2.0, 3.0 }", "MORICL003", "InitialBeta = new[] { 1.0, 2.0, 3.0 }" },
        { "MarginOutOfRange", Good + ", Margin = 1e6", "MORICL003", "Margin = 1e6" },
        { "TooLarge", "Dimension = 20, Components = 5, EmIterations = 20, GradientSteps = 10, StepSize = 0.5, Sigma = 0.5", "MORICL004", null },
        { "UnstableStepSize", Good.Replace("StepSize = 0.5", "StepSize = 1.5"), "MORICL005", "StepSize = 1.5" },
        { "NameClash", Good, "MORICL007", "Model" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void DiagnosticHasItsIdLocationAndMessage(string name, string arguments, string id, string? at)
    {
        var source = name switch
        {
            "NotStaticPartial" => GeneratorHarness.Attribute(Good, modifiers: "public partial"),
            "NameClash" => GeneratorHarness.Attribute(Good, name: "Model"),
            _ => GeneratorHarness.Attribute(arguments),
        };
        var result = GeneratorHarness.Run(source);
        var d = Assert.Single(result.GeneratorDiagnostics);
        Assert.Equal(id, d.Id);
        if (at is not null) Assert.Equal(at, source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length));
        Assert.Equal("Consumer.cs", d.Location.GetLineSpan().Path);
        bool isError = d.Severity == DiagnosticSeverity.Error;
        Assert.Equal(isError, result.Source("Em") is null && result.Source("Model") is null);
        Snapshot.Match($"{d.Id} ({d.Severity}) at {d.Location.GetLineSpan().StartLinePosition}: {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}",
            new SnapshotFullName($"Diagnostic_{name}.snap", GeneratorHarness.SnapshotFolder()));
    }

    [Fact]
    public void AValidSpecificationCompilesWithoutDiagnostics()
    {
        var result = GeneratorHarness.Run(GeneratorHarness.Attribute(Good) + "static class Use { static object M() => Demo.Em.Model; }");
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.True(result.CompilationDiagnostics.IsEmpty, string.Join("\n", result.CompilationDiagnostics.Take(5)));
        Assert.NotNull(result.Source("Em"));
    }
}
