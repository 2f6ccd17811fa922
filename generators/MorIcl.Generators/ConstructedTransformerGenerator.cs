using System;
using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using MorIcl.Construction;

namespace MorIcl.Generators
{
    /// <summary>
    /// [ConstructedTransformer(…)] on a static partial class → &lt;Class&gt;.g.cs with the constructed
    /// transformer's weights. Incremental: the parser's equatable <see cref="TransformerRequest"/> is
    /// cached, so an unrelated edit does not rebuild the model. Never throws; never emits half a file.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class ConstructedTransformerGenerator : IIncrementalGenerator
    {
        public const string ParseStep = "MorIcl.Parse";

        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var requests = context.SyntaxProvider.ForAttributeWithMetadataName(Parser.AttributeName,
                    predicate: static (node, _) => node is ClassDeclarationSyntax,
                    transform: static (ctx, ct) => Parser.Parse(ctx, ct))
                .WithTrackingName(ParseStep);
            context.RegisterSourceOutput(requests, static (spc, request) => Execute(spc, request));
        }

        private static void Execute(SourceProductionContext spc, TransformerRequest request)
        {
            foreach (var d in request.Diagnostics) spc.ReportDiagnostic(d.ToDiagnostic());
            if (request.Diagnostics.Length > 0) return;
            var (source, diagnostics) = Generate(request);
            foreach (var d in diagnostics) spc.ReportDiagnostic(d.ToDiagnostic());
            if (source != null) spc.AddSource(request.ClassName + ".g.cs", SourceText.From(source, System.Text.Encoding.UTF8));
        }

        /// <summary>The whole file, or null and the diagnostics that say why (also used by <c>mor-icl inspect --emit-csharp</c>).</summary>
        internal static (string? Source, List<DiagnosticInfo> Diagnostics) Generate(TransformerRequest request)
        {
            var diagnostics = new List<DiagnosticInfo>();
            try
            {
                var spec = Emitter.BuildSpec(request, diagnostics);
                if (spec == null) return (null, diagnostics);
                if (spec.StepSize > 1)
                    diagnostics.Add(new DiagnosticInfo(Diagnostics.UnstableStepSize, request.LocationOf("StepSize"), spec.StepSize.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
                var model = Compiler.Compile(spec);
                int nonZeros = Emitter.NonZeros(model);
                if (nonZeros > Emitter.MaxNonZeros)
                {
                    diagnostics.Add(new DiagnosticInfo(Diagnostics.TooLarge, request.AttributeLocation, nonZeros.ToString(), model.Layers.Count.ToString(), Emitter.MaxNonZeros.ToString()));
                    return (null, diagnostics);
                }
                return (Emitter.Emit(request, model), diagnostics);
            }
            catch (Exception e)
            {
                diagnostics.Add(new DiagnosticInfo(Diagnostics.InternalError, request.AttributeLocation, e.GetType().Name + ": " + e.Message));
                return (null, diagnostics);
            }
        }
    }
}
