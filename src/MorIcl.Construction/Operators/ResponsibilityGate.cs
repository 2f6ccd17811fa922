using System.Collections.Generic;
using MorIcl.Construction.Model;

namespace MorIcl.Construction.Operators
{
    /// <summary>
    /// softmax (Prop. E.2; the E-step, docs/math.md §2): head k lets token i attend over {itself} ∪ {component
    /// tokens c ≠ k} with scores ℓ_ik (itself) and ℓ_ic (component token c), where ℓ are the E-step
    /// logits held in token i. The weight on itself is softmax_c(ℓ_ic)_k = γ_ik, and only token i
    /// itself carries data in its value (x_i, y_i, t_i), so the head writes γ_ik·x_i, γ_ik·y_i and
    /// γ_ik·t_i = γ_ik — the products the gradient step needs — with no separate multiplication.
    /// Other positioned tokens are pushed down by −R Σ_d (p_d(i) − p_d(j))², component token k by −R;
    /// component tokens as queries are pushed (+R) onto the other component tokens, whose values are 0.
    /// Margin ≥ R for every example query: leakage ≤ N e^{−R}.
    /// </summary>
    public static class ResponsibilityGate
    {
        /// <param name="k">The component this head serves.</param>
        /// <param name="logits">Row of ℓ_ic for each component c.</param>
        /// <param name="componentFlags">Row of the flag of component token c, for each c.</param>
        /// <param name="gammaX">Block receiving γ_ik·x_i.</param>
        public static AttentionHead Head(LoweringContext ctx, int k, int[] logits, int[] componentFlags, LayoutBlock gammaX, int gammaY, int gamma)
        {
            var e = ctx.Embedding;
            int kCount = logits.Length;
            double r = ctx.Margin;
            var h = new HeadBuilder(ctx).RestrictToSelf();
            var others = new List<Term>();
            for (int c = 0; c < kCount; c++) if (c != k) others.Add(Term.Of(componentFlags[c]));
            if (kCount > 1)
            {
                // −R on component token k; +R(1 − o_i) onto the other component tokens.
                h.Positional(new[] { Term.Of(e.One.Row, -r) }, new[] { Term.Of(componentFlags[k]) });
                if (others.Count > 0) h.Positional(new[] { Term.Of(e.One.Row, r), Term.Of(e.Positioned.Row, -r) }, others.ToArray());
            }
            for (int c = 0; c < kCount; c++)
                if (c != k) h.Content(Term.Of(logits[c]), Term.Of(componentFlags[c]));
            var selfKeys = new List<Term> { Term.Of(e.Positioned.Row) };
            if (kCount > 1) selfKeys.Add(Term.Of(componentFlags[k]));   // component token k: ℓ_ik − R
            h.Content(new[] { Term.Of(logits[k]) }, selfKeys.ToArray());
            for (int a = 0; a < e.InputDimension; a++) h.Value(gammaX[a], e.X[a]);
            h.Value(gammaY, e.Y.Row);
            h.Value(gamma, e.IsExample.Row);

            var admission = Admission.Build(ctx.Roles, (q, key) =>
            {
                bool otherComponent = key >= 2 && key - 2 != k;
                if (q <= TokenRoles.Query) return key == q ? Admit.Self : otherComponent ? Admit.Yes : Admit.No;
                return otherComponent ? Admit.Yes : Admit.No;
            });
            return h.Build($"gate{k}", Activation.Softmax, admission,
                $"score: ℓ_i{k} on itself, ℓ_ic on component token c ≠ {k}; value (x_j, y_j, t_j) → weight on itself γ_i{k} times (x_i, y_i, 1)");
        }

        public const string Domain = "softmax over itself and the other component tokens: margin ≥ R, leakage ≤ N·e^{−R}";
    }
}
