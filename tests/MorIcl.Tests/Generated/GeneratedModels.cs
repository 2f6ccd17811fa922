using MorIcl;

namespace MorIcl.Tests.Generated;

/// <summary>Built at compile time by the MorIcl generator: small two-component model.</summary>
[ConstructedTransformer(Dimension = 3, Components = 2, EmIterations = 3, GradientSteps = 2, StepSize = 0.5, Sigma = 0.5)]
public static partial class TwoComponentModel { }

/// <summary>Two components with π ≠ ½ and a given β⁽⁰⁾ (the symmetric tanh program).</summary>
[ConstructedTransformer(Dimension = 3, Components = 2, Symmetric = true, Mixing = new[] { 0.7, 0.3 }, InitialBeta = new[] { 0.4, -0.2, 0.1 },
    EmIterations = 4, GradientSteps = 2, StepSize = 0.8, Sigma = 0.3)]
public static partial class SymmetricModel { }

/// <summary>K = 3 with unequal mixing weights.</summary>
[ConstructedTransformer(Dimension = 4, Components = 3, Mixing = new[] { 0.2, 0.3, 0.5 }, EmIterations = 2, GradientSteps = 3, StepSize = 0.6, Sigma = 0.4)]
public static partial class ThreeComponentModel { }
