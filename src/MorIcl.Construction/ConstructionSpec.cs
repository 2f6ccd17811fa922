using System;
using System.Globalization;
using System.Linq;

namespace MorIcl.Construction
{
    /// <summary>
    /// What to construct (docs/math.md §3): gradient EM for a K-component mixture of linear regressions with
    /// known σ and π (<see cref="Symmetric"/> = false), or for the symmetric two-component model in
    /// its tanh form (seed 000 §3). S outer iterations, T inner gradient steps of size α each, from β⁽⁰⁾.
    /// </summary>
    public sealed class ConstructionSpec : IEquatable<ConstructionSpec>
    {
        /// <summary>Largest margin R for any prompt length (positional scores of one or two digits stay exact in float: 2·R·31² &lt; 2^24).</summary>
        public const double MaxMargin = 8192;
        public const double MinMargin = 64;
        public const double DefaultMargin = 4096;
        public const int DefaultMaxPromptLength = 1023;
        public const int PositionBase = 32;

        public int Dimension { get; }
        public int Components { get; }
        public double Sigma { get; }
        public double[] Mixing { get; }
        public int EmIterations { get; }
        public int GradientSteps { get; }
        public double StepSize { get; }
        /// <summary>β⁽⁰⁾: K arrays of d numbers (the symmetric program uses β⁽⁰⁾ = InitialBeta[0]).</summary>
        public double[][] InitialBeta { get; }
        public double Margin { get; }
        public int MaxPromptLength { get; }
        public bool Symmetric { get; }
        /// <summary>Estimate π in context (π_k ← (1/n) Σ_i γ_ik after each E-step; the mixing weights given are π⁽⁰⁾).
        /// Needs log π̂, an approximate operator (<see cref="Operators.LogApproximation"/>).</summary>
        public bool EstimateMixing { get; }
        /// <summary>Smallest π̂_k for which the log approximation's declared error holds (the certificate checks it).</summary>
        public double MixingFloor { get; }
        /// <summary>Target error of the log approximation.</summary>
        public const double LogTargetError = 1e-6;

        public ConstructionSpec(int dimension, int components, double sigma, double[]? mixing, int emIterations, int gradientSteps, double stepSize,
            double[][]? initialBeta = null, double margin = DefaultMargin, int maxPromptLength = DefaultMaxPromptLength, bool symmetric = false,
            bool estimateMixing = false, double mixingFloor = 1e-3)
        {
            if (estimateMixing && symmetric) throw new ConstructionException("EstimateMixing", "the symmetric program uses a known π; estimated mixing weights need the K-component program");
            if (estimateMixing && components < 2) throw new ConstructionException("EstimateMixing", "estimating π needs K ≥ 2 components");
            if (!(mixingFloor > 0 && mixingFloor < 0.5)) throw new ConstructionException("MixingFloor", $"the mixing floor must lie in (0, 0.5), got {F(mixingFloor)}");
            if (dimension < 1) throw new ConstructionException("Dimension", $"the dimension d must be at least 1, got {dimension}");
            if (components < 1) throw new ConstructionException("Components", $"the number of components K must be at least 1, got {components}");
            if (symmetric && components != 2) throw new ConstructionException("Components", $"the symmetric program has K = 2 components, got {components}");
            if (!(sigma > 0) || double.IsInfinity(sigma)) throw new ConstructionException("Sigma", $"sigma must be a finite number > 0, got {F(sigma)}");
            if (emIterations < 1) throw new ConstructionException("EmIterations", $"EM iterations S must be at least 1, got {emIterations}");
            if (gradientSteps < 1) throw new ConstructionException("GradientSteps", $"gradient steps T must be at least 1, got {gradientSteps}");
            if (!(stepSize > 0) || double.IsInfinity(stepSize)) throw new ConstructionException("StepSize", $"step size alpha must be a finite number > 0, got {F(stepSize)}");
            if (maxPromptLength < 1 || maxPromptLength > 1048575)
                throw new ConstructionException("MaxPromptLength", $"maximum prompt length must be in [1, 1048575], got {maxPromptLength}");
            int digits = DigitsFor(maxPromptLength);
            double maxMargin = MaxExactMargin(digits);
            if (!(margin >= MinMargin && margin <= maxMargin) || Math.Floor(margin) != margin)
                throw new ConstructionException("Margin", $"margin R must be a whole number in [{MinMargin}, {maxMargin}] for prompts up to n = {maxPromptLength} "
                    + $"({digits} base-{PositionBase} position digits; positional scores stay exact in float while R·{Math.Max(digits, 2)}·{PositionBase - 1}² ≤ 2^24), got {F(margin)}");

            mixing ??= Enumerable.Repeat(1.0 / components, components).ToArray();
            if (mixing.Length != components) throw new ConstructionException("Mixing", $"mixing has {mixing.Length} weights, expected K = {components}");
            double sum = 0;
            for (int k = 0; k < components; k++)
            {
                if (!(mixing[k] > 0) || double.IsInfinity(mixing[k])) throw new ConstructionException("Mixing", $"mixing weight {k + 1} is {F(mixing[k])}; mixing weights must be positive");
                sum += mixing[k];
            }
            if (Math.Abs(sum - 1) > 1e-9) throw new ConstructionException("Mixing", $"mixing weights sum to {F(sum)}; they must sum to 1");

            initialBeta ??= DefaultInitialBeta(dimension, components, symmetric);
            if (symmetric && initialBeta.Length == 1) initialBeta = new[] { initialBeta[0], initialBeta[0].Select(v => -v).ToArray() };
            if (initialBeta.Length != components) throw new ConstructionException("InitialBeta", $"initial beta has {initialBeta.Length} components, expected K = {components}");
            for (int k = 0; k < components; k++)
            {
                if (initialBeta[k] == null || initialBeta[k].Length != dimension)
                    throw new ConstructionException("InitialBeta", $"initial beta[{k}] has {initialBeta[k]?.Length ?? 0} numbers, expected d = {dimension}");
                foreach (var v in initialBeta[k])
                    if (double.IsNaN(v) || double.IsInfinity(v)) throw new ConstructionException("InitialBeta", $"initial beta[{k}] holds {F(v)}, not a finite number");
            }
            if (symmetric)
                for (int a = 0; a < dimension; a++)
                    if (initialBeta[1][a] != -initialBeta[0][a]) throw new ConstructionException("InitialBeta", "the symmetric program needs initial beta[1] = -beta[0] (or give one vector)");

            Dimension = dimension; Components = components; Sigma = sigma; Mixing = (double[])mixing.Clone();
            EmIterations = emIterations; GradientSteps = gradientSteps; StepSize = stepSize;
            InitialBeta = initialBeta.Select(b => (double[])b.Clone()).ToArray();
            Margin = margin; MaxPromptLength = maxPromptLength; Symmetric = symmetric;
            EstimateMixing = estimateMixing; MixingFloor = mixingFloor;
        }

        /// <summary>
        /// Default β⁽⁰⁾ when none is given: β_k⁽⁰⁾[a] = cos((k + 1)(a + 1)) / √d — deterministic, distinct
        /// per component, norm ≈ 0.7. The symmetric program uses β⁽⁰⁾ = β_1⁽⁰⁾ and −β⁽⁰⁾.
        /// </summary>
        public static double[][] DefaultInitialBeta(int d, int k, bool symmetric)
        {
            var b0 = Enumerable.Range(0, k).Select(j => Enumerable.Range(0, d).Select(a => Math.Cos((j + 1.0) * (a + 1.0)) / Math.Sqrt(d)).ToArray()).ToArray();
            if (symmetric) b0[1] = b0[0].Select(v => -v).ToArray();
            return b0;
        }

        /// <summary>Position digits needed so the query index n = MaxPromptLength is encoded.</summary>
        public int PositionDigits => DigitsFor(MaxPromptLength);

        /// <summary>Base-<see cref="PositionBase"/> digits needed to encode the positions 0 … n.</summary>
        public static int DigitsFor(int maxPromptLength)
        {
            int digits = 1; long cap = PositionBase;
            while (cap - 1 < maxPromptLength) { digits++; cap *= PositionBase; }
            return digits;
        }

        /// <summary>
        /// Largest margin R whose positional scores stay exact integers in float with G digits (docs/math.md §9):
        /// every partial sum of Σ_d (−R p_d² + 2R p_d q_d − R q_d²) lies in [−G·R·(B−1)², R·(B−1)²] and the
        /// middle term reaches 2R(B−1)², so max(G, 2)·R·(B−1)² ≤ 2^24 suffices; at most <see cref="MaxMargin"/>.
        /// One or two digits (n ≤ 1023) allow 8192, three (n ≤ 32767) 5819, four (n ≤ 1048575) 4364.
        /// </summary>
        public static double MaxExactMargin(int digits) =>
            Math.Min(MaxMargin, Math.Floor(16777216.0 / (Math.Max(digits, 2) * (double)(PositionBase - 1) * (PositionBase - 1))));

        public bool Equals(ConstructionSpec? o) =>
            o is not null && o.Dimension == Dimension && o.Components == Components && o.Sigma.Equals(Sigma) && o.Mixing.SequenceEqual(Mixing)
            && o.EmIterations == EmIterations && o.GradientSteps == GradientSteps && o.StepSize.Equals(StepSize) && o.Margin.Equals(Margin)
            && o.MaxPromptLength == MaxPromptLength && o.Symmetric == Symmetric && o.EstimateMixing == EstimateMixing && o.MixingFloor.Equals(MixingFloor)
            && o.InitialBeta.Length == InitialBeta.Length && o.InitialBeta.Zip(InitialBeta, (a, b) => a.SequenceEqual(b)).All(x => x);

        public override bool Equals(object? obj) => obj is ConstructionSpec s && Equals(s);
        public override int GetHashCode() => ((Dimension * 31 + Components) * 31 + EmIterations) * 31 + GradientSteps;

        private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    }
}
