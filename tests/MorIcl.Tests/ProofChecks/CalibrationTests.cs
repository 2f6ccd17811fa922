using MorIcl.Seed003;
using MorIcl.Verification;

namespace MorIcl.Tests.ProofChecks;

/// <summary>
/// False alarms on the correct system. The full calibration (every fast check on 40 seeds, and the full checks) is
/// <c>mor-icl verify --calibrate</c>, committed in docs/verify/; here the cheaper fast checks run on two more seeds.
/// </summary>
public class CalibrationTests
{
    [Fact]
    public void TheCheaperFastChecksRaiseNoFalseAlarmOnTwoMoreSeeds()
    {
        var checks = new[] { "Lemma3_1", "PropositionE1", "PropositionE2", "TheoremB1", "Seed003Theorem1", "Seed003Proposition1" }.Select(n => CheckCatalogue.Find(n)!).ToArray();
        var result = Calibration.Run(checks, 2, new CheckOptions { Subject = new TransformerSubject(FastChecksFixture.ModelFor) }, firstSeed: 2);
        Assert.All(result, c => Assert.True(c.Failures == 0, $"{c.Name}: false alarms on seeds {string.Join(", ", c.FailedSeeds)}"));
        Assert.All(result, c => Assert.Equal(2, c.Seeds));
    }

    [Fact]
    public void Theorem1CriterionRejectsABoundThatIsTooFast()
    {
        // The informative run's bound is not trivial; a claimed rate with ζ₀ ten times too large must be caught.
        var run = TheoremOneRun.Execute(Seed003Theorem1Check.Informative, Seed003Theorem1Check.StepsFor, 1);
        Assert.All(Seed003Theorem1Check.Assess(run, "", informative: true), m => Assert.True(m.Passed, m.Name));
        var k = run.Constants;
        double wrong = 1 - 10 * (1 - k.Rate);
        var falsified = run with { Bound = run.Bound.Select((_, t) => Math.Pow(wrong, t) * k.InitialGap).ToArray() };
        Assert.Contains(Seed003Theorem1Check.Assess(falsified, "", informative: true), m => !m.Passed && m.Name.StartsWith("steps with gap > ρ^t", StringComparison.Ordinal));
    }
}
