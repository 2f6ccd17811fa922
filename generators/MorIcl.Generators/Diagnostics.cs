using System;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace MorIcl.Generators
{
    /// <summary>The generator's diagnostics. Ids are stable; README lists them.</summary>
    public static class Diagnostics
    {
        private const string Category = "MorIcl.Construction";

        public static readonly DiagnosticDescriptor NotStaticPartial = new DiagnosticDescriptor("MORICL001",
            "ConstructedTransformer needs a static partial class",
            "'{0}' must be declared 'static partial' to receive the constructed transformer's weights",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor MissingArgument = new DiagnosticDescriptor("MORICL002",
            "Missing ConstructedTransformer argument",
            "[ConstructedTransformer] needs {0}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor InvalidArgument = new DiagnosticDescriptor("MORICL003",
            "Invalid ConstructedTransformer argument",
            "{0}: {1}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor TooLarge = new DiagnosticDescriptor("MORICL004",
            "Constructed model too large to emit",
            "the constructed model has {0} non-zero weights in {1} layers; the generator emits at most {2} (use 'mor-icl construct' for larger models)",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor UnstableStepSize = new DiagnosticDescriptor("MORICL005",
            "Step size outside the stable range",
            "StepSize = {0}: gradient steps on unit-variance inputs are stable for 0 < α ≤ 1 (the loss Hessian is ≈ π_k·I and λ_max(XᵀX/n) < 2 once n ≥ 6d); larger steps can diverge",
            Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor NameClash = new DiagnosticDescriptor("MORICL007",
            "Class name clashes with the generated Model property",
            "a class named '{0}' cannot hold the generated property '{0}'; rename the class",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor InternalError = new DiagnosticDescriptor("MORICL006",
            "Construction failed",
            "the construction failed unexpectedly: {0}",
            Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
    }

    /// <summary>A location without syntax-tree references, so the cached model stays equatable.</summary>
    internal sealed class LocationInfo : IEquatable<LocationInfo>
    {
        public string FilePath { get; }
        public TextSpan Span { get; }
        public LinePositionSpan LineSpan { get; }

        public LocationInfo(string filePath, TextSpan span, LinePositionSpan lineSpan) { FilePath = filePath; Span = span; LineSpan = lineSpan; }

        public static LocationInfo? From(SyntaxNode? node)
        {
            if (node == null) return null;
            var loc = node.GetLocation();
            return loc.SourceTree == null ? null : new LocationInfo(loc.SourceTree.FilePath, loc.SourceSpan, loc.GetLineSpan().Span);
        }

        public static LocationInfo FromToken(SyntaxToken token)
        {
            var loc = token.GetLocation();
            return new LocationInfo(loc.SourceTree?.FilePath ?? "", loc.SourceSpan, loc.GetLineSpan().Span);
        }

        public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

        public bool Equals(LocationInfo? o) => o != null && o.FilePath == FilePath && o.Span.Equals(Span) && o.LineSpan.Equals(LineSpan);
        public override bool Equals(object? obj) => obj is LocationInfo l && Equals(l);
        public override int GetHashCode() => FilePath.GetHashCode() ^ Span.GetHashCode();
    }

    /// <summary>A diagnostic to report, as plain data.</summary>
    internal sealed class DiagnosticInfo : IEquatable<DiagnosticInfo>
    {
        public DiagnosticDescriptor Descriptor { get; }
        public LocationInfo? Location { get; }
        public EquatableArray<string> Arguments { get; }

        public DiagnosticInfo(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] arguments)
        {
            Descriptor = descriptor; Location = location; Arguments = new EquatableArray<string>(arguments);
        }

        public Diagnostic ToDiagnostic() => Diagnostic.Create(Descriptor, Location?.ToLocation(), Arguments.ToArray());

        public bool Equals(DiagnosticInfo? o) => o != null && o.Descriptor.Id == Descriptor.Id && Equals(o.Location, Location) && o.Arguments.Equals(Arguments);
        public override bool Equals(object? obj) => obj is DiagnosticInfo d && Equals(d);
        public override int GetHashCode() => Descriptor.Id.GetHashCode() ^ Arguments.GetHashCode();
    }
}
