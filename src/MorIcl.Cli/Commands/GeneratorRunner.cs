extern alias generators;
using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using MorIcl.Construction;
using generators::MorIcl.Generators;

namespace MorIcl.Cli.Commands;

/// <summary>Runs the MorIcl source generator in-process on a one-class compilation for a specification.</summary>
internal static class GeneratorRunner
{
    /// <summary>The [ConstructedTransformer(…)] arguments that reproduce <paramref name="spec"/>.</summary>
    public static string AttributeArguments(ConstructionSpec spec)
    {
        static string D(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var args = new List<string>
        {
            $"Dimension = {spec.Dimension}", $"Components = {spec.Components}", $"EmIterations = {spec.EmIterations}",
            $"GradientSteps = {spec.GradientSteps}", $"StepSize = {D(spec.StepSize)}", $"Sigma = {D(spec.Sigma)}",
            $"Mixing = new[] {{ {string.Join(", ", spec.Mixing.Select(D))} }}",
        };
        if (spec.Symmetric) args.Add("Symmetric = true");
        if (spec.EstimateMixing) args.Add("EstimateMixing = true");
        if (spec.MixingFloor != 1e-3) args.Add($"MixingFloor = {D(spec.MixingFloor)}");
        var beta = spec.Symmetric ? spec.InitialBeta[0] : spec.InitialBeta.SelectMany(b => b).ToArray();
        args.Add($"InitialBeta = new[] {{ {string.Join(", ", beta.Select(D))} }}");
        if (spec.Margin != ConstructionSpec.DefaultMargin) args.Add($"Margin = {D(spec.Margin)}");
        if (spec.MaxPromptLength != ConstructionSpec.DefaultMaxPromptLength) args.Add($"MaxPromptLength = {spec.MaxPromptLength}");
        return string.Join(", ", args);
    }

    /// <summary>The generated file, or the generator's diagnostics as an error.</summary>
    public static string Emit(ConstructionSpec spec, string className)
    {
        string source = $"namespace MorIcl.Generated;\n[MorIcl.ConstructedTransformer({AttributeArguments(spec)})]\npublic static partial class {className} {{ }}\n";
        var tpa = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var refs = tpa.Where(p => Path.GetFileName(p).StartsWith("System.") || Path.GetFileName(p) is "netstandard.dll")
            .Append(typeof(ConstructedTransformerAttribute).Assembly.Location)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create("Inspect", new[] { CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest)) }, refs,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        var driver = CSharpGeneratorDriver.Create(new ConstructedTransformerGenerator()).RunGenerators(compilation);
        var run = driver.GetRunResult();
        var errors = run.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        if (errors.Length > 0) throw new SpecificationException("the generator reports " + string.Join("; ", errors.Select(d => $"{d.Id}: {d.GetMessage(CultureInfo.InvariantCulture)}")));
        return run.GeneratedTrees.Single().GetText().ToString();
    }
}
