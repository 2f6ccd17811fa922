using MorIcl.Construction.Model;
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
        "Each layer is recomputed from the state before it by its operator's definition at the claimed specification (copy_over, product, affine, softmax, gd_step, " +
        "read-out; docs/math.md §3) and compared on every token, on each prompt and on its mirror (the same examples, the query negated, so that both " +
        "ReLU halves of every read-out head are active on one of the two): relative error ≤ 1e−10. After each E-step block the decoded γ_ik (or w_i) must equal the reference " +
        "E-step (docs/math.md §2, stable log-sum-exp / tanh) on the reference state: relative error ≤ 1e−10. The program's blocks must all be there: S E-step " +
        "blocks, S·T gradient steps and one read-out (counted by the layers' provenance). All exact operators, so the bound is rounding. An algorithm has no layers: not applicable.";
    public override IReadOnlyList<string> MeantToKill => new[]
    {
        Mutants.StepSizeSmall, Mutants.StepSizeLarge, Mutants.SigmaDoubled, Mutants.UniformMixing, Mutants.EmIterationFewer, Mutants.InnerStepFewer,
        Mutants.LogitSignFlipped, Mutants.GdValueNudged, Mutants.PredictionZero, Mutants.NoLearning, Mutants.ResponsibilitiesFrozen,
    };

    protected override string? NotApplicableTo(TransformerModel model) => null;

    protected override CheckResult Execute(CheckOptions options, IProgress<double> progress)
    {
        var specs = options.Target is { } target ? new[] { target.Spec } : PropositionE1Check.Specs;
        double worstLayer = 0, worstE = 0; string worstWhere = "";
        var runs = new List<TransformerMonteCarlo.Run>();
        int structureErrors = 0; string structure = "";
        for (int c = 0; c < specs.Length; c++)
        {
            var instance = options.InstanceFor(specs[c]);
            if (instance.Model is not { } model) return NotApplicable($"{options.Subject.Name} is an algorithm without layers");
            var spec = specs[c];
            int eBlocks = model.Layers.Count(l => l.Provenance.Decode is DecodeKind.Responsibilities or DecodeKind.SymmetricWeights);
            int gBlocks = model.Layers.Count(l => l.Provenance.Decode == DecodeKind.Beta);
            int readOuts = model.Layers.Count(l => l.Provenance.Decode == DecodeKind.Prediction);
            int wantE = spec.Components > 1 || spec.Symmetric ? spec.EmIterations : 1;
            if (eBlocks != wantE || gBlocks != spec.EmIterations * spec.GradientSteps || readOuts != 1)
            {
                structureErrors++;
                structure = $"{eBlocks} E-step blocks (want {wantE}), {gBlocks} gradient steps (want {spec.EmIterations * spec.GradientSteps}), {readOuts} read-outs (want 1)";
            }
            int[] lengths = options.Target is not null ? PropositionE1Check.TargetLengths(spec) : options.Full ? new[] { 12, 50, 200 } : new[] { 12, 40 };
            foreach (int n in lengths)
            {
                var prompts = WithMirroredQuery(TransformerMonteCarlo.Prompts(PropositionE1Check.Truth(spec, options.Seed + c), n, 1, options, 7000 + c * 1000 + n)[0]);
                foreach (var r in TransformerMonteCarlo.Forward(instance, prompts, options, trace: true))
                {
                    runs.Add(r);
                    foreach (var e in LayerSemantics.Check(model, r.Result.Trace!, n))
                        if (!(e.Error <= worstLayer)) { worstLayer = double.IsNaN(e.Error) ? double.PositiveInfinity : e.Error; worstWhere = $"layer {e.Layer} ({e.Operator}: {e.Checked})"; }
                    var reference = ReferenceRun.Of(spec, r.Prompt.Examples, r.Prompt.Query);
                    var estep = r.Result.EStep ?? Array.Empty<double[][]>();
                    worstE = Math.Max(worstE, estep.Count != reference.EStep.Count ? double.PositiveInfinity
                        : TraceDecoder.RelativeError(estep.SelectMany(x => x), reference.EStep.SelectMany(x => x)));
                }
            }
            progress.Report((c + 1.0) / specs.Length);
        }
        var measurements = new List<Measurement>
        {
            new("max relative error of any layer against its operator", worstLayer, "≤ 1e−10", worstLayer <= 1e-10),
            new("max relative error of the E-step block against eqs. (15)–(16)", worstE, "≤ 1e−10", worstE <= 1e-10),
            new("configurations whose blocks differ from S E-steps, S·T gradient steps and one read-out", structureErrors, structureErrors == 0 ? "= 0" : $"= 0 ({structure})", structureErrors == 0),
            TransformerMonteCarlo.Domain(runs),
        };
        return Result(measurements, $"every layer matches its operator to {worstLayer:G2}{(worstLayer > 1e-12 ? $" (worst: {worstWhere})" : "")}; E-step to {worstE:G2}",
            options.Target is not null ? $"the model's specification; n ∈ {{{string.Join(", ", PropositionE1Check.TargetLengths(specs[0]))}}}"
                : $"the three configurations of PropositionE1; n ∈ {{{string.Join(", ", options.Full ? new[] { 12, 50, 200 } : new[] { 12, 40 })}}}");
    }

    /// <summary>
    /// The prompt and the same examples with the query negated: every read-out score ±c⟨x_{n+1}, β_k⟩ changes sign, so each
    /// ReLU half of the read-out (ReLU(s) and −ReLU(−s)) is active on one of the two, and a damaged half cannot hide behind
    /// a query on its inactive side.
    /// </summary>
    private static Mixture.Prompt[] WithMirroredQuery(Mixture.Prompt p) =>
        new[] { p, new Mixture.Prompt(p.Examples, p.Query.Select(v => -v).ToArray(), -p.QueryLabel, p.Components, p.Beta) };
}
