using MorIcl.Mixture;
using MorIcl.Training;
using MorIcl.Training.Gpt;

namespace MorIcl.Tests.Training;

/// <summary>A run whose loss explodes stops with a message and keeps its last good checkpoint; a healthy one does not.</summary>
public class DivergenceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("moricl-divergence-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    [Fact]
    public void TheRuleIsAHundredTimesTheLargerOfTheFirstLossAndTheSecondMomentOfY()
    {
        var spec = new MixtureSpec(new[] { new[] { 0.6, 0.8 }, new[] { 1.0, 0.0 } }, new[] { 0.5, 0.5 }, 0.5, MixtureMode.PerSample);
        Assert.Equal(1.25, Divergence.LabelSecondMoment(spec), 12); // ‖β_k‖ = 1, σ² = 0.25
        Assert.Null(Divergence.Check(99 * 1.25, 0.01, 1.25));
        Assert.Contains("exceeds 100 × its start 1.25", Divergence.Check(101 * 1.25, 0.01, 1.25));
        Assert.Null(Divergence.Check(99 * 3.0, 3.0, 1.25));
        Assert.NotNull(Divergence.Check(301, 3.0, 1.25));
        Assert.Contains("NaN", Divergence.Check(double.NaN, 1, 1));
        Assert.NotNull(Divergence.Check(double.PositiveInfinity, 1, 1));
    }

    [Fact]
    public void AHugeLearningRateStopsTheRunAndKeepsTheLastGoodCheckpoint()
    {
        var task = new TrainingTask(3, 2, 0.5, new[] { 0.5, 0.5 }, MixtureMode.PerSample, 8, 1);
        var options = new TrainingOptions(200, 8, 1e3, 0, 0, 1, 1);
        var trainer = new Trainer(new GptModel(new GptConfig(3, 1, 8, 1), 1, Precision.Double), task, options);
        var e = Assert.Throws<DivergenceException>(() => trainer.Run(_dir));
        Assert.Contains("diverged at step", e.Message);
        Assert.Contains("--lr", e.Message);
        var kept = Checkpoint.Read(Path.Combine(_dir, Trainer.CheckpointFile));
        Assert.Equal(e.LastGoodStep, kept.Step);
        Assert.True(kept.Step < e.Step);
        Assert.All(kept.Losses, l => Assert.Null(Divergence.Check(l, kept.Losses[0], 1.25)));
    }
}
