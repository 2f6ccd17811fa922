using MorIcl.Cli;

namespace MorIcl.Tests.Support;

internal sealed record CliResult(int ExitCode, string Out, string Err);

/// <summary>Runs <c>mor-icl</c> in-process with captured output, in a fresh temporary folder.</summary>
internal sealed class CliRunner : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("moricl-test-").FullName;

    public string PathOf(string name) => Path.Combine(Dir, name);

    public string Write(string name, string contents)
    {
        var p = PathOf(name);
        File.WriteAllText(p, contents);
        return p;
    }

    public CliResult Run(params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        int code = MorIclCli.Run(args, o, e);
        return new CliResult(code, o.ToString(), e.ToString());
    }

    public static string Fixture(params string[] parts) => Path.Combine(new[] { AppContext.BaseDirectory, "Fixtures" }.Concat(parts).ToArray());

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
