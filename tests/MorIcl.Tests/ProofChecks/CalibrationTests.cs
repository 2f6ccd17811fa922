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

    /// <summary>A check that fails exactly on the seeds divisible by 3 (its measurement is the seed).</summary>
    private sealed class FailsOnMultiplesOfThree : ProofCheck
    {
        public override string Name => "FailsOnMultiplesOfThree";
        public override string Statement => "a statement that holds on seeds not divisible by 3";
        public override string Derivation => "none (a test double)";
        protected override CheckResult Execute(CheckOptions options, IProgress<double> progress) =>
            Result(new[] { new Measurement("seed", options.Seed, "not divisible by 3", options.Seed % 3 != 0, 0.5) }, $"seed {options.Seed}", "");
    }

    [Fact]
    public void CalibrationCountsEveryFalseAlarmAndNamesItsSeed()
    {
        var c = Assert.Single(Calibration.Run(new ProofCheck[] { new FailsOnMultiplesOfThree() }, 10, new CheckOptions(), firstSeed: 2));
        // Seeds 2 … 11: 3, 6 and 9 fail.
        Assert.Equal(3, c.Failures);
        Assert.Equal(new[] { 3, 6, 9 }, c.FailedSeeds);
        var m = Assert.Single(c.Measurements);
        Assert.Equal(3, m.Failures);
        Assert.Equal(Enumerable.Range(2, 10).Select(i => (double)i), m.Values);
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
