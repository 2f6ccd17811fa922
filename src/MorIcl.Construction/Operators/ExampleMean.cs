using MorIcl.Construction.Model;

namespace MorIcl.Construction.Operators
{
    /// <summary>
    /// The empirical mean over the n example tokens (docs/math.md §3, "normalisation"): a softmax head with
    /// score R·t_j admits exactly the examples, each with weight 1/n for every n, up to leakage
    /// ≤ (1 + A)·e^{−R} onto the query and auxiliary tokens. Every token receives the same mean.
    /// </summary>
    public static class ExampleMean
    {
        public static AttentionHead Head(LoweringContext ctx, string name, (int OutRow, Term[] Read)[] values, string description)
        {
            var e = ctx.Embedding;
            var h = new HeadBuilder(ctx).Positional(new[] { Term.Of(e.One.Row, ctx.Margin) }, new[] { Term.Of(e.IsExample.Row) });
            foreach (var (outRow, read) in values)
                foreach (var t in read) h.Value(outRow, t.Row, t.Coefficient);
            var admission = Admission.Build(ctx.Roles, (q, k) => k == TokenRoles.Example ? Admit.Yes : Admit.No);
            return h.Build(name, Activation.Softmax, admission, description);
        }

        public const string Domain = "softmax over the examples (weight 1/n each): leakage ≤ (1 + A)·e^{−R}";
    }
}
