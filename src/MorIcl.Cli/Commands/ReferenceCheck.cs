using MorIcl.Construction.Model;
using MorIcl.Runtime;

namespace MorIcl.Cli.Commands;

/// <summary>
/// Whether a run of a model that claims to be its spec's construction lands within the certified bound
/// of the spec's reference gradient EM: for ŷ and every β̂ coordinate, |computed − reference| ≤ bound +
/// allowance. The bound is the certificate's (docs/math.md §8); the allowance covers what it does not:
/// the reference's own double rounding (it is not certified; it is given the double pass's certified
/// bound on the same prompt, the rounding of the same arithmetic), 10^-12·max(1, |reference|) of slack,
/// and for approximate (estimated-mixing) layers 100 × their declared errors × max(1, |reference|),
/// since the reference takes the exact log where the transformer takes its interpolant.
/// </summary>
internal sealed record ReferenceCheck(bool Within, double Difference, double Bound, double Allowance)
{
    public static ReferenceCheck Of(ForwardResult result, ReferenceRun reference, Certificate doublePass, TransformerModel model)
    {
        var cert = result.Certificate;
        double scale = Math.Max(1, reference.Beta.SelectMany(b => b).Append(reference.Prediction).Max(Math.Abs));
        double approximate = model.Layers.OfType<MlpLayer>().Sum(l => l.DeclaredError) * 100;
        double Allow(double doubleBound) => doubleBound + (1e-12 + approximate) * scale;
        double predGap = Math.Abs(result.Prediction - reference.Prediction), betaGap = 0;
        for (int k = 0; k < reference.Beta.Length; k++)
            for (int a = 0; a < reference.Beta[k].Length; a++) betaGap = Math.Max(betaGap, Math.Abs(result.Beta[k][a] - reference.Beta[k][a]));
        if (double.IsNaN(predGap + betaGap)) return new ReferenceCheck(false, double.PositiveInfinity, cert.PredictionErrorBound, Allow(doublePass.PredictionErrorBound));
        var beta = new ReferenceCheck(betaGap <= cert.BetaErrorBound + Allow(doublePass.BetaErrorBound), betaGap, cert.BetaErrorBound, Allow(doublePass.BetaErrorBound));
        var pred = new ReferenceCheck(predGap <= cert.PredictionErrorBound + Allow(doublePass.PredictionErrorBound), predGap, cert.PredictionErrorBound, Allow(doublePass.PredictionErrorBound));
        return !beta.Within ? beta : pred;
    }
}
