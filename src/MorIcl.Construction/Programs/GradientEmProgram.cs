using System;
using System.Collections.Generic;
using System.Linq;
using MorIcl.Construction.Model;
using MorIcl.Construction.Operators;

namespace MorIcl.Construction.Programs
{
    /// <summary>
    /// Gradient EM for a K-component mixture with known σ and π (docs/math.md §2; seed 000 §4, Lemmas 3.2–3.3):
    /// for s = 1 … S, an E-step block computes γ_ik and the products γ_ik x_i, γ_ik y_i; then T gradient
    /// steps b_k ← b_k − α (1/n) Σ_i γ_ik x_i (⟨x_i, b_k⟩ − y_i). Finally ŷ = ⟨x_{n+1}, Σ_k π_k β_k⟩.
    /// Auxiliary tokens: one per component (K ≥ 2); none for K = 1, where γ ≡ 1.
    /// </summary>
    internal static class GradientEmProgram
    {
        public static TransformerModel Compile(ConstructionSpec spec)
        {
            int d = spec.Dimension, K = spec.Components;
            var p = new ProgramBuilder(spec);
            var auxNames = K > 1 ? Enumerable.Range(0, K).Select(k => $"component{k}").ToArray() : new string[0];
            p.AllocateEmbedding(auxNames);
            var L = p.Layout;
            var n = L.Allocate("N", 1, "token count N = n + 1 + A (computed in context)");
            var nx = L.Allocate("Nx", d, "N·x_i");
            var ny = L.Allocate("Ny", 1, "N·y_i");
            var beta = Enumerable.Range(0, K).Select(k => L.Allocate($"beta{k}", d, $"β_{k} (b_{k} during the M-step), the same in every token")).ToArray();
            var u = L.Allocate("u", K, "u_ik = ⟨x_i, β_k⟩");
            var nu = L.Allocate("Nu", K, "N·u_ik");
            var uu = L.Allocate("uu", K, "u_ik²");
            var uy = L.Allocate("uy", K, "u_ik·y_i");
            var logit = L.Allocate("logit", K, "E-step logit ℓ_ik = log π_k + (y_i u_ik − u_ik²/2)/σ²");
            var gx = Enumerable.Range(0, K).Select(k => L.Allocate($"gx{k}", d, $"γ_i{k}·x_i")).ToArray();
            var gy = L.Allocate("gy", K, "γ_ik·y_i");
            var gamma = L.Allocate("gamma", K, "γ_ik (responsibilities)");
            var sx = Enumerable.Range(0, K).Select(k => L.Allocate($"sx{k}", d, $"gradient term γ_i{k}(⟨x_i, b_{k}⟩ − y_i)·x_i")).ToArray();
            var pred = L.Allocate("prediction", 1, spec.EstimateMixing ? "ŷ = Σ_k π̂_k ⟨x_{n+1}, β_k⟩ on the query token" : "ŷ = ⟨x_{n+1}, Σ_k π_k β_k⟩ on the query token");
            LayoutBlock? pi = spec.EstimateMixing ? L.Allocate("pi", K, "π̂_k = (1/n) Σ_i γ_ik, the same in every token") : null;
            LayoutBlock? logPi = spec.EstimateMixing ? L.Allocate("log_pi", K, "L(π̂_k) ≈ log π̂_k (piecewise-linear approximation)") : null;
            var log = spec.EstimateMixing ? new LogApproximation(spec.MixingFloor, ConstructionSpec.LogTargetError) : null;
            p.Seal();
            var e = p.Embedding;
            var ctx = p.Ctx;

            p.Prologue(beta, spec.InitialBeta, n, nx, ny);
            if (logPi is not null)
            {
                var init = new MlpBuilder(ctx);
                for (int k = 0; k < K; k++) init.AddConstant(logPi[k], Math.Log(spec.Mixing[k]));
                p.Layers.Add(init.Build(new Provenance("affine", 0, 0, "docs/math.md §2 initialisation π⁽⁰⁾", "write log π⁽⁰⁾ into every token (bias b2)"), "exact"));
            }
            double s2 = spec.Sigma * spec.Sigma;
            int[] compFlags = Enumerable.Range(0, K).Select(k => K > 1 ? e.AuxiliaryFlags[k] : -1).ToArray();

            for (int s = 1; s <= spec.EmIterations; s++)
            {
                if (K > 1)
                {
                    // E1: u_ik and N·u_ik, products of x_i with the replicated β_k.
                    var heads = new List<AttentionHead>();
                    for (int k = 0; k < K; k++)
                        heads.AddRange(ReplicatedProduct.Pair(ctx, $"u{k}",
                            Enumerable.Range(0, d).Select(a => (new[] { Term.Of(e.X[a]) }, new[] { Term.Of(beta[k][a]) })).ToArray(),
                            new[] { (u[k], new[] { Term.Of(e.One.Row) }), (nu[k], new[] { Term.Of(n.Row) }) },
                            $"score ±⟨x_i, β_{k}⟩; value (1, N) → (u_i{k}, N·u_i{k})"));
                    p.Layers.Add(new AttentionLayer(heads.ToArray(), new Provenance("product", s, 0, "Lemma 3.2 (scalar products ⟨x_i, β_k⟩)", "u_ik = ⟨x_i, β_k⟩"), ReplicatedProduct.Domain));

                    // E2: u_ik² and u_ik·y_i, per-token products.
                    heads = new List<AttentionHead>();
                    for (int k = 0; k < K; k++)
                        heads.AddRange(TokenProduct.Pair(ctx, $"uu{k}", new[] { (new[] { Term.Of(e.One.Row) }, new[] { Term.Of(u[k]) }) },
                            new[] { (uu[k], new[] { Term.Of(nu[k]) }), (uy[k], new[] { Term.Of(ny.Row) }) },
                            $"score ±u_j{k}; value ±N·(u_j{k}, y_j) → (u_i{k}², u_i{k}·y_i)"));
                    p.Layers.Add(new AttentionLayer(heads.ToArray(), new Provenance("product", s, 0, "Lemma 3.2 (per-token products)", "u_ik² and u_ik·y_i"), TokenProduct.Domain));

                    // E3: logits (affine), and reset of the scratch rows.
                    var mlp = new MlpBuilder(ctx);
                    for (int k = 0; k < K; k++)
                    {
                        mlp.Clear(logit[k]).AddLinear(logit[k], Term.Of(uy[k], 1 / s2), Term.Of(uu[k], -0.5 / s2));
                        if (logPi is null) mlp.AddConstant(logit[k], Math.Log(spec.Mixing[k]));
                        else mlp.AddLinear(logit[k], Term.Of(logPi[k])).Clear(pi![k]);
                        mlp.Clear(u[k]).Clear(nu[k]).Clear(uu[k]).Clear(uy[k]).Clear(gy[k]).Clear(gamma[k]).Clear(gx[k]);
                    }
                    p.Layers.Add(mlp.Build(new Provenance("affine", s, 0, "Lemma 3.2 (affine); docs/math.md §2 E-step logits",
                        "ℓ_ik = log π_k − ((y_i − u_ik)² − y_i²)/(2σ²); reset scratch"), "exact"));

                    // E4: responsibilities times (x_i, y_i, 1).
                    heads = new List<AttentionHead>();
                    for (int k = 0; k < K; k++)
                        heads.Add(ResponsibilityGate.Head(ctx, k, Enumerable.Range(0, K).Select(c => logit[c]).ToArray(), compFlags, gx[k], gy[k], gamma[k]));
                    p.Layers.Add(new AttentionLayer(heads.ToArray(), new Provenance("softmax", s, 0, "Lemma 3.2 (softmax); docs/math.md §2 E-step γ_ik = softmax_k(ℓ_ik)",
                        "γ_ik·x_i, γ_ik·y_i, γ_ik", DecodeKind.Responsibilities), ResponsibilityGate.Domain));

                    if (pi is not null)
                    {
                        // Mixing update (docs/math.md §2): π_k ← (1/n) Σ_i γ_ik, the softmax mean over the examples; then log π̂ (approximate).
                        var means = Enumerable.Range(0, K).Select(k => ExampleMean.Head(ctx, $"pi{k}", new[] { (pi[k], new[] { Term.Of(gamma[k]) }) },
                            $"score R·t_j; value γ_j{k} → π̂_{k} = (1/n) Σ_j γ_j{k}")).ToArray();
                        p.Layers.Add(new AttentionLayer(means, new Provenance("mixing", s, 0, "docs/math.md §2 mixing update π_k ← (1/n) Σ_i γ_ik", "π̂_k, the mean responsibility"), ExampleMean.Domain));
                        var logMlp = new MlpBuilder(ctx);
                        for (int k = 0; k < K; k++)
                        {
                            logMlp.Clear(logPi![k]);
                            log!.Lower(logMlp, pi[k], logPi[k]);
                            logMlp.RequireRange(pi[k], spec.MixingFloor, log.Ceiling, log.ErrorBound);
                        }
                        p.Layers.Add(logMlp.Build(new Provenance("log", s, 0, "docs/math.md §3 approximate operator (estimated mixing weights need log π)",
                            $"log π̂_k by a {log!.Slopes.Length}-piece linear interpolant"), log.Domain));
                    }
                }
                else if (s == 1)
                {
                    // K = 1: γ ≡ 1, so γ x = x and γ y = y once and for all (copy_down).
                    var mlp = new MlpBuilder(ctx);
                    for (int a = 0; a < d; a++) mlp.AddLinear(gx[0][a], Term.Of(e.X[a]));
                    mlp.AddLinear(gy[0], Term.Of(e.Y.Row)).AddLinear(gamma[0], Term.Of(e.IsExample.Row));
                    p.Layers.Add(mlp.Build(new Provenance("copy_down", s, 0, "Prop. E.2 (copy_down); K = 1 has γ ≡ 1", "γ x = x, γ y = y", DecodeKind.Responsibilities), "exact"));
                }

                for (int t = 1; t <= spec.GradientSteps; t++)
                {
                    var dims = Enumerable.Range(0, K).Select(k =>
                        Enumerable.Range(0, d).Select(a => (new[] { Term.Of(beta[k][a]) }, new[] { Term.Of(gx[k][a]) }))
                            .Append((new[] { Term.Of(e.One.Row) }, new[] { Term.Of(gy[k], -1) })).ToArray()).ToArray();
                    p.GradientStep(s, t, beta, dims, sx, nx, "γ_jk(⟨b_k, x_j⟩ − y_j)");
                }
            }
            if (pi is null) p.Prediction(beta, spec.Mixing, pred.Row, "⟨x_i, Σ_k π_k β_k⟩");
            else
            {
                // ŷ = Σ_k π̂_k u_k with u_k = ⟨x, β_k⟩: two exact product layers (π̂ and β are replicated).
                var heads = new List<AttentionHead>();
                for (int k = 0; k < K; k++)
                    heads.AddRange(ReplicatedProduct.Pair(ctx, $"u{k}", Enumerable.Range(0, d).Select(a => (new[] { Term.Of(e.X[a]) }, new[] { Term.Of(beta[k][a]) })).ToArray(),
                        new[] { (u[k], new[] { Term.Of(e.One.Row) }) }, $"score ±⟨x_i, β_{k}⟩; value 1 → u_i{k}"));
                p.Layers.Add(new AttentionLayer(heads.ToArray(), new Provenance("product", 0, 0, "docs/math.md §1 oracle form at β̂ (per-sample)", "u_k = ⟨x_i, β_k⟩ for the prediction"), ReplicatedProduct.Domain));
                heads = new List<AttentionHead>();
                for (int k = 0; k < K; k++)
                    heads.AddRange(ReplicatedProduct.Pair(ctx, $"predict{k}", new[] { (new[] { Term.Of(u[k]) }, new[] { Term.Of(e.One.Row) }) },
                        new[] { (pred.Row, new[] { Term.Of(pi![k]) }) }, $"score ±u_i{k}; value π̂_{k} → π̂_{k}·u_i{k}"));
                p.Layers.Add(new AttentionLayer(heads.ToArray(), new Provenance("read-out", 0, 0, "docs/math.md §1 oracle form at β̂, π̂ (per-sample)", "prediction ŷ = Σ_k π̂_k ⟨x_i, β_k⟩", DecodeKind.Prediction), ReplicatedProduct.Domain));
            }
            var readOut = new ReadOut(pred.Row, beta, Enumerable.Range(0, K).Select(k => gamma[k]).ToArray(), -1, pi);
            return new TransformerModel(spec, L, e, p.Layers, readOut, spec.Margin);
        }
    }
}
