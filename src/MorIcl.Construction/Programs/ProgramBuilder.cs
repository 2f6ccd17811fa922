using System.Collections.Generic;
using System.Linq;
using MorIcl.Construction.Model;
using MorIcl.Construction.Operators;

namespace MorIcl.Construction.Programs
{
    /// <summary>Shared stages of both programs: the embedding's layout and the prologue.</summary>
    internal sealed class ProgramBuilder
    {
        public ResidualLayout Layout { get; } = new ResidualLayout();
        public Embedding Embedding { get; private set; } = null!;
        public LoweringContext Ctx { get; private set; } = null!;
        public List<Layer> Layers { get; } = new List<Layer>();
        public ConstructionSpec Spec { get; }

        public ProgramBuilder(ConstructionSpec spec) { Spec = spec; }

        /// <summary>Allocates the embedding rows (seed 000 eq. (3) plus positions and auxiliary flags).</summary>
        public void AllocateEmbedding(string[] auxiliaryNames)
        {
            int d = Spec.Dimension, digits = Spec.PositionDigits;
            var x = Layout.Allocate("x", d, "input x_i (examples and query)");
            var y = Layout.Allocate("y", 1, "label y_i (0 on the query)");
            var t = Layout.Allocate("t", 1, "1 on examples, 0 elsewhere");
            var q = Layout.Allocate("is_query", 1, "1 on the query token");
            var one = Layout.Allocate("one", 1, "the constant 1");
            var positioned = Layout.Allocate("positioned", 1, "1 on examples and the query (tokens with a position)");
            var pd = Layout.Allocate("pos", digits, $"position digits (base {ConstructionSpec.PositionBase}, least significant first)");
            var pq = Layout.Allocate("pos_sq", digits, "squares of the position digits");
            var aux = Layout.Allocate("aux", System.Math.Max(auxiliaryNames.Length, 1), auxiliaryNames.Length == 0 ? "unused (no auxiliary tokens)" : "flags of the auxiliary tokens: " + string.Join(", ", auxiliaryNames));
            Embedding = new Embedding(0, d, x, y, t, q, one, positioned, pd, pq, aux, auxiliaryNames, ConstructionSpec.PositionBase);
        }

        /// <summary>Call once every row is allocated.</summary>
        public void Seal()
        {
            var e = Embedding;
            Embedding = new Embedding(Layout.Dimension, e.InputDimension, e.X, e.Y, e.IsExample, e.IsQuery, e.One, e.Positioned, e.PositionDigits, e.PositionDigitSquares, e.AuxiliaryFlags, e.AuxiliaryNames, e.PositionBase);
            Ctx = new LoweringContext(Layout, Embedding, Spec.Margin);
        }

        /// <summary>
        /// Prologue: (1) write β⁽⁰⁾ into every token (an MLP bias); (2) copy_over N = (query index n) + 1 + A
        /// from the query token to every token; (3) N·x_i and N·y_i, exact products with the replicated N.
        /// </summary>
        public void Prologue(LayoutBlock[] betaBlocks, double[][] beta0, LayoutBlock tokenCount, LayoutBlock nx, LayoutBlock ny)
        {
            var mlp = new MlpBuilder(Ctx);
            for (int k = 0; k < betaBlocks.Length; k++)
                for (int a = 0; a < Spec.Dimension; a++) mlp.AddConstant(betaBlocks[k][a], beta0[k][a]);
            Layers.Add(mlp.Build(new Provenance("affine", 0, 0, "docs/math.md §2 initialisation β⁽⁰⁾", "write β⁽⁰⁾ into every token (bias b2)"), "exact"));

            var e = Embedding;
            var read = new List<Term>();
            long place = 1;
            for (int dgt = 0; dgt < e.Digits; dgt++) { read.Add(Term.Of(e.PositionDigits[dgt], place)); place *= e.PositionBase; }
            read.Add(Term.Of(e.One.Row, 1 + e.AuxiliaryCount));
            var copy = CopyOver.FromQuery(Ctx, "count", new[] { (tokenCount.Row, read.ToArray()) }, "score R·[j = query]; value n + 1 + A from the query's position digits → N in every token");
            Layers.Add(new AttentionLayer(new[] { copy }, new Provenance("copy_over", 0, 0, "Prop. E.2 (copy_over)", "token count N, read from the query's position"), CopyOver.Domain));

            var heads = new List<AttentionHead>();
            for (int a = 0; a < Spec.Dimension; a++)
                heads.AddRange(ReplicatedProduct.Pair(Ctx, $"nx{a}", new[] { (new[] { Term.Of(e.X[a]) }, new[] { Term.Of(e.One.Row) }) },
                    new[] { (nx[a], new[] { Term.Of(tokenCount.Row) }) }, $"score ±x_i[{a}]; value N → N·x_i[{a}]"));
            heads.AddRange(ReplicatedProduct.Pair(Ctx, "ny", new[] { (new[] { Term.Of(e.Y.Row) }, new[] { Term.Of(e.One.Row) }) },
                new[] { (ny.Row, new[] { Term.Of(tokenCount.Row) }) }, "score ±y_i; value N → N·y_i"));
            Layers.Add(new AttentionLayer(heads.ToArray(), new Provenance("product", 0, 0, "docs/math.md §3 (product with a replicated read-out)", "N·x_i and N·y_i, the values of the per-token products"), ReplicatedProduct.Domain));
        }

        /// <summary>One gradient step on each component (Prop. E.1 / Lemma 3.3), three layers.</summary>
        public void GradientStep(int s, int t, LayoutBlock[] beta, (Term[] Q, Term[] K)[][] residualDims, LayoutBlock[] sx, LayoutBlock nx, string objective)
        {
            int kCount = beta.Length;
            var products = new List<AttentionHead>();
            for (int k = 0; k < kCount; k++)
                products.AddRange(TokenProduct.Pair(Ctx, $"grad{k}", residualDims[k],
                    Enumerable.Range(0, Spec.Dimension).Select(a => (sx[k][a], new[] { Term.Of(nx[a]) })).ToArray(),
                    $"score ±∂ℓ_j = ±{objective}; value ±N·x_j → ∂ℓ_i·x_i into {sx[k].Name}"));
            Layers.Add(new AttentionLayer(products.ToArray(), new Provenance("gd_step", s, t, "Prop. E.1 / Lemma 3.3 (one ReLU head per ReLU of ∂ℓ = ReLU(t − z) − ReLU(z − t))",
                "per-token gradient terms ∂ℓ(⟨b, x_j⟩, z_j)·x_j"), TokenProduct.Domain));

            var means = new List<AttentionHead>();
            for (int k = 0; k < kCount; k++)
                means.Add(ExampleMean.Head(Ctx, $"step{k}", Enumerable.Range(0, Spec.Dimension).Select(a => (beta[k][a], new[] { Term.Of(sx[k][a], -Spec.StepSize) })).ToArray(),
                    $"score R·t_j; value −α·{sx[k].Name}_j → {beta[k].Name} −= α·(1/n) Σ_j ∂ℓ_j x_j"));
            Layers.Add(new AttentionLayer(means.ToArray(), new Provenance("gd_step", s, t, "Prop. E.1 / Lemma 3.3; docs/math.md §2 inner step b ← b − α (1/n) Σ_j ∂ℓ_j x_j",
                "mean over the n examples and the step of size α", DecodeKind.Beta), ExampleMean.Domain));

            var clear = new MlpBuilder(Ctx);
            foreach (var block in sx) clear.Clear(block);
            Layers.Add(clear.Build(new Provenance("affine", s, t, "Prop. E.2 (affine)", "reset the gradient scratch rows"), "exact"));
        }

        /// <summary>Read-out ŷ = ⟨x_{n+1}, Σ_k c_k β_k⟩ into row prediction (exact product with the replicated β).</summary>
        public void Prediction(LayoutBlock[] beta, double[] weights, int predictionRow, string formula)
        {
            var e = Embedding;
            var dims = Enumerable.Range(0, Spec.Dimension).Select(a =>
                (new[] { Term.Of(e.X[a]) }, beta.Select((b, k) => Term.Of(b[a], weights[k])).ToArray())).ToArray();
            var heads = ReplicatedProduct.Pair(Ctx, "predict", dims, new[] { (predictionRow, new[] { Term.Of(e.One.Row) }) }, $"score ±{formula}; value 1");
            Layers.Add(new AttentionLayer(heads, new Provenance("read-out", 0, 0, "docs/math.md §1 oracle form at β̂ (per-sample)", $"prediction ŷ = {formula}", DecodeKind.Prediction), ReplicatedProduct.Domain));
        }
    }
}
