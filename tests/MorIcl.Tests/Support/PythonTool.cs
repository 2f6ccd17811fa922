using System.Diagnostics;

namespace MorIcl.Tests.Support;

/// <summary>
/// Runs /usr/bin/python3 (the Debian interpreter, whose python3-torch, python3-numpy and python3-onnx
/// .ci/run installs) on the repository's tools/. Tests that need a module are skipped with the
/// reason when it is missing, except under CI=true, where they run and fail: CI must exercise them.
/// </summary>
internal static class PythonTool
{
    public const string Python = "/usr/bin/python3";

    private static readonly Dictionary<string, bool> Modules = new();

    public static string Tools { get; } = FindTools();

    private static string FindTools()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "tools", "moricl_torch.py"))) return Path.Combine(dir.FullName, "tools");
        throw new InvalidOperationException("tools/moricl_torch.py not found above the test binaries");
    }

    public static string Script(string name) => Path.Combine(Tools, name);

    /// <summary>Whether the interpreter can import <paramref name="module"/> (looked up without importing it).</summary>
    public static bool Has(string module)
    {
        lock (Modules)
        {
            if (!Modules.TryGetValue(module, out bool has))
                Modules[module] = has = File.Exists(Python) && Run("-c", $"import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('{module}') else 1)").Exit == 0;
            return has;
        }
    }

    public static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}

/// <summary>A fact that needs Python modules (comma-separated): skipped with the reason when they are missing, outside CI.</summary>
internal sealed class PythonFactAttribute : FactAttribute
{
    public PythonFactAttribute(string modules)
    {
        var missing = modules.Split(',').Where(m => !PythonTool.Has(m)).ToArray();
        if (missing.Length > 0 && Environment.GetEnvironmentVariable("CI") != "true")
            Skip = $"{PythonTool.Python} lacks {string.Join(", ", missing)} (apt-get install {string.Join(" ", missing.Select(m => "python3-" + m))}); CI installs them";
    }
}
