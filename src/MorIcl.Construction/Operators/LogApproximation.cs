using System;
using System.Collections.Generic;

namespace MorIcl.Construction.Operators
{
    /// <summary>
    /// An approximate operator (SPEC §3: "estimated mixing weights need log π"): log p for p in
    /// [p_min, 1] as a token-wise ReLU MLP — the piecewise-linear interpolant L of log on geometric
    /// knots p_j = p_min·r^j. With slopes s_j on [p_j, p_{j+1}],
    /// L(p) = log p_0 + s_0 (p − p_0) + Σ_{j≥1} (s_j − s_{j−1}) ReLU(p − p_j), and for p ≥ 0 the linear
    /// term is s_0·ReLU(p) − s_0 p_0. log is concave, so 0 ≤ log p − L(p); on a segment [a, b] the gap is
    /// largest at p* = (b − a)/(log b − log a), which gives the declared bound exactly (computed here,
    /// not estimated). Outside [p_min, 1] the bound does not hold: the layer declares that input range.
    /// </summary>
    public sealed class LogApproximation
    {
        public double Floor { get; }
        public double[] Knots { get; }
        public double[] Slopes { get; }
        /// <summary>max over [p_min, 1] of |log p − L(p)|.</summary>
        public double ErrorBound { get; }

        public LogApproximation(double floor, double targetError)
        {
            if (!(floor > 0 && floor < 1)) throw new ArgumentOutOfRangeException(nameof(floor));
            // Per segment the gap is ≈ (r − 1)²/8: choose r for the target, then verify exactly.
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
                double pStar = 1 / Slopes[j];
                bound = Math.Max(bound, Math.Log(pStar) - (Math.Log(a) + Slopes[j] * (pStar - a)));
            }
            ErrorBound = bound;
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

        public string Domain => $"approximate: |L(p) − log p| ≤ {ErrorBound:G3} for p ∈ [{Floor:G3}, 1] ({Slopes.Length} knots)";
    }
}
