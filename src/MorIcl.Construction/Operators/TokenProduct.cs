using System.Linq;
using MorIcl.Construction.Model;

namespace MorIcl.Construction.Operators
{
    /// <summary>
    /// Per-token product (docs/math.md §3): s(h_i)·c(h_i) for a score s bilinear in (replicated rows of h_i,
    /// rows of h_j) and a token-local value c. A ReLU head pair with score ±s + (positional −R Σ_d
    /// (p_d(i) − p_d(j))²) admits only j = i; its value carries N·c (N = token count, computed in
    /// context), so the ReLU attention's own 1/N cancels exactly: (1/N)·ReLU(±s_i)·(±N c_i) sums to
    /// s_i·c_i. Auxiliary tokens are excluded on both sides (−R). Exact while every excluded score is
    /// ≤ 0, i.e. |s_j| ≤ R (the margin reported by the certificate).
    /// </summary>
    public static class TokenProduct
    {
        public static AttentionHead[] Pair(LoweringContext ctx, string name, (Term[] Q, Term[] K)[] scoreDims, (int OutRow, Term[] ReadScaledByN)[] values, string description)
        {
            var admission = Admission.Build(ctx.Roles, (q, k) =>
                q <= TokenRoles.Query && k <= TokenRoles.Query ? Admit.Self : Admit.No);
            var heads = new AttentionHead[2];
            for (int s = 0; s < 2; s++)
            {
                double sign = s == 0 ? 1 : -1;
                var h = new HeadBuilder(ctx).RestrictToSelf().ExcludeAuxiliaryQueries().ExcludeAuxiliaryKeys();
                foreach (var (q, k) in scoreDims) h.Content(q.Select(t => Term.Of(t.Row, sign * t.Coefficient)).ToArray(), k);
                foreach (var (outRow, read) in values)
                    foreach (var t in read) h.Value(outRow, t.Row, sign * t.Coefficient);
                heads[s] = h.Build($"{name}{(s == 0 ? "+" : "-")}", Activation.Relu, admission,
                    $"{description} ({(s == 0 ? "ReLU(+s)" : "−ReLU(−s)")} half, j = i only)");
            }
            return heads;
        }

        public const string Domain = "exact while every non-self score is ≤ 0: needs |score| ≤ R (margin = R·min distance² − |score|)";
    }
}
