using MorIcl.Construction.Model;
using MorIcl.Construction.Programs;

namespace MorIcl.Construction
{
    /// <summary>
    /// The construction compiler: specification → program (gradient EM, K-component or symmetric) →
    /// operators → explicit layers, assembled into a <see cref="TransformerModel"/>.
    /// </summary>
    public static class Compiler
    {
        public static TransformerModel Compile(ConstructionSpec spec) =>
            spec.Symmetric ? SymmetricGradientEmProgram.Compile(spec) : GradientEmProgram.Compile(spec);
    }
}
