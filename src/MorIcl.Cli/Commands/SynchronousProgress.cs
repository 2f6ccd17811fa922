namespace MorIcl.Cli.Commands;

/// <summary>An IProgress that reports on the caller's thread (System.Progress posts to a thread pool, which would reorder reports).</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
