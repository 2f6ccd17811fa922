using System.Runtime.InteropServices;
using MorIcl.IO;

namespace MorIcl.Cli.Hosting;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM for the real process, in one place. The first signal cancels
/// <see cref="Token"/>: every parallel loop stops (<see cref="MorIcl.Numerics.Parallelism"/>), a
/// training run saves its checkpoint, staged outputs are discarded, and the command exits 130
/// (<see cref="ExitCodes.Interrupted"/>; 143 for SIGTERM). If the command has not stopped after
/// <see cref="Grace"/>, or at a second signal, staged outputs are removed and the process exits at once.
/// </summary>
internal sealed class Interrupt : IDisposable
{
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _cts = new();
    private readonly PosixSignalRegistration[] _registrations;
    private int _signals;
    private Timer? _watchdog;

    public CancellationToken Token => _cts.Token;
    /// <summary>The exit code for the signal received (130 for SIGINT, 143 for SIGTERM), or 0.</summary>
    public int ExitCode { get; private set; }

    public Interrupt()
    {
        _registrations = new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM }.Select(s => PosixSignalRegistration.Create(s, OnSignal)).ToArray();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // the command stops itself, cleanly
        int code = context.Signal == PosixSignal.SIGTERM ? 143 : ExitCodes.Interrupted;
        if (Interlocked.Increment(ref _signals) > 1) Stop(code);
        ExitCode = code;
        _cts.Cancel();
        _watchdog = new Timer(_ => Stop(code), null, Grace, Timeout.InfiniteTimeSpan);
    }

    private static void Stop(int code)
    {
        StagedOutputs.DiscardAll();
        Console.Error.WriteLine("mor-icl: stopped");
        Environment.Exit(code);
    }

    public void Dispose()
    {
        _watchdog?.Dispose();
        foreach (var r in _registrations) r.Dispose();
        _cts.Dispose();
    }
}
