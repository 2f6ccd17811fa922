using MorIcl.Construction.Model;

namespace MorIcl.Construction.Operators
{
    /// <summary>
    /// softmax in the symmetric program (docs/math.md §3, the tanh identity): token i attends over {itself,
    /// the "minus" token} with scores +a_i and −a_i. The weight on itself is e^{a}/(e^{a} + e^{−a})
    /// = (1 + tanh a_i)/2 = γ_i1, and only token i carries data in its value, so the head writes
    /// 2γ_i1·y_i = (w_i + 1)·y_i and 2γ_i1·t_i = w_i + 1. Other positioned tokens are pushed down by
    /// −R Σ_d (p_d(i) − p_d(j))²; the minus token as a query is pushed (+R) onto itself (value 0).
    /// </summary>
    public static class TanhGate
    {
        public static AttentionHead Head(LoweringContext ctx, int a, int minusFlag, int zPlusY, int wPlusOne)
        {
            var e = ctx.Embedding;
            var h = new HeadBuilder(ctx).RestrictToSelf()
                .Positional(new[] { Term.Of(e.One.Row, ctx.Margin), Term.Of(e.Positioned.Row, -ctx.Margin) }, new[] { Term.Of(minusFlag) })
                .Content(new[] { Term.Of(a) }, new[] { Term.Of(e.Positioned.Row), Term.Of(minusFlag, -1) })
                .Value(zPlusY, e.Y.Row, 2)
                .Value(wPlusOne, e.IsExample.Row, 2);
            var admission = Admission.Build(ctx.Roles, (q, key) =>
                q <= TokenRoles.Query ? (key == q ? Admit.Self : key == TokenRoles.Auxiliary(0) ? Admit.Yes : Admit.No)
                                      : key == TokenRoles.Auxiliary(0) ? Admit.Yes : Admit.No);
            return h.Build("tanh", Activation.Softmax, admission,
                "score: +a_i on itself, −a_i on the minus token; value 2(y_j, t_j) → (1 + tanh a_i)·(y_i, 1) = (w_i y_i + y_i, w_i + 1)");
        }

        public const string Domain = "softmax over itself and the minus token: margin ≥ R, leakage ≤ N·e^{−R}";
    }
}
