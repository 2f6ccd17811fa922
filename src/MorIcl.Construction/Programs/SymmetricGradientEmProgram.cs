using System;
using System.Linq;
using MorIcl.Construction.Model;
using MorIcl.Construction.Operators;

namespace MorIcl.Construction.Programs
{
    /// <summary>
    /// Gradient EM for the symmetric two-component model in its tanh form (docs/math.md §2; seed 000 §3,
    /// eqs. (13)–(16), Lemmas 3.2–3.3): w_i = tanh(y_i⟨x_i, β⟩/σ² + ½ log(π/(1 − π))), then T steps
    /// b ← b − α (1/n) Σ_i x_i (⟨x_i, b⟩ − w_i y_i). Prediction ŷ = (2π − 1)⟨x_{n+1}, β⟩.
    /// One auxiliary token, the "minus" token of the tanh gate.
    /// </summary>
    internal static class SymmetricGradientEmProgram
    {
        public static TransformerModel Compile(ConstructionSpec spec)
        {
            int d = spec.Dimension;
            double pi = spec.Mixing[0];
            var p = new ProgramBuilder(spec);
            p.AllocateEmbedding(new[] { "minus" });
            var L = p.Layout;
            var n = L.Allocate("N", 1, "token count N = n + 2 (computed in context)");
            var nx = L.Allocate("Nx", d, "N·x_i");
            var ny = L.Allocate("Ny", 1, "N·y_i");
            var beta = L.Allocate("beta", d, "β (b during the M-step), the same in every token");
            var u = L.Allocate("u", 1, "u_i = ⟨x_i, β⟩");
            var uy = L.Allocate("uy", 1, "u_i·y_i");
            var a = L.Allocate("a", 1, "a_i = y_i u_i/σ² + ½ log(π/(1 − π))");
            var zp = L.Allocate("wy_plus_y", 1, "w_i y_i + y_i");
            var wp = L.Allocate("w_plus_1", 1, "w_i + 1");
            var sx = L.Allocate("sx", d, "gradient term (⟨x_i, b⟩ − w_i y_i)·x_i");
            var pred = L.Allocate("prediction", 1, "ŷ = (2π − 1)⟨x_{n+1}, β⟩ on the query token");
            p.Seal();
            var e = p.Embedding;
            var ctx = p.Ctx;

            p.Prologue(new[] { beta }, new[] { spec.InitialBeta[0] }, n, nx, ny);
            double s2 = spec.Sigma * spec.Sigma;
            for (int s = 1; s <= spec.EmIterations; s++)
            {
                var heads = ReplicatedProduct.Pair(ctx, "u", Enumerable.Range(0, d).Select(c => (new[] { Term.Of(e.X[c]) }, new[] { Term.Of(beta[c]) })).ToArray(),
                    new[] { (u.Row, new[] { Term.Of(e.One.Row) }) }, "score ±⟨x_i, β⟩; value 1 → u_i");
                p.Layers.Add(new AttentionLayer(heads, new Provenance("product", s, 0, "Lemma 3.2 (scalar product ⟨x_i, β⟩)", "u_i = ⟨x_i, β⟩"), ReplicatedProduct.Domain));

                heads = TokenProduct.Pair(ctx, "uy", new[] { (new[] { Term.Of(e.One.Row) }, new[] { Term.Of(u.Row) }) },
                    new[] { (uy.Row, new[] { Term.Of(ny.Row) }) }, "score ±u_j; value ±N·y_j → u_i·y_i");
                p.Layers.Add(new AttentionLayer(heads, new Provenance("product", s, 0, "Lemma 3.2 (per-token product)", "u_i·y_i"), TokenProduct.Domain));

                var mlp = new MlpBuilder(ctx)
                    .Clear(a.Row).AddLinear(a.Row, Term.Of(uy.Row, 1 / s2)).AddConstant(a.Row, 0.5 * Math.Log(pi / (1 - pi)))
                    .Clear(u.Row).Clear(uy.Row).Clear(zp.Row).Clear(wp.Row);
                p.Layers.Add(mlp.Build(new Provenance("affine", s, 0, "Lemma 3.2 (affine); seed 000 eq. (15)", "a_i = y_i u_i/σ² + ½ log(π/(1 − π)); reset scratch"), "exact"));

                p.Layers.Add(new AttentionLayer(new[] { TanhGate.Head(ctx, a.Row, e.AuxiliaryFlags[0], zp.Row, wp.Row) },
                    new Provenance("softmax", s, 0, "Lemma 3.2 (softmax); docs/math.md §3 tanh identity; seed 000 eq. (16) w_i = tanh(a_i)", "w_i + 1 and (w_i + 1)·y_i", DecodeKind.SymmetricWeights),
                    TanhGate.Domain));

                for (int t = 1; t <= spec.GradientSteps; t++)
                {
                    // ∂ℓ_j = ⟨b, x_j⟩ − w_j y_j = ⟨b, x_j⟩ − (wy_plus_y_j − y_j).
                    var dims = Enumerable.Range(0, d).Select(c => (new[] { Term.Of(beta[c]) }, new[] { Term.Of(e.X[c]) }))
                        .Append((new[] { Term.Of(e.One.Row) }, new[] { Term.Of(zp.Row, -1), Term.Of(e.Y.Row, 1) })).ToArray();
                    p.GradientStep(s, t, new[] { beta }, new[] { dims }, new[] { sx }, nx, "⟨b, x_j⟩ − w_j y_j");
                }
            }
            p.Prediction(new[] { beta }, new[] { 2 * pi - 1 }, pred.Row, "(2π − 1)⟨x_i, β⟩");
            var readOut = new ReadOut(pred.Row, new[] { beta }, null, wp.Row);
            return new TransformerModel(spec, L, e, p.Layers, readOut, spec.Margin);
        }
    }
}
