extern alias generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using MorIcl.Tests.Support;
using Snapshooter;
using Snapshooter.Xunit;

namespace MorIcl.Tests.Generators;

public class GeneratorEngineeringTests
{
    private const string Spec = "Dimension = 2, Components = 2, EmIterations = 1, GradientSteps = 1, StepSize = 0.5, Sigma = 0.5";

    [Fact]
    public void SecondRunIsServedFromTheCache()
    {
        var compilation = GeneratorHarness.Compilation(GeneratorHarness.Attribute(Spec));
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);
        // An unrelated edit: a new file. The parsed request is unchanged, so nothing is rebuilt.
        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace Other { class Unrelated { } }", new CSharpParseOptions(LanguageVersion.Latest)));
        driver = driver.RunGenerators(edited);
        var run = driver.GetRunResult().Results.Single();
        var parse = run.TrackedSteps[generators::MorIcl.Generators.ConstructedTransformerGenerator.ParseStep];
        Assert.All(parse.SelectMany(s => s.Outputs), o => Assert.Contains(o.Reason, new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged }));
        Assert.All(run.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void AChangedArgumentRebuilds()
    {
        var compilation = GeneratorHarness.Compilation(GeneratorHarness.Attribute(Spec));
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);
        var tree = compilation.SyntaxTrees.Single();
        var changed = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(GeneratorHarness.Attribute(Spec.Replace("Sigma = 0.5", "Sigma = 0.25")), new CSharpParseOptions(LanguageVersion.Latest), path: "Consumer.cs"));
        driver = driver.RunGenerators(changed);
        var parse = driver.GetRunResult().Results.Single().TrackedSteps[generators::MorIcl.Generators.ConstructedTransformerGenerator.ParseStep];
        Assert.Contains(parse.SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
    }

    [Fact]
    public void NumbersAreInvariantRoundTripAndNonFiniteByName()
    {
        Assert.Equal("0.1d", generators::MorIcl.Generators.Emitter.D(0.1));
        Assert.Equal("-4096d", generators::MorIcl.Generators.Emitter.D(-4096));
        Assert.Equal("double.NaN", generators::MorIcl.Generators.Emitter.D(double.NaN));
        Assert.Equal("double.PositiveInfinity", generators::MorIcl.Generators.Emitter.D(double.PositiveInfinity));
        Assert.Equal("double.NegativeInfinity", generators::MorIcl.Generators.Emitter.D(double.NegativeInfinity));
        var previous = Thread.CurrentThread.CurrentCulture;
        try
        {
            Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            Assert.Equal("0.30000000000000004d", generators::MorIcl.Generators.Emitter.D(0.1 + 0.2));
        }
        finally { Thread.CurrentThread.CurrentCulture = previous; }
    }

    public static TheoryData<string, string> SnapshotSpecs => new()
    {
        { "SmallTwoComponent", "Dimension = 2, Components = 2, EmIterations = 1, GradientSteps = 1, StepSize = 0.5, Sigma = 0.5" },
        { "TwoComponentUnequalMixing", "Dimension = 2, Components = 2, Mixing = new[] { 0.7, 0.3 }, InitialBeta = new[] { 0.5, -0.5, -0.5, 0.5 }, EmIterations = 1, GradientSteps = 1, StepSize = 0.5, Sigma = 0.5" },
        { "SymmetricUnequalMixing", "Dimension = 2, Components = 2, Symmetric = true, Mixing = new[] { 0.7, 0.3 }, EmIterations = 1, GradientSteps = 1, StepSize = 0.5, Sigma = 0.5" },
        { "ThreeComponents", "Dimension = 2, Components = 3, EmIterations = 1, GradientSteps = 1, StepSize = 0.5, Sigma = 0.5" },
    };

    [Theory]
    [MemberData(nameof(SnapshotSpecs))]
    public void GeneratedSourceMatchesItsSnapshot(string name, string arguments)
    {
        var result = GeneratorHarness.Run(GeneratorHarness.Attribute(arguments));
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.True(result.CompilationDiagnostics.IsEmpty, string.Join("\n", result.CompilationDiagnostics.Take(5)));
        Snapshot.Match(result.Source("Em")!, new SnapshotFullName($"Generated_{name}.snap", GeneratorHarness.SnapshotFolder()));
    }
}
