namespace MorIcl.Numerics;

/// <summary>
/// The one setting of how many threads MorIcl's parallel loops use, and the token that stops them.
/// Every <c>Parallel.For</c> in the library takes <see cref="Options"/>: by default all cores
/// (<see cref="Environment.ProcessorCount"/>, which honours <c>DOTNET_PROCESSOR_COUNT</c>); inside
/// <see cref="Use"/> (the command line's <c>--threads N</c>) at most N, and a cancelled token (Ctrl-C)
/// ends every loop with an <see cref="OperationCanceledException"/> between iterations. The setting
/// flows with the logical call (AsyncLocal), so concurrent callers (tests) do not see each other's.
/// Results never depend on it: every parallel reduction in MorIcl sums fixed chunks in a fixed order.
/// </summary>
public static class Parallelism
{
    private sealed record Setting(int Threads, CancellationToken Cancel);
    private static readonly AsyncLocal<Setting?> Current = new();

    /// <summary>Threads a parallel loop may use now.</summary>
    public static int MaxDegree => Current.Value?.Threads ?? Environment.ProcessorCount;

    /// <summary>The token that stops the current computation (none outside <see cref="Use"/>).</summary>
    public static CancellationToken Cancellation => Current.Value?.Cancel ?? CancellationToken.None;

    /// <summary>Options for a parallel loop: <paramref name="maxDegree"/> threads if given and ≥ 1, else <see cref="MaxDegree"/>; the current cancellation.</summary>
    public static ParallelOptions Options(int? maxDegree = null) =>
        new() { MaxDegreeOfParallelism = maxDegree is int m && m >= 1 ? m : MaxDegree, CancellationToken = Cancellation };

    /// <summary>Runs <c>body(i)</c> for i in [from, to) under <see cref="Options"/>.</summary>
    public static void For(int from, int to, Action<int> body) => Parallel.For(from, to, Options(), body);

    /// <summary>Until disposed, parallel loops on this logical call use at most <paramref name="threads"/> threads (null: all cores) and stop when <paramref name="cancel"/> is cancelled.</summary>
    public static IDisposable Use(int? threads, CancellationToken cancel = default)
    {
        if (threads is int t && t < 1) throw new SpecificationException($"--threads must be at least 1, got {t}");
        var previous = Current.Value;
        Current.Value = new Setting(threads ?? Environment.ProcessorCount, cancel);
        return new Restore(previous);
    }

    private sealed class Restore(Setting? previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }
}
