using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Mixture;
using MorIcl.Runtime;

namespace MorIcl.Verification;

/// <summary>
/// Seed 000 Proposition E.1 (Bai et al. 2023, Prop. C.2) and Lemma 3.3: L ReLU-attention layers
/// perform L gradient steps on the empirical M-step loss. Checked on the system under test: after every
/// gd_step layer, b decoded from the runtime trace equals the reference inner step
/// b ← b − α (1/n) Σ_i γ_ik x_i (⟨x_i, b⟩ − y_i) of the claimed specification (docs/math.md §2).
/// </summary>
public sealed class PropositionE1Check : ProofCheck
{
    public override string Name => "PropositionE1";
    public override string Statement => "seed 000 Prop. E.1 / Lemma 3.3: L ReLU-attention layers perform L gradient steps of the M-step loss";
    public override string Derivation =>
        "Every operator of the gd_step is exact inside its certified domain (docs/math.md §3), so the decoded b after each of the S·T gd_step layers must equal " +
        "the reference inner step of the claimed specification, run from the prompt alone, up to floating-point rounding: relative error ≤ 1e−10 (double). Every " +
        "forward pass must be in its domain, and the number of decoded steps must be S·T. With --model: the model's specification, n up to its maximum prompt length.";
    public override IReadOnlyList<string> MeantToKill => new[]
    {
        Mutants.StepSizeSmall, Mutants.StepSizeLarge, Mutants.SigmaDoubled, Mutants.UniformMixing, Mutants.EmIterationFewer, Mutants.InnerStepFewer,
        Mutants.LogitSignFlipped, Mutants.GdValueNudged, Mutants.GdLayerDropped, Mutants.NoLearning, Mutants.Ols, Mutants.ResponsibilitiesFrozen,
    };

    protected override string? NotApplicableTo(TransformerModel model) => null;

    /// <summary>The configurations: the specifications of the test project's generated models.</summary>
    public static ConstructionSpec[] Specs =>
    [
        new(3, 2, 0.5, null, 3, 2, 0.5),
        new(3, 2, 0.3, new[] { 0.7, 0.3 }, 4, 2, 0.8, new[] { new[] { 0.4, -0.2, 0.1 } }, symmetric: true),
        new(4, 3, 0.4, new[] { 0.2, 0.3, 0.5 }, 2, 3, 0.6),
    ];

    internal static MixtureSpec Truth(ConstructionSpec spec, int seed) =>
        spec.Symmetric
            ? MixtureSpec.SymmetricTwoComponent(RegressionVectors.DrawNormalised(spec.Dimension, 1, Numerics.SeedSequence.Create(seed, 0, 0x5452))[0], spec.Mixing[0], spec.Sigma)
            : new MixtureSpec(RegressionVectors.DrawNormalised(spec.Dimension, spec.Components, Numerics.SeedSequence.Create(seed, 0, 0x5452)), spec.Mixing, spec.Sigma);

    /// <summary>The prompt lengths for a model: a short one, the geometric middle and its maximum.</summary>
    internal static int[] TargetLengths(ConstructionSpec spec)
    {
        int lo = Math.Min(spec.MaxPromptLength, Math.Max(2 * spec.Dimension + 2, 10)), hi = spec.MaxPromptLength;
        return new[] { lo, (int)Math.Round(Math.Sqrt((double)lo * hi)), hi }.Distinct().ToArray();
    }

    protected override CheckResult Execute(CheckOptions options, IProgress<double> progress)
    {
        var specs = options.Target is { } target ? new[] { target.Spec } : Specs;
        int reps = options.Full ? 8 : 2;
        double worst = 0; int steps = 0, expected = 0;
        var runs = new List<TransformerMonteCarlo.Run>();
        for (int c = 0; c < specs.Length; c++)
        {
            var instance = options.InstanceFor(specs[c]);
            int[] lengths = options.Target is not null ? TargetLengths(specs[c]) : options.Full ? new[] { 10, 40, 120, 300, 600 } : new[] { 15, 60, 150 };
            foreach (int n in lengths)
            {
                var prompts = TransformerMonteCarlo.Prompts(Truth(specs[c], options.Seed + c), n, options.Target is not null ? 1 : reps, options, c * 1000 + n);
                var results = TransformerMonteCarlo.Forward(instance, prompts, options, trace: true);
                runs.AddRange(results);
                foreach (var r in results)
                {
                    var reference = ReferenceRun.Of(specs[c], r.Prompt.Examples, r.Prompt.Query);
                    var inner = r.Result.InnerSteps ?? Array.Empty<double[][]>();
                    steps += inner.Count; expected += reference.InnerSteps.Count;
                    worst = Math.Max(worst, inner.Count != reference.InnerSteps.Count ? double.PositiveInfinity
                        : TraceDecoder.RelativeError(inner.SelectMany(x => x), reference.InnerSteps.SelectMany(x => x)));
                }
            }
            progress.Report((c + 1.0) / specs.Length);
        }
        var measurements = new List<Measurement>
        {
            new("max relative error of b after each gd_step layer", worst, "≤ 1e−10", worst <= 1e-10),
            new("gradient steps decoded / S·T expected", steps == expected ? 1 : steps / (double)Math.Max(expected, 1), "= 1", steps == expected),
            TransformerMonteCarlo.Domain(runs),
        };
        string configuration = options.Target is not null
            ? $"the model's specification; n ∈ {{{string.Join(", ", TargetLengths(specs[0]))}}}, 1 prompt each"
            : $"K = 2 (d = 3, S = 3, T = 2), symmetric π = 0.7 (d = 3, S = 4, T = 2), K = 3 (d = 4, S = 2, T = 3); n ∈ {{{string.Join(", ", options.Full ? new[] { 10, 40, 120, 300, 600 } : new[] { 15, 60, 150 })}}}, {reps} prompts each";
        return Result(measurements, $"{steps} gradient steps on {runs.Count} prompts equal the reference to {worst:G2}", configuration);
    }
}
