using System;
using System.Collections.Generic;

namespace MorIcl.Construction.Operators
{
    /// <summary>
    /// An approximate operator (docs/math.md §3: "estimated mixing weights need log π"): log p for p in
    /// [p_min, 1] as a token-wise ReLU MLP — the piecewise-linear interpolant L of log on geometric
    /// knots p_j = p_min·r^j. With slopes s_j on [p_j, p_{j+1}],
    /// L(p) = log p_0 + s_0 (p − p_0) + Σ_{j≥1} (s_j − s_{j−1}) ReLU(p − p_j), and for p ≥ 0 the linear
    /// term is s_0·ReLU(p) − s_0 p_0. log is concave, so 0 ≤ log p − L(p); on a segment [a, b] the gap is
    /// largest at p* = (b − a)/(log b − log a), which gives the declared bound exactly (computed here,
    /// not estimated). Outside [p_min, 1] the bound does not hold: the layer declares that input range.
    /// </summary>
    public sealed class LogApproximation
    {
        /// <summary>
        /// How far above 1 the input may go: π̂_k = (1/n) Σ_i γ_ik ≤ 1 exactly, but its rounded value can
        /// exceed 1 by a few ulps when one component takes every example. On [1, 1 + δ] the interpolant
        /// continues its last segment, and the gap there is included in the bound.
        /// </summary>
        public const double AboveOne = 1e-9;

        public double Floor { get; }
        /// <summary>The top of the declared input range, 1 + <see cref="AboveOne"/>.</summary>
        public double Ceiling => 1 + AboveOne;
        public double[] Knots { get; }
        public double[] Slopes { get; }
        /// <summary>max over [p_min, 1 + δ] of |log p − L(p)| in exact arithmetic (the interpolation error).</summary>
        public double InterpolationBound { get; }
        /// <summary>
        /// A bound on the rounding error of evaluating L in double precision as the MLP does: a sum of
        /// m = #knots + 2 terms a_i, each with relative error ≤ 2u (one subtraction, one product), summed
        /// with error ≤ γ_m Σ|a_i| (Higham, Accuracy and Stability, eq. (3.5)); Σ|a_i| grows with p, so its
        /// value at the top of the range bounds it everywhere. u = 2⁻⁵³.
        /// </summary>
        public double RoundingBound { get; }
        /// <summary>The declared error: max over [p_min, 1 + δ] of |log p − fl(L(p))| ≤ interpolation + rounding bound.</summary>
        public double ErrorBound => InterpolationBound + RoundingBound;

        public LogApproximation(double floor, double targetError)
        {
            if (!(floor > 0 && floor < 1)) throw new ArgumentOutOfRangeException(nameof(floor));
            // Per segment the gap is ≈ (r − 1)²/8: choose r for the target, then compute the bound exactly.
            double r = 1 + Math.Sqrt(8 * targetError);
            var knots = new List<double> { floor };
            while (knots[knots.Count - 1] < 1) knots.Add(Math.Min(1, knots[knots.Count - 1] * r));
            Floor = floor;
            Knots = knots.ToArray();
            Slopes = new double[Knots.Length - 1];
            double bound = 0;
            for (int j = 0; j + 1 < Knots.Length; j++)
            {
                double a = Knots[j], b = Knots[j + 1];
                Slopes[j] = (Math.Log(b) - Math.Log(a)) / (b - a);
                // log is concave: on [a, b] the gap log p − L(p) ≥ 0 peaks where 1/p equals the chord's slope.
                double pStar = 1 / Slopes[j];
                bound = Math.Max(bound, Math.Log(pStar) - (Math.Log(a) + Slopes[j] * (pStar - a)));
            }
            // Beyond 1 the last chord is extended: there L(p) ≥ log p and the gap, monotone in p, is largest at 1 + δ.
            double top = Ceiling, last = Slopes[Slopes.Length - 1];
            bound = Math.Max(bound, Math.Abs(Math.Log(top) - last * (top - 1)));
            InterpolationBound = bound;

            double magnitude = Math.Abs(Math.Log(Knots[0]) - Slopes[0] * Knots[0]) + Math.Abs(Slopes[0]) * top;
            for (int j = 1; j < Slopes.Length; j++) magnitude += Math.Abs(Slopes[j] - Slopes[j - 1]) * (top - Knots[j]);
            double u = Math.Pow(2, -53);
            int m = Knots.Length + 2;
            double gamma = (m + 2) * u / (1 - (m + 2) * u);
            RoundingBound = gamma * magnitude;
        }

        /// <summary>L(p), the value the MLP computes (for p ≥ 0).</summary>
        public double Evaluate(double p)
        {
            double v = Math.Log(Knots[0]) + Slopes[0] * (p - Knots[0]);
            for (int j = 1; j < Slopes.Length; j++) v += (Slopes[j] - Slopes[j - 1]) * Math.Max(p - Knots[j], 0);
            return v;
        }

        /// <summary>Adds to <paramref name="mlp"/> the units that write L(h[input]) into h[output] (which must start at 0 or be cleared in the same MLP).</summary>
        internal void Lower(MlpBuilder mlp, int input, int output)
        {
            mlp.AddRelu(output, new[] { Term.Of(input) }, 0, Slopes[0]);
            mlp.AddConstant(output, Math.Log(Knots[0]) - Slopes[0] * Knots[0]);
            for (int j = 1; j < Slopes.Length; j++) mlp.AddRelu(output, new[] { Term.Of(input) }, -Knots[j], Slopes[j] - Slopes[j - 1]);
        }

        public string Domain => $"approximate: |L(p) − log p| ≤ {ErrorBound:G3} (interpolation {InterpolationBound:G3} + double rounding {RoundingBound:G3}) for p ∈ [{Floor:G3}, 1 + {AboveOne:G1}] ({Slopes.Length} pieces)";
    }
}
