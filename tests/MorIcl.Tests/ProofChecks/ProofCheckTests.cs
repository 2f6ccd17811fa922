using MorIcl.Cli.Commands;
using MorIcl.Verification;
using MorIcl.Tests.Support;
using Snapshooter;
using Snapshooter.Xunit;

namespace MorIcl.Tests.ProofChecks;

/// <summary>The fast version of every proof check (seed 000's statements on the constructed transformer).</summary>
public class ProofCheckTests(FastChecksFixture fixture) : IClassFixture<FastChecksFixture>
{
    public static TheoryData<string> Names
    {
        get { var t = new TheoryData<string>(); foreach (var c in CheckCatalogue.All) t.Add(c.Name); return t; }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void StatementHolds(string name)
    {
        var r = fixture.Results[name];
        Assert.True(r.Passed, r.FailureMessage);
        Assert.NotEmpty(r.Measurements);
        Assert.Contains(r.Measurements, m => m.Criterion != "reported");
    }

    [Fact]
    public void CatalogueCoversTheStatementsAndUsesGeneratedModels()
    {
        foreach (var name in new[] { "Lemma3_1", "PropositionE1", "PropositionE2", "TheoremB1", "TheoremB2", "Theorem2_1", "TheoremB3", "Theorem4_1" })
            Assert.NotNull(CheckCatalogue.Find(name));
        Assert.True(FastChecksFixture.GeneratedUses >= 3, $"generated models used {FastChecksFixture.GeneratedUses} times");
    }

    [Fact]
    public void FastReportMatchesItsSnapshot()
    {
        var results = CheckCatalogue.All.Select(c => fixture.Results[c.Name]).ToList();
        var report = VerifyReport.Markdown(results, CheckCatalogue.All, full: false, seed: 1, includeTimes: false);
        // Numbers in measurements are rounded to 3 significant digits by the report; tiny last-bit differences do not show.
        Snapshot.Match(report, new SnapshotFullName("ProofChecks_FastReport.snap", GeneratorHarness.SnapshotFolder()));
    }
}

/// <summary>A check made to fail says which statement failed, on which configuration and seed, and by how much.</summary>
public class FailingCheckTests
{
    [Fact]
    public void PerturbingOneWeightOfAGeneratedModelFailsPropositionE1()
    {
        var options = new CheckOptions { Subject = new TransformerSubject(spec => ModelSurgery.ScaleFirstGdStepValue(FastChecksFixture.ModelFor(spec), 1.01)) };
        var r = new PropositionE1Check().Run(options);
        Assert.False(r.Passed);
        Assert.Contains("PropositionE1 FAILED", r.FailureMessage);
        Assert.Contains("Prop. E.1", r.FailureMessage);
        Assert.Contains("max relative error of b after each gd_step layer", r.FailureMessage);
        Assert.Contains("mor-icl verify --check PropositionE1 --seed 1", r.FailureMessage);
        Assert.Contains("n ∈", r.FailureMessage);
    }

    [Fact]
    public void DataFromAnotherNoiseLevelFailsTheoremB1()
    {
        // 3× the noise moves the contraction only from 0.61 to 0.71 (inside the 0.1 tolerance); 5× (η = 1) breaks it.
        var r = new TheoremB1Check().Run(new CheckOptions { NoiseScale = 5 });
        Assert.False(r.Passed, r.Summary);
        Assert.Contains("TheoremB1 FAILED", r.FailureMessage);
        Assert.Contains("Theorem B.1", r.FailureMessage);
    }
}
