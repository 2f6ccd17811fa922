using System.Linq;
using MorIcl.Construction.Model;

namespace MorIcl.Construction.Operators
{
    /// <summary>
    /// Product of a token-local read-out with a replicated one (a quantity every token holds the same
    /// copy of, such as β_k or the token count N), exact with no margin: a ReLU head pair over all N
    /// tokens with score ±s, s = ⟨A h_i, C h_j⟩, and value ±V h_j gives
    /// (1/N) Σ_j [ReLU(s) − ReLU(−s)]·V h_j = s·V h (every key holds the same C h_j and V h_j).
    /// </summary>
    public static class ReplicatedProduct
    {
        /// <param name="scoreDims">score s = Σ_dims (Σ q-terms of h_i)(Σ k-terms of h_j); k-terms must read replicated rows.</param>
        /// <param name="values">output row ← Σ read-terms of h_j (replicated rows).</param>
        public static AttentionHead[] Pair(LoweringContext ctx, string name, (Term[] Q, Term[] K)[] scoreDims, (int OutRow, Term[] Read)[] values, string description)
        {
            var heads = new AttentionHead[2];
            for (int s = 0; s < 2; s++)
            {
                double sign = s == 0 ? 1 : -1;
                var h = new HeadBuilder(ctx);
                foreach (var (q, k) in scoreDims) h.Content(q.Select(t => Term.Of(t.Row, sign * t.Coefficient)).ToArray(), k);
                foreach (var (outRow, read) in values)
                    foreach (var t in read) h.Value(outRow, t.Row, sign * t.Coefficient);
                heads[s] = h.Build($"{name}{(s == 0 ? "+" : "-")}", Activation.Relu, ctx.AdmitAll(),
                    $"{description} ({(s == 0 ? "ReLU(+s)" : "−ReLU(−s)")} half)");
            }
            return heads;
        }

        public const string Domain = "exact (ReLU pair over all tokens; no margin needed)";
    }
}
