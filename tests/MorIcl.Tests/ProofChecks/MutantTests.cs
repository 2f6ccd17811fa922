using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Verification;

namespace MorIcl.Tests.ProofChecks;

/// <summary>
/// The mutant catalogue and what each check is meant to reject (the full kill matrix is <c>mor-icl verify --mutants</c>):
/// every name a check declares is in the catalogue, every weight mutant changes the model, and a fast subset of the
/// declared kills is asserted here — each rate check kills "no learning" and "OLS", and those that read predictions
/// "prediction ≡ 0", through a violated criterion, not only through a too-large standard error.
/// </summary>
public class MutantTests
{
    private static readonly ConstructionSpec Symmetric = new(3, 2, 0.3, new[] { 0.7, 0.3 }, 4, 2, 0.8, new[] { new[] { 0.4, -0.2, 0.1 } }, symmetric: true);

    [Fact]
    public void CatalogueHoldsTheRequiredMutantsEachNamedAndDescribed()
    {
        var names = MutantCatalogue.All.Select(m => m.Name).ToArray();
        foreach (var required in new[] { Mutants.StepSizeSmall, Mutants.StepSizeLarge, Mutants.SigmaDoubled, Mutants.UniformMixing, Mutants.EmIterationFewer,
                     Mutants.InnerStepFewer, Mutants.LogitSignFlipped, Mutants.GdValueNudged, Mutants.GdLayerDropped, Mutants.PredictionZero,
                     Mutants.NoLearning, Mutants.Ols, Mutants.ResponsibilitiesFrozen })
            Assert.Contains(required, names);
        Assert.Equal(names.Length, names.Distinct().Count());
        Assert.All(MutantCatalogue.All, m => Assert.True(m.Description.Length > 20, m.Name));
        foreach (var check in CheckCatalogue.All)
            foreach (var m in check.MeantToKill) Assert.True(MutantCatalogue.Find(m) is not null, $"{check.Name} names an unknown mutant '{m}'");
    }

    [Fact]
    public void EveryWeightMutantChangesTheModelAndKeepsTheClaimedSpecification()
    {
        var correct = Compiler.Compile(Symmetric);
        foreach (var mutant in MutantCatalogue.All)
        {
            var instance = mutant.Subject(FastChecksFixture.ModelFor).For(Symmetric);
            Assert.Equal(Symmetric, instance.Spec);
            if (instance.Model is not { } model) { Assert.Equal(Mutants.Ols, mutant.Name); continue; }
            bool differs = model.Layers.Count != correct.Layers.Count || model.Layers.Zip(correct.Layers).Any(p => !SameWeights(p.First, p.Second));
            Assert.True(differs, $"{mutant.Name} left the weights unchanged");
        }
    }

    private static bool SameWeights(Layer a, Layer b) => (a, b) switch
    {
        (AttentionLayer x, AttentionLayer y) => x.Heads.Length == y.Heads.Length && x.Heads.Zip(y.Heads).All(h => h.First.Query.Equals(h.Second.Query) && h.First.Key.Equals(h.Second.Key) && h.First.Value.Equals(h.Second.Value)),
        (MlpLayer x, MlpLayer y) => x.W1.Equals(y.W1) && x.W2.Equals(y.W2) && x.B1.SequenceEqual(y.B1) && x.B2.SequenceEqual(y.B2),
        _ => false,
    };

    public static TheoryData<string, string> ExactKills => new()
    {
        { "Lemma3_1", Mutants.GdValueNudged }, { "Lemma3_1", Mutants.GdLayerDropped },
        { "PropositionE1", Mutants.StepSizeLarge }, { "PropositionE1", Mutants.LogitSignFlipped }, { "PropositionE1", Mutants.GdValueNudged }, { "PropositionE1", Mutants.ResponsibilitiesFrozen },
        { "PropositionE2", Mutants.SigmaDoubled }, { "PropositionE2", Mutants.UniformMixing }, { "PropositionE2", Mutants.PredictionZero },
    };

    [Theory]
    [MemberData(nameof(ExactKills))]
    public void AnExactCheckKillsTheMutantsItIsMeantTo(string checkName, string mutantName)
    {
        var check = CheckCatalogue.Find(checkName)!;
        Assert.Contains(mutantName, check.MeantToKill);
        var r = check.Run(new CheckOptions { Subject = MutantCatalogue.Find(mutantName)!.Subject(FastChecksFixture.ModelFor) });
        Assert.True(r.Failed, $"{checkName} passed '{mutantName}': {r.Summary}");
    }

    public static TheoryData<string, string> RateKills => new()
    {
        { "TheoremB1", Mutants.NoLearning }, { "TheoremB1", Mutants.Ols },
        { "TheoremB2", Mutants.NoLearning }, { "TheoremB2", Mutants.Ols },
        { "Theorem2_1", Mutants.PredictionZero }, { "Theorem2_1", Mutants.NoLearning }, { "Theorem2_1", Mutants.Ols },
        { "Theorem2_2", Mutants.PredictionZero }, { "Theorem2_2", Mutants.NoLearning }, { "Theorem2_2", Mutants.Ols },
        { "TheoremB3", Mutants.NoLearning }, { "TheoremB3", Mutants.Ols },
        { "Theorem4_1", Mutants.NoLearning }, { "Theorem4_1", Mutants.Ols },
    };

    /// <summary>At a quarter of the fast prompts (the mutants' slopes are far outside their windows); the violated measurement must be a criterion, not a precision requirement.</summary>
    [Theory]
    [MemberData(nameof(RateKills))]
    public void EachRateCheckKillsNoLearningOlsAndAZeroPrediction(string checkName, string mutantName)
    {
        var check = CheckCatalogue.Find(checkName)!;
        Assert.Contains(mutantName, check.MeantToKill);
        var r = check.Run(new CheckOptions { Subject = RateMutants[mutantName], PromptScale = 0.25 });
        Assert.True(r.Failed, $"{checkName} passed '{mutantName}': {r.Summary}");
        Assert.Contains(r.Measurements, m => !m.Passed && !m.Name.StartsWith("standard error", StringComparison.Ordinal));
    }

    // One subject per mutant, so the shared Monte-Carlo sweep is computed once per mutant across the theory's cases.
    private static readonly Dictionary<string, ISubject> RateMutants =
        new[] { Mutants.NoLearning, Mutants.Ols, Mutants.PredictionZero }.ToDictionary(n => n, n => MutantCatalogue.Find(n)!.Subject(FastChecksFixture.ModelFor));
}
