namespace MorIcl.Tests.Support;

/// <summary>The repository the tests were built from (the folder holding MorIcl.sln).</summary>
internal static class Repository
{
    public static string Root()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MorIcl.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("MorIcl.sln not found above the test binaries");
    }

    /// <summary>The repository's own text files (no build output, no .git).</summary>
    public static IEnumerable<string> Files(params string[] extensions) =>
        Directory.EnumerateFiles(Root(), "*", SearchOption.AllDirectories)
            .Where(p => extensions.Contains(Path.GetExtension(p)))
            .Where(p => !Path.GetRelativePath(Root(), p).Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or ".git" or "BenchmarkDotNet.Artifacts" or "TestResults"));
}
