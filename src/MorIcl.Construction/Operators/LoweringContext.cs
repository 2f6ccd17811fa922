using MorIcl.Construction.Model;

namespace MorIcl.Construction.Operators
{
    /// <summary>What every operator's lowering needs: the layout, the embedding and the margin R.</summary>
    public sealed class LoweringContext
    {
        public ResidualLayout Layout { get; }
        public Embedding Embedding { get; }
        public double Margin { get; }
        public int D => Layout.Dimension;
        public int Roles => TokenRoles.Count(Embedding.AuxiliaryCount);

        public LoweringContext(ResidualLayout layout, Embedding embedding, double margin)
        {
            Layout = layout; Embedding = embedding; Margin = margin;
        }

        public Admission AdmitAll() => Admission.All(Roles);
    }
}
