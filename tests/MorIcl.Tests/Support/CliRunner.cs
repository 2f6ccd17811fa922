using MorIcl.Cli;

namespace MorIcl.Tests.Support;

internal sealed record CliResult(int ExitCode, string Out, string Err);

/// <summary>Runs <c>mor-icl</c> in-process with captured output, in a fresh temporary folder.</summary>
internal sealed class CliRunner : IDisposable
{
    /// <summary>
    /// `run` warms up until the JIT is quiet, which it never is while other tests run alongside: here it keeps to its fixed
    /// passes (RunWarmUpTests checks the quiet rule itself). Its timed rounds take 0.3 s, not the 1 s a user's `run` spends.
    /// </summary>
    static CliRunner() { MorIcl.Cli.Commands.RunCommand.WarmBudget = 0; MorIcl.Cli.Commands.RunCommand.Budget = 0.3; }

    public string Dir { get; } = Directory.CreateTempSubdirectory("moricl-test-").FullName;

    public string PathOf(params string[] names) => Path.Combine(new[] { Dir }.Concat(names).ToArray());

    public string Write(string name, string contents)
    {
        var p = PathOf(name);
        File.WriteAllText(p, contents);
        return p;
    }

    public CliResult Run(params string[] args) => Run(CancellationToken.None, args);

    /// <summary>Runs with <paramref name="interrupt"/> as the Ctrl-C token (already cancelled: a Ctrl-C at the start).</summary>
    public CliResult Run(CancellationToken interrupt, params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        int code = MorIclCli.Run(args, o, e, interrupt);
        return new CliResult(code, o.ToString(), e.ToString());
    }

    /// <summary>Every file and folder under <see cref="Dir"/> (hidden ones included), relative and sorted: what a command left behind.</summary>
    public string[] Tree() => Directory.EnumerateFileSystemEntries(Dir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true })
        .Select(p => Path.GetRelativePath(Dir, p)).Order(StringComparer.Ordinal).ToArray();

    public static string Fixture(params string[] parts) => Path.Combine(new[] { AppContext.BaseDirectory, "Fixtures" }.Concat(parts).ToArray());

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
