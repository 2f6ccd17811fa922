using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using MorIcl.Cli;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Docs;

/// <summary>
/// README as written: the generator snippet compiles as a program with the generator; every
/// <c>mor-icl</c> command line in a shell block parses; every link resolves inside the repository
/// and nothing in the repository points outside it; the documented default β⁽⁰⁾ is the one used.
/// </summary>
public class ReadmeTests
{
    private static readonly string Readme = File.ReadAllText(Path.Combine(Repository.Root(), "README.md"));

    private static IEnumerable<string> Blocks(string language) =>
        Regex.Matches(Readme, $"```{language}\\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value);

    [Fact]
    public void TheGeneratorSnippetCompiles()
    {
        var snippet = Blocks("csharp").Single(b => b.Contains("[ConstructedTransformer("));
        var compilation = CSharpCompilation.Create("ReadmeSnippet",
            new[] { CSharpSyntaxTree.ParseText(snippet, new CSharpParseOptions(LanguageVersion.Latest), path: "Program.cs") },
            GeneratorHarness.References.Value, new CSharpCompilationOptions(OutputKind.ConsoleApplication));
        GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(compilation, out var built, out var generatorDiagnostics);
        Assert.Empty(generatorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.Contains(built.SyntaxTrees, t => t.FilePath.EndsWith("MyEm.g.cs", StringComparison.Ordinal));
        var errors = built.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        Assert.True(errors.Length == 0, string.Join("\n", errors.Select(e => e.ToString())));
    }

    /// <summary>Shell lines that call mor-icl, with continuations joined and comments cut; synopses ([optional], a|b, …) are skipped.</summary>
    private static IEnumerable<string[]> CommandLines()
    {
        foreach (var block in Blocks("bash"))
            foreach (var raw in block.Replace("\\\n", " ").Split('\n'))
            {
                var line = Regex.Replace(raw, @"\s+#.*$", "").Trim();
                foreach (var prefix in new[] { "mor-icl ", "dotnet run --project src/MorIcl.Cli -- ", "dotnet run -c Release --project src/MorIcl.Cli -- " })
                    if (line.StartsWith(prefix, StringComparison.Ordinal) && !Regex.IsMatch(line, @"[\[\]|…<>$]"))
                        yield return Regex.Matches(line[prefix.Length..], @"'[^']*'|""[^""]*""|\S+").Select(m => m.Value.Trim('\'')).ToArray();
            }
    }

    [Fact]
    public void EveryMorIclCommandLineParses()
    {
        var lines = CommandLines().ToArray();
        Assert.True(lines.Length >= 10, $"only {lines.Length} command lines found");
        var root = MorIclCli.Root(new CliContext(TextWriter.Null, TextWriter.Null));
        foreach (var args in lines)
        {
            var errors = root.Parse(args).Errors;
            Assert.True(errors.Count == 0, $"mor-icl {string.Join(" ", args)}: {string.Join("; ", errors.Select(e => e.Message))}");
        }
    }

    [Fact]
    public void EveryLinkResolvesInsideTheRepository()
    {
        var root = Repository.Root();
        foreach (var doc in Repository.Files(".md"))
        {
            var text = File.ReadAllText(doc);
            foreach (Match m in Regex.Matches(text, @"\]\(([^)\s]+)\)"))
            {
                var target = m.Groups[1].Value.Split('#')[0];
                string where = $"{Path.GetRelativePath(root, doc)}: ({m.Groups[1].Value})";
                Assert.False(Regex.IsMatch(target, @"^[a-z]+:", RegexOptions.IgnoreCase), $"{where} points outside the repository");
                if (target.Length == 0) continue; // an anchor in the same file
                var full = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(doc)!, target));
                Assert.True(full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal), $"{where} leaves the repository");
                Assert.True(File.Exists(full) || Directory.Exists(full), $"{where} does not exist");
            }
        }
    }

    [Fact]
    public void NoSourceOrCommentPointsOutsideTheRepository()
    {
        var outside = new Regex(@"https?://|\.\./shared|/work/|SPEC\.md");
        var offenders = Repository.Files(".cs", ".md", ".py", ".R", ".csproj", ".props", ".sh")
            .Where(f => !f.EndsWith(Path.Combine("Docs", "ReadmeTests.cs"), StringComparison.Ordinal))
            .SelectMany(f => File.ReadLines(f).Select((l, i) => (f, i, l)).Where(t => outside.IsMatch(t.l)))
            .Select(t => $"{Path.GetRelativePath(Repository.Root(), t.f)}:{t.i + 1}: {t.l.Trim()}").ToArray();
        Assert.True(offenders.Length == 0, string.Join("\n", offenders));
    }

    [Fact]
    public void EveryMarkdownTableRowHasItsHeadersCells()
    {
        var root = Repository.Root();
        var docs = Repository.Files(".md").Concat(Directory.EnumerateFiles(Path.Combine(root, "snapshots"), "*.snap", SearchOption.AllDirectories));
        foreach (var doc in docs)
        {
            int? header = null;
            foreach (var (line, i) in File.ReadLines(doc).Select((l, i) => (l, i)))
            {
                if (!line.StartsWith('|')) { header = null; continue; }
                int cells = Regex.Split(line.Trim(), @"(?<!\\)\|").Length - 2; // an unescaped | starts a cell
                header ??= cells;
                Assert.True(cells == header, $"{Path.GetRelativePath(root, doc)}:{i + 1}: {cells} cells under a {header}-column header");
            }
        }
    }

    [Fact]
    public void TheDocumentedDefaultInitialBetaIsTheOneUsed()
    {
        Assert.Contains("`β_k⁽⁰⁾ = (cos(k·1), cos(k·2), …, cos(k·d)) / √d` for k = 1 … K", Readme);
        var b = MorIcl.Construction.ConstructionSpec.DefaultInitialBeta(4, 3, symmetric: false);
        for (int k = 1; k <= 3; k++)
            for (int a = 1; a <= 4; a++) Assert.Equal(Math.Cos(k * a) / 2, b[k - 1][a - 1], 15);
    }
}
