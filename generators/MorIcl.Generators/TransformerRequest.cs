using System;
using System.Linq;

namespace MorIcl.Generators
{
    /// <summary>An attribute argument's name and where it is written.</summary>
    internal sealed class ArgumentLocation : IEquatable<ArgumentLocation>
    {
        public string Name { get; }
        public LocationInfo? Location { get; }
        public ArgumentLocation(string name, LocationInfo? location) { Name = name; Location = location; }
        public bool Equals(ArgumentLocation? o) => o != null && o.Name == Name && Equals(o.Location, Location);
        public override bool Equals(object? obj) => obj is ArgumentLocation a && Equals(a);
        public override int GetHashCode() => Name.GetHashCode();
    }

    /// <summary>
    /// What the parser read from one [ConstructedTransformer] class: plain, immutable, equatable data
    /// (no symbols or syntax nodes), so the incremental pipeline can cache it.
    /// </summary>
    internal sealed class TransformerRequest : IEquatable<TransformerRequest>
    {
        public string? Namespace { get; set; }
        public string ClassName { get; set; } = "";
        public string Accessibility { get; set; } = "";
        public LocationInfo? AttributeLocation { get; set; }
        public int? Dimension { get; set; }
        public int? Components { get; set; }
        public int? EmIterations { get; set; }
        public int? GradientSteps { get; set; }
        public double? StepSize { get; set; }
        public double? Sigma { get; set; }
        public EquatableArray<double>? Mixing { get; set; }
        public bool Symmetric { get; set; }
        public EquatableArray<double>? InitialBeta { get; set; }
        public double? Margin { get; set; }
        public int? MaxPromptLength { get; set; }
        public bool EstimateMixing { get; set; }
        public double? MixingFloor { get; set; }
        public EquatableArray<ArgumentLocation> Arguments { get; set; } = new EquatableArray<ArgumentLocation>(new ArgumentLocation[0]);
        public EquatableArray<DiagnosticInfo> Diagnostics { get; set; } = new EquatableArray<DiagnosticInfo>(new DiagnosticInfo[0]);

        /// <summary>Where argument <paramref name="name"/> is written, else the attribute.</summary>
        public LocationInfo? LocationOf(string name) => Arguments.FirstOrDefault(a => a.Name == name)?.Location ?? AttributeLocation;

        public bool Equals(TransformerRequest? o) =>
            o != null && o.Namespace == Namespace && o.ClassName == ClassName && o.Accessibility == Accessibility && Equals(o.AttributeLocation, AttributeLocation)
            && o.Dimension == Dimension && o.Components == Components && o.EmIterations == EmIterations && o.GradientSteps == GradientSteps
            && Nullable.Equals(o.StepSize, StepSize) && Nullable.Equals(o.Sigma, Sigma) && Nullable.Equals(o.Mixing, Mixing) && o.Symmetric == Symmetric
            && Nullable.Equals(o.InitialBeta, InitialBeta) && Nullable.Equals(o.Margin, Margin) && o.MaxPromptLength == MaxPromptLength && o.EstimateMixing == EstimateMixing && Nullable.Equals(o.MixingFloor, MixingFloor)
            && o.Arguments.Equals(Arguments) && o.Diagnostics.Equals(Diagnostics);

        public override bool Equals(object? obj) => obj is TransformerRequest r && Equals(r);
        public override int GetHashCode() => (ClassName.GetHashCode() * 31 + (Dimension ?? -1)) * 31 + (Components ?? -1);
    }
}
