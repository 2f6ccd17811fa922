using MorIcl.Construction;
using MorIcl.Mixture;
using MorIcl.Runtime;
using MorIcl.Numerics;
using MorIcl.Tests.Construction;
using Xunit.Abstractions;

namespace MorIcl.Tests.Bounds;

public class RoundingBoundExploration(ITestOutputHelper output)
{
    [Fact]
    public void Explore()
    {
        foreach (int seed in new[] { 44 })
        {
            var c = ConstructedEqualsGradientEmTests.Draw(seed);
            var (spec, prompt) = ConstructedEqualsGradientEmTests.Build(c);
            var model = Compiler.Compile(spec);
            var dd = HighPrecisionExecutor.Forward(model, prompt.Examples, prompt.Query, trace: true);
            foreach (var prec in new[] { "double", "float" })
            {
                
                var r = prec == "double" ? new ModelExecutor<double>(model, boundRounding: true).Forward(prompt.Examples, prompt.Query, trace: true)
                    : new ModelExecutor<float>(model, boundRounding: true).Forward(prompt.Examples, prompt.Query, trace: true);
                double obsP = Math.Abs((r.Prediction - dd.Prediction.Hi) - dd.Prediction.Lo);
                int violations = 0; double worstRatio = 0;
                for (int l = 0; l < r.Trace!.Length; l++)
                {
                    double lo2 = 0, lb2 = 0; int worstK = 0; double worstR = 0;
                    var (hi, lo) = dd.Trace![l];
                    for (int k = 0; k < hi.Length; k++)
                    {
                        double obs = Math.Abs((r.Trace[l][k] - hi[k]) - lo[k]);
                        double b = r.ErrorBoundTrace![l][k];
                        if (obs > b) violations++;
                        if (b > 0) worstRatio = Math.Max(worstRatio, obs / b);
                        lo2 = Math.Max(lo2, obs); lb2 = Math.Max(lb2, b);
                        if (b / Math.Max(obs, 1e-300) > worstR && b > 1e-300) { worstR = b / Math.Max(obs, 1e-300); worstK = k; }
                    }
                    if (prec == "float")
                    {
                        var names = model.Layout.RowNames();
                        string Row(string prefix, int token)
                        {
                            double o = 0, b = 0;
                            for (int cc = 0; cc < model.Dimension; cc++)
                                if (names[cc].StartsWith(prefix)) { int kk = token * model.Dimension + cc; o = Math.Max(o, Math.Abs((r.Trace[l][kk] - hi[kk]) - lo[kk])); b = Math.Max(b, r.ErrorBoundTrace![l][kk]); }
                            return $"{prefix} {o:G2}/{b:G2}";
                        }
                        output.WriteLine($"  layer {l} {(l == 0 ? "embed" : model.Layers[l - 1].Provenance.Operator)}: max obs {lo2:G3} max bound {lb2:G3}; {Row("beta", prompt.N)} {Row("u[", 3)} {Row("uu", 3)} {Row("logit", 3)} {Row("gamma", 3)} {Row("gx", 3)} {Row("sx", 3)} {Row("Nu", 3)} {Row("N", 3)}");
                    }
                }
                output.WriteLine($"{c} {prec}: pred obs {obsP:G3} bound {r.Certificate.PredictionErrorBound:G3} ratio {r.Certificate.PredictionErrorBound / obsP:G3}; beta bound {r.Certificate.BetaErrorBound:G3}; violations {violations}, worst obs/bound {worstRatio:G3}; inDomain {r.Certificate.InDomain} {r.Certificate.Summary()}");
            }
        }
    }
}
