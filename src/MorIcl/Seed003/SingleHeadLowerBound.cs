using MathNet.Numerics.LinearAlgebra;

namespace MorIcl.Seed003;

/// <summary>
/// Why one head stalls (seed 003 §3.3, Figure 4): with H = 1, a_k = w_{1,k} softmax(·) has all entries of
/// one sign, so L − inf L ≥ (1/2K) Σ_k min over a ∈ R^N_+ ∪ R^N_− of (a − A_k)ᵀ M (a − A_k) =: LB₁ for
/// every θ. Each minimum is a convex QP; it is bounded below by its Lagrangian dual:
/// for any μ ≥ 0, min_{a ≥ 0} (a − A)ᵀM(a − A) ≥ −μᵀA − ¼ μᵀM⁻¹μ, tight at the KKT multiplier
/// μ = 2M(a* − A). The multiplier is taken from projected-gradient iterates and clipped to μ ≥ 0, so
/// the returned value is a certified lower bound whatever the iterates' accuracy.
/// </summary>
public static class SingleHeadLowerBound
{
    public static double Compute(PopulationLoss loss, int iterations = 4000)
    {
        var t = loss.Task;
        var m = loss.Gram;
        var mInv = m.Inverse();
        double step = 1 / (2 * m.Evd(Symmetricity.Symmetric).EigenValues.Real().Maximum());
        double total = 0;
        for (int k = 0; k < t.K; k++)
        {
            var target = loss.A.Column(k);
            double best = double.PositiveInfinity;
            foreach (var sign in new[] { 1.0, -1.0 })
            {
                // a ≥ 0 against sign·A (the a ≤ 0 case is the mirror image).
                var goal = sign * target;
                var a = goal.PointwiseMaximum(0);
                for (int it = 0; it < iterations; it++)
                {
                    var grad = 2 * (m * (a - goal));
                    a = (a - step * grad).PointwiseMaximum(0);
                }
                var mu = (2 * (m * (a - goal))).PointwiseMaximum(0);
                double dual = -mu.DotProduct(goal) - 0.25 * mu.DotProduct(mInv * mu);
                best = Math.Min(best, dual);
            }
            total += Math.Max(best, 0);
        }
        return total / (2 * t.K);
    }
}
