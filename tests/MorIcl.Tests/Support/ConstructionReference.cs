using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Em;
using MorIcl.Mixture;

namespace MorIcl.Tests.Support;

/// <summary>The reference gradient EM run (SPEC §2) with the construction's parameters, and trace decoding.</summary>
internal static class ConstructionReference
{
    public sealed record Reference(double[][] Beta, double Prediction, List<double[][]> EStep, List<double[][]> InnerSteps);

    public static Reference Run(ConstructionSpec spec, Prompt prompt)
    {
        var estep = new List<double[][]>();
        var inner = new List<double[][]>();
        double[][] beta;
        if (spec.Symmetric)
        {
            var run = SymmetricGradientEm.Run(prompt.Examples, spec.InitialBeta[0], spec.Sigma, spec.Mixing[0], spec.EmIterations, spec.GradientSteps, spec.StepSize);
            foreach (var w in run.Weights) estep.Add(new[] { w });
            foreach (var steps in run.InnerSteps) foreach (var b in steps) inner.Add(new[] { b });
            beta = new[] { run.Betas[^1], run.Betas[^1].Select(v => -v).ToArray() };
            double pred = (2 * spec.Mixing[0] - 1) * Direct.Dot(prompt.Query, run.Betas[^1]);
            return new Reference(beta, pred, estep, inner);
        }
        var fit = ExpectationMaximisation.Fit(prompt.Examples,
            new MixtureParameters(spec.InitialBeta, spec.Mixing, Enumerable.Repeat(spec.Sigma, spec.Components).ToArray()),
            new EmOptions
            {
                Algorithm = EmAlgorithm.Gradient, InnerSteps = spec.GradientSteps, StepSize = spec.StepSize, MaxIterations = spec.EmIterations,
                Tolerance = 0, Variance = VarianceModel.Known, KnownSigma = spec.Sigma, FixedMixing = spec.Mixing, RecordTrace = true,
            });
        int n = prompt.N;
        foreach (var entry in fit.Trace!)
        {
            estep.Add(Enumerable.Range(0, spec.Components).Select(k => entry.Responsibilities.Skip(k * n).Take(n).ToArray()).ToArray());
            inner.AddRange(entry.InnerBetas);
        }
        beta = fit.Parameters.Beta;
        double p = 0;
        for (int k = 0; k < spec.Components; k++) p += spec.Mixing[k] * Direct.Dot(prompt.Query, beta[k]);
        return new Reference(beta, p, estep, inner);
    }

    /// <summary>Decoded E-step outputs (γ_ik per component, or w_i) and inner-step β's from a trace, in layer order.</summary>
    public static (List<double[][]> EStep, List<double[][]> Inner) Decode(TransformerModel model, double[][] trace, int n)
    {
        int D = model.Dimension;
        var estep = new List<double[][]>();
        var inner = new List<double[][]>();
        for (int l = 0; l < model.Layers.Count; l++)
        {
            var h = trace[l + 1];
            switch (model.Layers[l].Provenance.Decode)
            {
                case DecodeKind.Responsibilities:
                    estep.Add(model.ReadOut.Responsibilities!.Select(row => Enumerable.Range(0, n).Select(i => h[i * D + row]).ToArray()).ToArray());
                    break;
                case DecodeKind.SymmetricWeights:
                    estep.Add(new[] { Enumerable.Range(0, n).Select(i => h[i * D + model.ReadOut.SymmetricWeightPlusOne] - 1).ToArray() });
                    break;
                case DecodeKind.Beta:
                    inner.Add(model.ReadOut.Beta.Select(b => Enumerable.Range(0, b.Width).Select(a => h[n * D + b[a]]).ToArray()).ToArray());
                    break;
            }
        }
        return (estep, inner);
    }

    /// <summary>Normwise relative error max|a − b| / max|b| over a list of vectors.</summary>
    public static double RelativeError(IEnumerable<double[]> got, IEnumerable<double[]> want)
    {
        double num = 0, den = 0;
        foreach (var (g, w) in got.Zip(want))
        {
            Assert.Equal(w.Length, g.Length);
            for (int i = 0; i < w.Length; i++) { num = Math.Max(num, Math.Abs(g[i] - w[i])); den = Math.Max(den, Math.Abs(w[i])); }
        }
        return num / Math.Max(den, 1e-300);
    }
}
