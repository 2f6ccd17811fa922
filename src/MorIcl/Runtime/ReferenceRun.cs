using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Em;
using MorIcl.Mixture;

namespace MorIcl.Runtime;

/// <summary>
/// What a constructed model must compute, by the reference algorithm (docs/math.md §2) with the model's own
/// specification: gradient EM with known σ and π from β⁽⁰⁾ (K-component), or the symmetric tanh form.
/// With estimated mixing (<see cref="ConstructionSpec.EstimateMixing"/>) π starts at the spec's π⁽⁰⁾ and
/// is re-estimated after every E-step; the E-step takes log π̂ exactly unless
/// <c>estimatedMixingLog</c> says otherwise (the transformer's interpolant, to reproduce its arithmetic).
/// </summary>
/// <param name="Mixing">The π used by the prediction: the spec's when known, the last estimate otherwise.</param>
/// <param name="EStep">Per outer iteration: γ_ik per component (K arrays of n), or [w] for the symmetric form.</param>
/// <param name="InnerSteps">b after every inner step, in order (symmetric form: [b]).</param>
public sealed record ReferenceRun(double[][] Beta, double[] Mixing, double Prediction, IReadOnlyList<double[][]> EStep, IReadOnlyList<double[][]> InnerSteps)
{
    public static ReferenceRun Of(ConstructionSpec spec, RegressionData data, double[] query, MixingLogarithm? estimatedMixingLog = null)
    {
        var estep = new List<double[][]>();
        var inner = new List<double[][]>();
        if (spec.Symmetric)
        {
            var run = SymmetricGradientEm.Run(data, spec.InitialBeta[0], spec.Sigma, spec.Mixing[0], spec.EmIterations, spec.GradientSteps, spec.StepSize);
            foreach (var w in run.Weights) estep.Add(new[] { w });
            foreach (var steps in run.InnerSteps) foreach (var b in steps) inner.Add(new[] { b });
            var b0 = run.Betas[^1];
            return new ReferenceRun(new[] { b0, b0.Select(v => -v).ToArray() }, new[] { spec.Mixing[0], 1 - spec.Mixing[0] }, (2 * spec.Mixing[0] - 1) * Dot(query, b0), estep, inner);
        }
        var fit = ExpectationMaximisation.Fit(data,
            new MixtureParameters(spec.InitialBeta, spec.Mixing, Enumerable.Repeat(spec.Sigma, spec.Components).ToArray()),
            new EmOptions
            {
                Algorithm = EmAlgorithm.Gradient, InnerSteps = spec.GradientSteps, StepSize = spec.StepSize, MaxIterations = spec.EmIterations,
                Tolerance = 0, Variance = VarianceModel.Known, KnownSigma = spec.Sigma, FixedMixing = spec.EstimateMixing ? null : spec.Mixing,
                EstimatedMixingLog = estimatedMixingLog, RecordTrace = true,
            });
        int n = data.N;
        foreach (var entry in fit.Trace!)
        {
            estep.Add(Enumerable.Range(0, spec.Components).Select(k => entry.Responsibilities.AsSpan(k * n, n).ToArray()).ToArray());
            inner.AddRange(entry.InnerBetas);
        }
        var mixing = fit.Parameters.Mixing;
        double p = 0;
        for (int k = 0; k < spec.Components; k++) p += mixing[k] * Dot(query, fit.Parameters.Beta[k]);
        return new ReferenceRun(fit.Parameters.Beta, mixing, p, estep, inner);
    }

    private static double Dot(double[] a, double[] b) => MorIcl.Numerics.Simd.SimdSpan.Dot<double>(a, b);
}

/// <summary>Reads what a trace holds after the layers whose provenance says how to decode them.</summary>
public static class TraceDecoder
{
    /// <summary>E-step outputs (γ_ik per component, or [w_i]) and inner-step b's, in layer order, with their layer indices.</summary>
    public static (List<(int Layer, double[][] Values)> EStep, List<(int Layer, double[][] Values)> Inner) Decode(TransformerModel model, double[][] trace, int n)
    {
        int D = model.Dimension;
        var estep = new List<(int, double[][])>();
        var inner = new List<(int, double[][])>();
        for (int l = 0; l < model.Layers.Count; l++)
        {
            var h = trace[l + 1];
            switch (model.Layers[l].Provenance.Decode)
            {
                case DecodeKind.Responsibilities when model.ReadOut.Responsibilities is { } rows:
                    estep.Add((l, rows.Select(row => Enumerable.Range(0, n).Select(i => h[i * D + row]).ToArray()).ToArray()));
                    break;
                case DecodeKind.SymmetricWeights when model.ReadOut.SymmetricWeightPlusOne >= 0:
                    estep.Add((l, new[] { Enumerable.Range(0, n).Select(i => h[i * D + model.ReadOut.SymmetricWeightPlusOne] - 1).ToArray() }));
                    break;
                case DecodeKind.Beta:
                    inner.Add((l, model.ReadOut.Beta.Select(b => Enumerable.Range(0, b.Width).Select(a => h[n * D + b[a]]).ToArray()).ToArray()));
                    break;
            }
        }
        return (estep, inner);
    }

    /// <summary>Normwise relative error max|a − b| / max|b| over matching vectors.</summary>
    public static double RelativeError(IEnumerable<double[]> got, IEnumerable<double[]> want)
    {
        double num = 0, den = 0;
        foreach (var (g, w) in got.Zip(want))
        {
            if (g.Length != w.Length) return double.PositiveInfinity;
            for (int i = 0; i < w.Length; i++) { num = Math.Max(num, Math.Abs(g[i] - w[i])); den = Math.Max(den, Math.Abs(w[i])); }
        }
        return double.IsNaN(num) ? double.PositiveInfinity : num / Math.Max(den, 1e-300);
    }
}
