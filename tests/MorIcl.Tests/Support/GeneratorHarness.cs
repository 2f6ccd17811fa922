extern alias generators;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using generators::MorIcl.Generators;

namespace MorIcl.Tests.Support;

/// <summary>Runs the MorIcl source generator in-process on a snippet, as the compiler would.</summary>
internal static class GeneratorHarness
{
    internal static readonly Lazy<MetadataReference[]> References = new(() =>
    {
        var tpa = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return tpa.Where(p => Path.GetFileName(p).StartsWith("System.") || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Append(typeof(ConstructedTransformerAttribute).Assembly.Location)
            .Append(typeof(MorIcl.Construction.Compiler).Assembly.Location)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray();
    });

    public static CSharpCompilation Compilation(string source) =>
        CSharpCompilation.Create("Consumer", new[] { CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest), path: "Consumer.cs") },
            References.Value, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver Driver() =>
        CSharpGeneratorDriver.Create(new[] { new ConstructedTransformerGenerator().AsSourceGenerator() },
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    public sealed record Result(GeneratorDriver Driver, GeneratorDriverRunResult Run, ImmutableArray<Diagnostic> CompilationDiagnostics)
    {
        public ImmutableArray<Diagnostic> GeneratorDiagnostics => Run.Diagnostics;
        public string? Source(string className) => Run.GeneratedTrees.FirstOrDefault(t => t.FilePath.EndsWith(className + ".g.cs"))?.GetText().ToString();
    }

    public static Result Run(string source)
    {
        var compilation = Compilation(source);
        var driver = Driver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToImmutableArray();
        return new Result(driver, driver.GetRunResult(), errors);
    }

    public static string Attribute(string arguments, string modifiers = "public static partial", string name = "Em") =>
        $"using MorIcl;\nnamespace Demo;\n[ConstructedTransformer({arguments})]\n{modifiers} class {name} {{ }}\n";

    /// <summary>The repository's top-level snapshots/ folder.</summary>
    public static string SnapshotFolder()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MorIcl.sln"))) dir = dir.Parent;
        return Path.Combine(dir?.FullName ?? throw new InvalidOperationException("MorIcl.sln not found above the test binaries"), "snapshots");
    }
}
