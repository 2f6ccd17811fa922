using MorIcl.Mixture;
using MorIcl.Tests.Support;
using MorIcl.Training;
using MorIcl.Training.Gpt;

namespace MorIcl.Tests.Cli;

/// <summary>
/// <c>mor-icl train</c> and <c>compare</c> as a user runs them: a tiny custom GPT trains, resumes and
/// is compared; a killed run resumed by the library ends bit-identical to an uninterrupted one; bad
/// input gets exit code 2 with a message and overwrites nothing.
/// </summary>
public class TrainAndCompareCommandTests
{
    private static readonly string[] Tiny = { "--family", "gpt2", "--layers", "1", "--width", "8", "--heads", "2", "--dim", "2", "--components", "2",
        "--sigma", "0.3", "--prompt-length", "8", "--batch", "8", "--lr", "0.01", "--checkpoint-every", "4" };

    [Fact]
    public void TrainResumeAndCompare()
    {
        using var cli = new CliRunner();
        var run = cli.PathOf("run");
        var r = cli.Run(Tiny.Concat(new[] { "--steps", "6", "--out", run }).Prepend("train").ToArray());
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains("for 6 steps", r.Out);
        Assert.Equal(6, Checkpoint.Read(Path.Combine(run, Trainer.CheckpointFile)).Step);
        Assert.Equal(7, File.ReadAllLines(Path.Combine(run, Trainer.LossFile)).Length);

        r = cli.Run("train", "--resume", run, "--steps", "10");
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Equal(10, Checkpoint.Read(Path.Combine(run, Trainer.CheckpointFile)).Step);

        // An existing run is never overwritten by a new one.
        var before = File.ReadAllBytes(Path.Combine(run, Trainer.CheckpointFile));
        r = cli.Run(Tiny.Concat(new[] { "--steps", "6", "--out", run }).Prepend("train").ToArray());
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("already holds a run", r.Err);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(run, Trainer.CheckpointFile)));

        var cmp = cli.PathOf("cmp");
        r = cli.Run("compare", "--trained", run, "--prompts", "6", "--prompt-lengths", "5,8", "--em-restarts", "2", "--out", cmp);
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains("oracle", r.Out);
        foreach (var f in new[] { "compare.json", "excess-mse.png", "spd.png", "initialisation.png" }) Assert.True(File.Exists(Path.Combine(cmp, f)), f);
    }

    [Fact]
    public void BadInputIsNamedWithExitCodeTwo()
    {
        using var cli = new CliRunner();
        var r = cli.Run("train", "--family", "lstm", "--out", cli.PathOf("x"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown model family 'lstm'", r.Err);
        r = cli.Run("train", "--family", "gpt2", "--size", "huge", "--out", cli.PathOf("y"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown GPT size 'huge'", r.Err);
        r = cli.Run("train", "--resume", cli.PathOf("nothing"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("not a training run", r.Err);

        var run = cli.PathOf("run");
        Assert.Equal(0, cli.Run(Tiny.Concat(new[] { "--steps", "4", "--out", run }).Prepend("train").ToArray()).ExitCode);
        var cp = Path.Combine(run, Trainer.CheckpointFile);
        var bytes = File.ReadAllBytes(cp);
        File.WriteAllBytes(cp, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        r = cli.Run("train", "--resume", run, "--steps", "8");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("corrupted or truncated", r.Err);

        // A checkpoint from another configuration.
        File.WriteAllBytes(cp, bytes);
        var other = cli.PathOf("other");
        Assert.Equal(0, cli.Run(Tiny.Select(a => a == "8" ? "16" : a).Concat(new[] { "--steps", "4", "--out", other }).Prepend("train").ToArray()).ExitCode);
        File.Copy(Path.Combine(other, Trainer.CheckpointFile), cp, overwrite: true);
        r = cli.Run("train", "--resume", run, "--steps", "8");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("another configuration", r.Err);

        // NaN: a learning rate that overflows stops with a message and keeps the last good checkpoint.
        var wild = cli.PathOf("wild");
        r = cli.Run(Tiny.Select(a => a == "0.01" ? "1e300" : a).Concat(new[] { "--steps", "12", "--out", wild }).Prepend("train").ToArray());
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("diverged", r.Err);
    }

    [Fact]
    public void KilledGptRunResumedEndsWithTheSameWeights()
    {
        var task = new TrainingTask(2, 2, 0.3, new[] { 0.5, 0.5 }, MixtureMode.PerSample, 6, 3);
        var options = new TrainingOptions(9, 8, 0.01, 0.01, 0, 5, 3);
        GptModel Model() => new(new GptConfig(2, 1, 8, 2, 0.1), 5, Precision.Float);
        var straight = new Trainer(Model(), task, options);
        straight.Run(null);
        var dir = Directory.CreateTempSubdirectory("moricl-kill-").FullName;
        try
        {
            new Trainer(Model(), task, options).Run(dir, stopAfter: 5);        // killed after step 5: checkpoint at 3
            var resumed = new Trainer(Model(), task, options);
            resumed.Restore(Checkpoint.Read(Path.Combine(dir, Trainer.CheckpointFile)), "checkpoint");
            Assert.Equal(3, resumed.Step);
            resumed.Run(dir);
            Assert.Equal(straight.Model.Parameters, resumed.Model.Parameters);
        }
        finally { Directory.Delete(dir, true); }
    }
}
