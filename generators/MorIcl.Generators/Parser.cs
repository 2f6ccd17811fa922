using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace MorIcl.Generators
{
    /// <summary>Syntax and attribute data → <see cref="TransformerRequest"/> (plus syntax-level diagnostics).</summary>
    internal static class Parser
    {
        public const string AttributeName = "MorIcl.ConstructedTransformerAttribute";
        private static readonly string[] Required = { "Dimension", "Components", "EmIterations", "GradientSteps", "StepSize", "Sigma" };

        public static TransformerRequest Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellation)
        {
            var cls = (ClassDeclarationSyntax)context.TargetNode;
            var symbol = (INamedTypeSymbol)context.TargetSymbol;
            var attribute = context.Attributes[0];
            var attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellation) as AttributeSyntax;
            var diagnostics = new List<DiagnosticInfo>();
            var request = new TransformerRequest
            {
                ClassName = symbol.Name,
                Namespace = symbol.ContainingNamespace.IsGlobalNamespace ? null : symbol.ContainingNamespace.ToDisplayString(),
                Accessibility = symbol.DeclaredAccessibility == Microsoft.CodeAnalysis.Accessibility.Public ? "public" : "internal",
                AttributeLocation = LocationInfo.From(attributeSyntax),
            };

            bool isStatic = cls.Modifiers.Any(m => m.IsKind(SyntaxKind.StaticKeyword));
            bool isPartial = cls.Modifiers.Any(m => m.IsKind(SyntaxKind.PartialKeyword));
            if (!isStatic || !isPartial || symbol.ContainingType != null || symbol.IsGenericType)
                diagnostics.Add(new DiagnosticInfo(Diagnostics.NotStaticPartial, LocationInfo.FromToken(cls.Identifier),
                    symbol.ContainingType != null || symbol.IsGenericType ? symbol.Name + " (a top-level, non-generic class)" : symbol.Name));

            if (symbol.Name == "Model" || symbol.Name == "Build")
                diagnostics.Add(new DiagnosticInfo(Diagnostics.NameClash, LocationInfo.FromToken(cls.Identifier), symbol.Name));

            var locations = new List<ArgumentLocation>();
            if (attributeSyntax?.ArgumentList != null)
                foreach (var arg in attributeSyntax.ArgumentList.Arguments)
                    if (arg.NameEquals != null) locations.Add(new ArgumentLocation(arg.NameEquals.Name.Identifier.Text, LocationInfo.From(arg)));
            request.Arguments = new EquatableArray<ArgumentLocation>(locations.ToArray());

            foreach (var named in attribute.NamedArguments)
            {
                var v = named.Value;
                if (v.Kind == TypedConstantKind.Error) continue; // the compiler reports it
                switch (named.Key)
                {
                    case "Dimension": request.Dimension = v.Value as int?; break;
                    case "Components": request.Components = v.Value as int?; break;
                    case "EmIterations": request.EmIterations = v.Value as int?; break;
                    case "GradientSteps": request.GradientSteps = v.Value as int?; break;
                    case "StepSize": request.StepSize = v.Value as double?; break;
                    case "Sigma": request.Sigma = v.Value as double?; break;
                    case "Symmetric": request.Symmetric = v.Value as bool? ?? false; break;
                    case "Margin": request.Margin = v.Value as double?; break;
                    case "MaxPromptLength": request.MaxPromptLength = v.Value as int?; break;
                    case "EstimateMixing": request.EstimateMixing = v.Value as bool? ?? false; break;
                    case "MixingFloor": request.MixingFloor = v.Value as double?; break;
                    case "Mixing": request.Mixing = Doubles(v); break;
                    case "InitialBeta": request.InitialBeta = Doubles(v); break;
                }
            }
            var given = new HashSet<string>(attribute.NamedArguments.Select(a => a.Key));
            var missing = Required.Where(r => !given.Contains(r)).ToArray();
            if (missing.Length > 0)
                diagnostics.Add(new DiagnosticInfo(Diagnostics.MissingArgument, request.AttributeLocation, string.Join(", ", missing)));
            request.Diagnostics = new EquatableArray<DiagnosticInfo>(diagnostics.ToArray());
            return request;
        }

        private static EquatableArray<double>? Doubles(TypedConstant v) =>
            v.IsNull ? (EquatableArray<double>?)null : new EquatableArray<double>(v.Values.Select(x => x.Value is double d ? d : 0).ToArray());
    }
}
