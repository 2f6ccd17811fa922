using MorIcl.Construction;
using MorIcl.Runtime;

namespace MorIcl.Comparison;

/// <summary>
/// Gradient EM's β̂ after each outer iteration s = 1 … S (docs/math.md §2), by the reference algorithm
/// with a construction's σ, π, T, α and β⁽⁰⁾ (<see cref="ReferenceRun"/>); the symmetric program's
/// β̂ is expanded to (β̂, −β̂). If the run stops early (a fixed point reached exactly), the last
/// iterate is repeated.
/// </summary>
public static class GradientEmPath
{
    public static double[][][] Of(ConstructionSpec spec, Mixture.RegressionData data, double[] query)
    {
        var run = ReferenceRun.Of(spec, data, query);
        int T = spec.GradientSteps;
        var path = new double[spec.EmIterations][][];
        for (int s = 1; s <= spec.EmIterations; s++)
        {
            var b = run.InnerSteps[Math.Min(run.InnerSteps.Count, s * T) - 1];
            path[s - 1] = spec.Symmetric ? new[] { b[0], b[0].Select(v => -v).ToArray() } : b;
        }
        return path;
    }

    /// <summary>The same specification with S outer iterations.</summary>
    public static ConstructionSpec WithIterations(ConstructionSpec s, int iterations) =>
        new(s.Dimension, s.Components, s.Sigma, s.Mixing, iterations, s.GradientSteps, s.StepSize, s.InitialBeta, s.Margin, s.MaxPromptLength, s.Symmetric, s.EstimateMixing, s.MixingFloor);
}
