using System.Diagnostics;
using System.Runtime.InteropServices;
using MorIcl.Tests.Support;
using MorIcl.Training;

namespace MorIcl.Tests.Cli;

/// <summary>
/// Ctrl-C: a command stops cleanly with exit code 130 and leaves nothing new behind; training first
/// saves its checkpoint, and the run resumes. The real signal goes to a child process (which also
/// shows that --threads 1 keeps it on one core); the in-process cases cancel the token the signal
/// handler cancels.
/// </summary>
public class InterruptTests
{
    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    [Fact]
    public void SigintStopsTrainingWithExitCode130OnOneCoreAndTheRunResumes()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var cli = new CliRunner();
        var run = cli.PathOf("run");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "mor-icl.dll"), "train", "--family", "gpt2", "--layers", "1", "--width", "16", "--heads", "2",
                     "--dim", "2", "--prompt-length", "10", "--batch", "64", "--steps", "1000000", "--checkpoint-every", "1", "--threads", "1", "--out", run })
            psi.ArgumentList.Add(a);
        using var child = Process.Start(psi)!;
        var stdout = child.StandardOutput.ReadToEndAsync();
        var stderr = child.StandardError.ReadToEndAsync();
        var wait = Stopwatch.StartNew();
        var checkpoint = Path.Combine(run, Trainer.CheckpointFile);
        long Done() { try { return File.Exists(checkpoint) ? Checkpoint.Read(checkpoint).Step : 0; } catch (Exception e) when (e is IOException or InputException) { return 0; } }
        while (Done() < 1 && wait.Elapsed < TimeSpan.FromSeconds(90) && !child.HasExited) Thread.Sleep(50);
        if (child.HasExited) Assert.Fail($"the child ended early: {stderr.Result}");
        // Training: CPU time over one second of wall time is at most one core's (10 % for clock granularity).
        var cpu = child.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        Thread.Sleep(1000);
        double used = (child.TotalProcessorTime - cpu).TotalSeconds, elapsed = wall.Elapsed.TotalSeconds;
        Assert.Equal(0, kill(child.Id, 2));
        if (!child.WaitForExit(20_000)) { child.Kill(); Assert.Fail("the child did not stop within 20 s of SIGINT"); }
        if (child.ExitCode != 130) Assert.Fail($"exit {child.ExitCode}: {stderr.Result}");
        Assert.Contains("interrupted at step", stdout.Result);
        Assert.True(used <= 1.1 * elapsed, $"--threads 1 used {used:F2} s of CPU in {elapsed:F2} s");

        long step = Checkpoint.Read(checkpoint).Step;
        Assert.True(step >= 1, "the checkpoint holds the steps done before the interrupt");
        Assert.DoesNotContain(cli.Tree(), p => p.Contains(".partial") || p.EndsWith(".tmp"));
        var r = cli.Run("train", "--resume", run, "--steps", (step + 2).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Equal(step + 2, Checkpoint.Read(Path.Combine(run, Trainer.CheckpointFile)).Step);
    }

    [Fact]
    public void AnInterruptedCommandExits130AndLeavesNoOutput()
    {
        using var cli = new CliRunner();
        using var interrupt = new CancellationTokenSource();
        interrupt.Cancel();
        var r = cli.Run(interrupt.Token, "verify", "--check", "Lemma3_1", "--out", cli.PathOf("report"));
        Assert.True(r.ExitCode == 130, $"exit {r.ExitCode}: {r.Err}");
        Assert.Contains("interrupted; nothing was written", r.Err);
        r = cli.Run(interrupt.Token, "construct", "--dim", "2", "--components", "2", "--em-iterations", "1", "--gd-steps", "1", "--step-size", "0.5", "--sigma", "0.5",
            "--out", cli.PathOf("m.json"), "--npz", cli.PathOf("m.npz"));
        Assert.Equal(130, r.ExitCode);
        Assert.Empty(cli.Tree());
    }
}
