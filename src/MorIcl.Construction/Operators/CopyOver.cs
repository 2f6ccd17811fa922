using MorIcl.Construction.Model;

namespace MorIcl.Construction.Operators
{
    /// <summary>
    /// copy_over (Prop. E.2, Pathak et al. 2024): every token receives a linear read-out of the query
    /// token. One softmax head with score R·[j is the query] (an exact integer): weight 1 on the
    /// query, leakage ≤ (N − 1)·e^{−R} on the rest.
    /// </summary>
    public static class CopyOver
    {
        public static AttentionHead FromQuery(LoweringContext ctx, string name, (int OutRow, Term[] Read)[] copies, string description)
        {
            var e = ctx.Embedding;
            var h = new HeadBuilder(ctx).Positional(new[] { Term.Of(e.One.Row, ctx.Margin) }, new[] { Term.Of(e.IsQuery.Row) });
            foreach (var (outRow, read) in copies)
                foreach (var t in read) h.Value(outRow, t.Row, t.Coefficient);
            var admission = Admission.Build(ctx.Roles, (q, k) => k == TokenRoles.Query ? Admit.Yes : Admit.No);
            return h.Build(name, Activation.Softmax, admission, description);
        }

        public const string Domain = "softmax onto the query token: leakage ≤ (N − 1)·e^{−R}";
    }
}
