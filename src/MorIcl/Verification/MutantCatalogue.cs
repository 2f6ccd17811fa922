using MorIcl.Baselines;
using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Mixture;

namespace MorIcl.Verification;

/// <summary>
/// A deliberately wrong system under test: <see cref="Build"/> turns the correct model factory (spec →
/// constructed model) into the mutant subject. Weight mutants edit the constructed model and keep its
/// claimed specification; algorithm mutants replace the transformer by another procedure.
/// </summary>
public sealed record Mutant(string Name, string Description, Func<Func<ConstructionSpec, TransformerModel>, ISubject> Build)
{
    public ISubject Subject(Func<ConstructionSpec, TransformerModel>? modelFor = null) => Build(modelFor ?? Compiler.Compile);
}

/// <summary>The mutants' names (used by checks' <see cref="ProofCheck.MeantToKill"/> lists and tests).</summary>
public static class Mutants
{
    public const string StepSizeSmall = "step size ×0.8";
    public const string StepSizeLarge = "step size ×1.25";
    public const string SigmaDoubled = "σ ×2";
    public const string UniformMixing = "π = ½ on a π = 0.7 mixture";
    public const string EmIterationFewer = "one EM iteration fewer";
    public const string InnerStepFewer = "one inner step fewer";
    public const string LogitSignFlipped = "E-step logit sign flipped";
    public const string GdValueNudged = "one gd_step V weight ×(1 + 1e−6)";
    public const string GdLayerDropped = "a gd_step layer dropped";
    public const string PredictionZero = "prediction ≡ 0 (β̂ intact)";
    public const string NoLearning = "no learning (β̂ = β⁽⁰⁾)";
    public const string Ols = "OLS in place of EM";
    public const string ResponsibilitiesFrozen = "responsibilities frozen after the first E-step";
}

/// <summary>Every mutant that <c>mor-icl verify --mutants</c> runs each check on (docs/math.md §10.8).</summary>
public static class MutantCatalogue
{
    public static IReadOnlyList<Mutant> All { get; } = new[]
    {
        Compiled(Mutants.StepSizeSmall, "weights compiled with α·0.8; the model claims α", s => ModelEdits.With(s, stepSize: 0.8 * s.StepSize)),
        Compiled(Mutants.StepSizeLarge, "weights compiled with α·1.25; the model claims α", s => ModelEdits.With(s, stepSize: 1.25 * s.StepSize)),
        Compiled(Mutants.SigmaDoubled, "weights compiled with 2σ (E-step logits use 1/(4σ²)); the model claims σ", s => ModelEdits.With(s, sigma: 2 * s.Sigma)),
        Compiled(Mutants.UniformMixing, "weights compiled with π = (1/K, …, 1/K) — symmetric: ½ — in the E-step and the read-out; the model claims its π (0.7 where the checks use it)",
            s => ModelEdits.With(s, mixing: Enumerable.Repeat(1.0 / s.Components, s.Components).ToArray())),
        Edited(Mutants.EmIterationFewer, "every layer of the last EM iteration (E-step and M-step) removed",
            m => ModelEdits.Dropping(m, l => l.Provenance.EmIteration == m.Spec.EmIterations)),
        Edited(Mutants.InnerStepFewer, "the three layers of the last inner gradient step of the last EM iteration removed",
            m => ModelEdits.Dropping(m, l => l.Provenance.EmIteration == m.Spec.EmIterations && l.Provenance.InnerStep == m.Spec.GradientSteps)),
        Edited(Mutants.LogitSignFlipped, "the data term of every E-step logit negated: ℓ_ik = log π_k − (y u − u²/2)/σ² (symmetric: a_i = −y_i u_i/σ² + ½ log(π/(1 − π)))", FlipLogits),
        Edited(Mutants.GdValueNudged, "the first value weight of the first head of the first gd_step gradient-term layer multiplied by 1 + 1e−6",
            m => ModelEdits.EditingHeads(m, IsGradientTerms, (h, i) => i == 0 ? ModelEdits.ScaleValueEntry(h, 0, 1 + 1e-6) : h, firstOnly: true)),
        Edited(Mutants.GdLayerDropped, "the first gd_step gradient-term layer (EM iteration 1, inner step 1) removed: that step averages an empty scratch",
            m => ModelEdits.DroppingFirst(m, l => l is AttentionLayer a && IsGradientTerms(a))),
        Edited(Mutants.PredictionZero, "the read-out layer removed: the prediction row stays 0, β̂ is untouched",
            m => ModelEdits.Dropping(m, l => l.Provenance.Decode == DecodeKind.Prediction)),
        Edited(Mutants.NoLearning, "every gd_step mean head's value matrix zeroed: b never moves, β̂ = β⁽⁰⁾ and ŷ is predicted from β⁽⁰⁾",
            m => ModelEdits.EditingHeads(m, a => a.Provenance.Operator == "gd_step" && a.Provenance.Decode == DecodeKind.Beta, (h, _) => ModelEdits.ZeroValue(h))),
        new Mutant(Mutants.Ols, "ordinary least squares on the prompt in place of the transformer: β̂_k = β̂_OLS for every k, ŷ = ⟨x, β̂_OLS⟩, every inner step reports β̂_OLS",
            _ => new AlgorithmSubject(Mutants.Ols, Ols)),
        Edited(Mutants.ResponsibilitiesFrozen, "the E-step layers of EM iterations 2 … S removed: every M-step uses the responsibilities of the first E-step",
            m => ModelEdits.Dropping(m, l => l.Provenance.EmIteration >= 2 && l.Provenance.InnerStep == 0)),
    };

    public static Mutant? Find(string name) => All.FirstOrDefault(m => m.Name == name);

    internal static bool IsGradientTerms(AttentionLayer a) => a.Provenance.Operator == "gd_step" && a.Provenance.Decode == DecodeKind.None;

    private static Mutant Compiled(string name, string description, Func<ConstructionSpec, ConstructionSpec> weightsFrom) =>
        new(name, description, modelFor => new TransformerSubject(spec => ModelEdits.Claiming(modelFor(weightsFrom(spec)), spec), name));

    private static Mutant Edited(string name, string description, Func<TransformerModel, TransformerModel> edit) =>
        new(name, description, modelFor => new TransformerSubject(spec => edit(modelFor(spec)), name));

    private static TransformerModel FlipLogits(TransformerModel m)
    {
        var layout = m.Layout;
        bool symmetric = m.Spec.Symmetric;
        var outputs = new HashSet<int>(symmetric ? new[] { layout["a"].Row } : Enumerable.Range(0, m.Spec.Components).Select(k => layout["logit"][k]));
        var data = new HashSet<int>(symmetric ? new[] { layout["uy"].Row } : Enumerable.Range(0, m.Spec.Components).SelectMany(k => new[] { layout["uy"][k], layout["uu"][k] }));
        return ModelEdits.EditingMlpInputs(m, l => l.Provenance.Operator == "affine" && l.Provenance.EmIteration >= 1 && l.Provenance.InnerStep == 0,
            outputs, (col, v) => data.Contains(col) ? -v : v);
    }

    private static SubjectRun Ols(ConstructionSpec spec, Prompt prompt)
    {
        var b = OrdinaryLeastSquares.Fit(prompt.Examples);
        var beta = spec.Symmetric ? new[] { b, b.Select(v => -v).ToArray() } : Enumerable.Range(0, spec.Components).Select(_ => (double[])b.Clone()).ToArray();
        var steps = Enumerable.Range(0, spec.EmIterations * spec.GradientSteps).Select(_ => spec.Symmetric ? new[] { b } : beta).ToList();
        return new SubjectRun(OrdinaryLeastSquares.Dot(prompt.Query, b), beta, true, steps, null, null);
    }
}
