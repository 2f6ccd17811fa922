using MorIcl.Tests.Support;
using MorIcl.Training;

namespace MorIcl.Tests.Cli;

/// <summary>
/// Outputs are all-or-nothing and exit codes hold: an unwritable destination is exit code 2 naming
/// it with nothing new left behind (not an internal error); requests the machine cannot hold are
/// refused up front; --threads is checked and changes no result; a resumed run refuses options it
/// cannot change and keeps run.json true; a diverged run is marked failed and replaced with --force.
/// </summary>
public class OutputsAndExitCodesTests
{
    private static readonly string[] Tiny = { "train", "--family", "gpt2", "--layers", "1", "--width", "8", "--heads", "1", "--dim", "2",
        "--prompt-length", "6", "--batch", "16", "--checkpoint-every", "2" };

    /// <summary><see cref="Tiny"/> with one option's value replaced.</summary>
    private static string[] TinyWith(string option, string value) => Tiny.Select((a, i) => i > 0 && Tiny[i - 1] == option ? value : a).ToArray();

    private static string[] Spec => new[] { "--dim", "2", "--components", "2", "--em-iterations", "1", "--gd-steps", "1", "--step-size", "0.5", "--sigma", "0.5" };

    private static void AssertRefused(CliRunner cli, string[] before, CliResult r, string mention)
    {
        Assert.True(r.ExitCode == 2, $"exit {r.ExitCode}: {r.Err}");
        Assert.Contains(mention, r.Err);
        Assert.DoesNotContain("internal error", r.Err);
        Assert.Equal(before, cli.Tree());
    }

    [Fact]
    public void UnwritableDestinationsAreExitCodeTwoAndLeaveNothing()
    {
        using var cli = new CliRunner();
        var ro = Unwritable.Folder(cli.Dir);
        var run = cli.PathOf("run");
        Assert.Equal(0, cli.Run(Tiny.Concat(new[] { "--steps", "2", "--out", run }).ToArray()).ExitCode);
        var model = cli.PathOf("m.json");
        Assert.Equal(0, cli.Run(new[] { "construct" }.Concat(Spec).Concat(new[] { "--out", model }).ToArray()).ExitCode);
        var data = cli.PathOf("p.csv");
        Assert.Equal(0, cli.Run("sample", "--dim", "2", "--components", "2", "--prompt-length", "20", "--sigma", "0.5", "--out", data).ExitCode);
        var before = cli.Tree();
        string Ro(string name) => Path.Combine(ro, name);

        AssertRefused(cli, before, cli.Run("sample", "--dim", "2", "--components", "2", "--prompt-length", "10", "--sigma", "1", "--out", cli.PathOf("x.csv"), "--truth", Ro("t.json")), "t.json");
        AssertRefused(cli, before, cli.Run(new[] { "construct" }.Concat(Spec).Concat(new[] { "--out", cli.PathOf("m2.json"), "--npz", Ro("m.npz") }).ToArray()), "m.npz");
        AssertRefused(cli, before, cli.Run(Tiny.Concat(new[] { "--steps", "2", "--out", Ro("run") }).ToArray()), Ro("run"));
        AssertRefused(cli, before, cli.Run("compare", "--trained", run, "--prompts", "4", "--prompt-lengths", "6", "--out", Ro("cmp")), Ro("cmp"));
        AssertRefused(cli, before, cli.Run("verify", "--check", "Lemma3_1", "--out", Ro("report")), Ro("report"));
        AssertRefused(cli, before, cli.Run("seed003", "figure3", "--out", Ro("s3")), Ro("s3"));
        AssertRefused(cli, before, cli.Run("run", "--model", model, "--data", data, "--trace", Ro("trace.csv")), "trace.csv");
        AssertRefused(cli, before, cli.Run(new[] { "inspect" }.Concat(Spec).Concat(new[] { "--layer", "6", "--heatmap", Ro("h.png") }).ToArray()), "h.png");
        AssertRefused(cli, before, cli.Run("sample", "--dim", "2", "--components", "2", "--prompt-length", "10", "--sigma", "1", "--out", cli.Dir), "is a folder");
        AssertRefused(cli, before, cli.Run("seed003", "figure3", "--out", data), "is a file");
    }

    [Fact]
    public void RequestsTheMachineCannotHoldAreRefusedUpFront()
    {
        using var cli = new CliRunner();
        var before = cli.Tree();
        var started = System.Diagnostics.Stopwatch.StartNew();
        AssertRefused(cli, before, cli.Run("sample", "--dim", "5", "--components", "2", "--prompt-length", "2000000000", "--sigma", "1", "--out", cli.PathOf("big.csv")), "--prompt-length 2000000000");
        AssertRefused(cli, before, cli.Run("demo", "--prompt-length", "2000000000"), "--prompt-length 2000000000");
        AssertRefused(cli, before, cli.Run(TinyWith("--batch", "2000000000").Concat(new[] { "--out", cli.PathOf("r") }).ToArray()), "--batch 2000000000");
        AssertRefused(cli, before, cli.Run(TinyWith("--width", "2000000").Concat(new[] { "--out", cli.PathOf("r") }).ToArray()), "width 2000000");
        AssertRefused(cli, before, cli.Run("construct", "--dim", "5", "--components", "2", "--em-iterations", "100000000", "--gd-steps", "3", "--step-size", "0.5", "--sigma", "0.5", "--out", cli.PathOf("m.json")), "--em-iterations 100000000");
        AssertRefused(cli, before, cli.Run("seed003", "theorem1", "--steps", "2000000000", "--out", cli.PathOf("t")), "--steps 2000000000");
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(20), "refused up front, not after trying");
    }

    [Fact]
    public void ThreadsAreCheckedAndChangeNoResult()
    {
        using var cli = new CliRunner();
        var r = cli.Run("em", "--data", "x.csv", "--components", "2", "--threads", "0");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--threads must be between 1 and 1024, got 0", r.Err);
        byte[] Train(string name, string threads)
        {
            var res = cli.Run(Tiny.Concat(new[] { "--steps", "3", "--threads", threads, "--out", cli.PathOf(name) }).ToArray());
            Assert.True(res.ExitCode == 0, res.Err);
            return File.ReadAllBytes(Path.Combine(cli.PathOf(name), Trainer.CheckpointFile));
        }
        Assert.Equal(Train("one", "1"), Train("two", "2"));
    }

    [Fact]
    public void AResumedRunRefusesOptionsItCannotChangeAndRunJsonStaysTrue()
    {
        using var cli = new CliRunner();
        var run = cli.PathOf("run");
        Assert.Equal(0, cli.Run(Tiny.Concat(new[] { "--steps", "2", "--out", run }).ToArray()).ExitCode);
        var checkpoint = File.ReadAllBytes(Path.Combine(run, Trainer.CheckpointFile));
        var r = cli.Run("train", "--resume", run, "--steps", "4", "--lr", "0.5", "--batch", "3");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--batch, --lr: a resumed run keeps the configuration", r.Err);
        Assert.Equal(checkpoint, File.ReadAllBytes(Path.Combine(run, Trainer.CheckpointFile)));
        Assert.Equal(2, RunFile.Read(run).Options.Steps);

        r = cli.Run("train", "--resume", run, "--steps", "4");
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Equal(4, RunFile.Read(run).Options.Steps);
        Assert.Equal(4, Checkpoint.Read(Path.Combine(run, Trainer.CheckpointFile)).Step);
    }

    [Fact]
    public void ADivergedRunIsMarkedFailedAndReplacedWithForce()
    {
        using var cli = new CliRunner();
        var run = cli.PathOf("run");
        var r = cli.Run(Tiny.Concat(new[] { "--steps", "50", "--lr", "1000", "--out", run }).ToArray());
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("diverged at step", r.Err);
        Assert.Contains("--force", r.Err);
        Assert.True(File.Exists(Path.Combine(run, RunFolder.FailedFile)));
        var kept = Checkpoint.Read(Path.Combine(run, Trainer.CheckpointFile));
        Assert.All(kept.Parameters, v => Assert.True(double.IsFinite(v)));

        r = cli.Run("train", "--resume", run);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("marked failed", r.Err);
        r = cli.Run(Tiny.Concat(new[] { "--steps", "2", "--out", run }).ToArray());
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--force", r.Err);
        r = cli.Run(Tiny.Concat(new[] { "--steps", "2", "--out", run, "--force" }).ToArray());
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.False(File.Exists(Path.Combine(run, RunFolder.FailedFile)));
        Assert.Equal(2, Checkpoint.Read(Path.Combine(run, Trainer.CheckpointFile)).Step);
    }

    [Theory]
    [InlineData(new[] { "--weight-decay", "0.1" }, "--weight-decay applies to --optimizer adamw")]
    [InlineData(new[] { "--em-iterations", "3" }, "--em-iterations: applies to --family constructed, not gpt2")]
    public void OptionsThatDoNotApplyAreRefusedNotIgnored(string[] extra, string mention)
    {
        using var cli = new CliRunner();
        var before = cli.Tree();
        AssertRefused(cli, before, cli.Run(Tiny.Concat(extra).Concat(new[] { "--out", cli.PathOf("r") }).ToArray()), mention);
        var csv = cli.Write("d.csv", "x1,y\n1,2\n2,3\n3,5\n");
        var r = cli.Run("em", "--data", csv, "--components", "1", "--inner-steps", "3");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--inner-steps applies to --algorithm gradient", r.Err);
    }

    [Theory]
    [InlineData(new[] { "frobnicate" }, "unknown command 'frobnicate' for 'mor-icl'; the commands are demo, sample")]
    [InlineData(new string[0], "'mor-icl' needs a command: demo, sample")]
    [InlineData(new[] { "seed003" }, "'mor-icl seed003' needs a command: theorem1, figure2, figure3, figure4")]
    [InlineData(new[] { "em", "--data", "x.csv", "--components", "2", "--bogus" }, "unknown option '--bogus' for 'mor-icl em'")]
    [InlineData(new[] { "construct", "--dim", "abc" }, "--dim: 'abc' is not a whole number")]
    [InlineData(new[] { "construct", "--sigma", "x" }, "--sigma: 'x' is not a number")]
    public void ParseErrorsNameWhatIsWrong(string[] args, string mention)
    {
        using var cli = new CliRunner();
        var r = cli.Run(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(mention, r.Err);
        Assert.DoesNotContain("Required command was not provided", r.Err);
        Assert.DoesNotContain("System.", r.Err);
    }
}
