using MorIcl.Runtime;

namespace MorIcl.Verification;

/// <summary>
/// Seed 000 Proposition E.2 (Pathak et al. 2024, Prop. 1) and Lemma 3.2: copy_down, copy_over,
/// affine and softmax operators are realised by single layers, and the E-step block produces the
/// quantities of eqs. (15)–(16) (the responsibilities γ_ik, or w_i = tanh(·) in the symmetric form).
/// </summary>
public sealed class PropositionE2Check : ProofCheck
{
    public override string Name => "PropositionE2";
    public override string Statement => "seed 000 Prop. E.2 / Lemma 3.2: each operator equals its definition; the E-step block yields eqs. (15)–(16)";
    public override string Derivation =>
        "Each layer is recomputed from the state before it by its operator's definition (copy_over, product, affine, softmax, gd_step, read-out; docs/math.md §3) " +
        "and compared on every token: relative error ≤ 1e−10. After each E-step block the decoded γ_ik (or w_i) must equal the reference E-step " +
        "(docs/math.md §2, stable log-sum-exp / tanh) on the reference state: relative error ≤ 1e−10. All exact operators, so the bound is rounding.";

    protected override CheckResult Execute(CheckOptions options, IProgress<double> progress)
    {
        int[] lengths = options.Full ? new[] { 12, 50, 200 } : new[] { 12, 40 };
        double worstLayer = 0, worstE = 0; string worstWhere = "";
        var runs = new List<TransformerMonteCarlo.Run>();
        var specs = PropositionE1Check.Specs;
        for (int c = 0; c < specs.Length; c++)
        {
            var model = options.ModelFor(specs[c]);
            foreach (int n in lengths)
            {
                var prompts = TransformerMonteCarlo.Prompts(PropositionE1Check.Truth(specs[c], options.Seed + c), n, 1, options, 7000 + c * 1000 + n);
                foreach (var r in TransformerMonteCarlo.Forward(model, prompts, options, trace: true))
                {
                    runs.Add(r);
                    foreach (var e in LayerSemantics.Check(model, r.Result.Trace!, n))
                        if (e.Error > worstLayer) { worstLayer = e.Error; worstWhere = $"layer {e.Layer} ({e.Operator}: {e.Checked})"; }
                    var reference = ReferenceRun.Of(specs[c], r.Prompt.Examples, r.Prompt.Query);
                    var (estep, _) = TraceDecoder.Decode(model, r.Result.Trace!, n);
                    worstE = Math.Max(worstE, estep.Count != reference.EStep.Count ? double.PositiveInfinity
                        : TraceDecoder.RelativeError(estep.SelectMany(x => x.Values), reference.EStep.SelectMany(x => x)));
                }
            }
            progress.Report((c + 1.0) / specs.Length);
        }
        var measurements = new List<Measurement>
        {
            new("max relative error of any layer against its operator", worstLayer, "≤ 1e−10", worstLayer <= 1e-10),
            new("max relative error of the E-step block against eqs. (15)–(16)", worstE, "≤ 1e−10", worstE <= 1e-10),
            TransformerMonteCarlo.Domain(runs),
        };
        return Result(measurements, $"every layer matches its operator to {worstLayer:G2}{(worstLayer > 1e-12 ? $" (worst: {worstWhere})" : "")}; E-step to {worstE:G2}",
            $"the three configurations of PropositionE1; n ∈ {{{string.Join(", ", lengths)}}}");
    }
}
