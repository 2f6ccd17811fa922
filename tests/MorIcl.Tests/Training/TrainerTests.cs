using MorIcl.Mixture;
using MorIcl.Training;

namespace MorIcl.Tests.Training;

/// <summary>
/// The training loop's guarantees, on a small differentiable model with a hand-written gradient
/// (ŷ = ⟨θ_x, x_q⟩ + θ_y·mean(y) + θ_0; the real families have their own gradient checks):
/// an interrupted and resumed run ends bit-identical to an uninterrupted one; checkpoints that are
/// corrupted, truncated or from another configuration are rejected; a NaN loss stops the run and keeps
/// the last good checkpoint.
/// </summary>
public class TrainerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "moricl-trainer-" + Guid.NewGuid().ToString("N"));
    public TrainerTests() => Directory.CreateDirectory(_dir);
    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    private sealed class TinyModel(int d, string tag = "a", int nanAtCall = -1) : ITrainableModel
    {
        private int _calls;
        public ModelDescriptor Descriptor { get; } = new("tiny-test", $"{{\"d\":{d},\"tag\":\"{tag}\"}}", Precision.Double);
        public double[] Parameters { get; } = Enumerable.Range(0, d + 2).Select(i => 0.1 * Math.Sin(i + 1)).ToArray();
        public IReadOnlyList<(string Name, int Offset, int Length)> Blocks => new[] { ("theta", 0, d + 2) };
        private double Predict(Prompt p, out double meanY)
        {
            meanY = p.Examples.Y.Average();
            double s = Parameters[d] * meanY + Parameters[d + 1];
            for (int a = 0; a < d; a++) s += Parameters[a] * p.Query[a];
            return s;
        }
        public double LossAndGradient(IReadOnlyList<Prompt> batch, double[] gradient)
        {
            if (++_calls == nanAtCall) { Array.Fill(gradient, double.NaN); return double.NaN; }
            Array.Clear(gradient);
            double loss = 0;
            foreach (var p in batch)
            {
                double r = Predict(p, out var my) - p.QueryLabel;
                loss += r * r / batch.Count;
                for (int a = 0; a < d; a++) gradient[a] += 2 * r * p.Query[a] / batch.Count;
                gradient[d] += 2 * r * my / batch.Count;
                gradient[d + 1] += 2 * r / batch.Count;
            }
            return loss;
        }
        public double[] Predict(IReadOnlyList<(RegressionData Examples, double[] Query)> prompts) => throw new NotSupportedException();
    }

    private static readonly TrainingTask Task = new(3, 2, 0.3, new[] { 0.6, 0.4 }, MixtureMode.PerSample, 12, 5);
    private static TrainingOptions Options(int pool = 0) => new(20, 8, 0.05, 0.01, pool, 7, 5);

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    public void KilledAndResumedRunEqualsTheUninterruptedRun(int pool)
    {
        var straight = new Trainer(new TinyModel(3), Task, Options(pool));
        straight.Run(null);

        var first = new Trainer(new TinyModel(3), Task, Options(pool));
        first.Run(_dir, stopAfter: 13);                   // "killed" after step 13; the last checkpoint is step 10
        var saved = Checkpoint.Read(Path.Combine(_dir, Trainer.CheckpointFile));
        Assert.Equal(10, saved.Step);
        var resumed = new Trainer(new TinyModel(3), Task, Options(pool));
        resumed.Restore(saved, "checkpoint");
        resumed.Run(_dir);

        Assert.Equal(20, resumed.Step);
        Assert.Equal(straight.Model.Parameters, resumed.Model.Parameters);   // bit-identical
        Assert.Equal(straight.Losses, resumed.Losses);
        Assert.True(straight.Losses[^1] < straight.Losses[0], "the loss decreases");
        Assert.Equal(21, File.ReadAllLines(Path.Combine(_dir, Trainer.LossFile)).Length);
    }

    [Fact]
    public void CorruptedTruncatedAndForeignCheckpointsAreRejected()
    {
        var t = new Trainer(new TinyModel(3), Task, Options());
        t.Run(_dir);
        var path = Path.Combine(_dir, Trainer.CheckpointFile);
        var bytes = File.ReadAllBytes(path);

        var flipped = (byte[])bytes.Clone(); flipped[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(path, flipped);
        Assert.Contains("corrupted", Assert.Throws<InputException>(() => Checkpoint.Read(path)).Message);

        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length - 100).ToArray());
        Assert.Contains("corrupted or truncated", Assert.Throws<InputException>(() => Checkpoint.Read(path)).Message);

        File.WriteAllBytes(path, bytes.AsSpan(0, 5).ToArray());
        Assert.Contains("not a MorIcl checkpoint", Assert.Throws<InputException>(() => Checkpoint.Read(path)).Message);

        File.WriteAllBytes(path, bytes);
        var other = new Trainer(new TinyModel(3, tag: "b"), Task, Options());
        Assert.Contains("another configuration", Assert.Throws<InputException>(() => other.Restore(Checkpoint.Read(path), path)).Message);
    }

    [Fact]
    public void NanLossStopsAndKeepsTheLastGoodCheckpoint()
    {
        var t = new Trainer(new TinyModel(3, nanAtCall: 8), Task, Options());
        var e = Assert.Throws<DivergenceException>(() => t.Run(_dir));
        Assert.Contains("diverged at step 8", e.Message);
        Assert.Contains("last good checkpoint (step 5) is kept", e.Message);
        var kept = Checkpoint.Read(Path.Combine(_dir, Trainer.CheckpointFile));
        Assert.Equal(5, kept.Step);
        Assert.All(kept.Parameters, v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void BadOptionsAreNamed()
    {
        Assert.Contains("--lr", Assert.Throws<SpecificationException>(() => new Trainer(new TinyModel(3), Task, Options() with { LearningRate = 0 })).Message);
        Assert.Contains("--batch", Assert.Throws<SpecificationException>(() => new Trainer(new TinyModel(3), Task, Options() with { Batch = 0 })).Message);
    }
}
