using System.Collections.Generic;

namespace MorIcl.Construction.Model
{
    /// <summary>Where the answers are read.</summary>
    public sealed class ReadOut
    {
        /// <summary>Row of the query token holding the prediction ŷ.</summary>
        public int Prediction { get; }
        /// <summary>β̂_k blocks (any token; read from the query token).</summary>
        public LayoutBlock[] Beta { get; }
        /// <summary>Rows holding γ_ik (K-component program) after an E-step block, or null.</summary>
        public int[]? Responsibilities { get; }
        /// <summary>Row holding w_i + 1 (symmetric program) after an E-step block, or -1.</summary>
        public int SymmetricWeightPlusOne { get; }

        /// <summary>Rows holding π̂ when the model estimates the mixing weights, else null.</summary>
        public LayoutBlock? Mixing { get; }

        public ReadOut(int prediction, LayoutBlock[] beta, int[]? responsibilities, int symmetricWeightPlusOne, LayoutBlock? mixing = null)
        {
            Prediction = prediction; Beta = beta; Responsibilities = responsibilities; SymmetricWeightPlusOne = symmetricWeightPlusOne; Mixing = mixing;
        }
    }

    /// <summary>
    /// Where a model's weights come from. Only <see cref="Construction"/> claims to be the compiled
    /// form of its <see cref="TransformerModel.Spec"/>; trained and hand-built models carry a spec for
    /// their shapes (d, K, layout) and are never labelled as its construction.
    /// </summary>
    public enum ModelOrigin
    {
        /// <summary>Compiled from the specification (mor-icl construct, the generator).</summary>
        Construction,
        /// <summary>Weights learned by training (the spec gives the architecture's shape only).</summary>
        Trained,
        /// <summary>Weights written by hand or edited on purpose (no specification is claimed).</summary>
        HandBuilt,
    }

    /// <summary>
    /// A constructed transformer: the specification it was compiled from, the residual layout, the
    /// input embedding, the ordered layers (each with provenance and domain) and the read-out.
    /// </summary>
    public sealed class TransformerModel
    {
        public ConstructionSpec Spec { get; }
        /// <summary>Whether the weights claim to be the construction of <see cref="Spec"/> (see <see cref="ModelOrigin"/>).</summary>
        public ModelOrigin Origin { get; }
        public ResidualLayout Layout { get; }
        public Embedding Embedding { get; }
        public IReadOnlyList<Layer> Layers { get; }
        public ReadOut ReadOut { get; }
        /// <summary>The margin R used for every positional and exclusion score.</summary>
        public double Margin { get; }

        public TransformerModel(ConstructionSpec spec, ResidualLayout layout, Embedding embedding, IReadOnlyList<Layer> layers, ReadOut readOut, double margin,
            ModelOrigin origin = ModelOrigin.Construction)
        {
            Spec = spec; Layout = layout; Embedding = embedding; Layers = layers; ReadOut = readOut; Margin = margin; Origin = origin;
        }

        public int Dimension => Layout.Dimension;

        /// <summary>
        /// Largest prompt length n the model certifies: the specification's maximum prompt length exactly
        /// (<c>construct --max-prompt-length</c>), never more than the positional scheme encodes.
        /// </summary>
        public long MaxPromptLength => System.Math.Min(Spec.MaxPromptLength, Embedding.MaxPosition);

        /// <summary>Sum over layers of the declared error of approximate operators (0 when every operator is exact).</summary>
        public double DeclaredApproximationError
        {
            get
            {
                double e = 0;
                foreach (var l in Layers) if (l is MlpLayer m) e += m.DeclaredError;
                return e;
            }
        }
    }
}
