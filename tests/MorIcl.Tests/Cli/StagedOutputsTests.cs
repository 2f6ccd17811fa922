using MorIcl.IO;

namespace MorIcl.Tests.Cli;

/// <summary>Staged outputs appear only on commit; without it nothing new is left, created parent folders included.</summary>
public class StagedOutputsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("moricl-staged-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    private string[] Tree() => Directory.EnumerateFileSystemEntries(_dir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
        .Select(p => Path.GetRelativePath(_dir, p)).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void WithoutCommitNothingNewRemains()
    {
        File.WriteAllText(Path.Combine(_dir, "old.csv"), "old");
        using (var outputs = new StagedOutputs())
        {
            File.WriteAllText(outputs.File(Path.Combine(_dir, "old.csv")), "new");
            var folder = outputs.Folder(Path.Combine(_dir, "a", "b", "report"));
            File.WriteAllText(Path.Combine(folder, "report.md"), "x");
            Assert.False(Directory.Exists(Path.Combine(_dir, "a", "b", "report")));
        }
        Assert.Equal(new[] { "old.csv" }, Tree());
        Assert.Equal("old", File.ReadAllText(Path.Combine(_dir, "old.csv")));
    }

    [Fact]
    public void CommitMovesFilesAndFoldersIntoPlaceAndMergesIntoAnExistingFolder()
    {
        var existing = Path.Combine(_dir, "docs");
        Directory.CreateDirectory(existing);
        File.WriteAllText(Path.Combine(existing, "keep.png"), "keep");
        File.WriteAllText(Path.Combine(existing, "figure.png"), "old");
        using (var outputs = new StagedOutputs())
        {
            File.WriteAllText(outputs.File(Path.Combine(_dir, "x.csv")), "x");
            var docs = outputs.Folder(existing);
            File.WriteAllText(Path.Combine(docs, "figure.png"), "new");
            var fresh = outputs.Folder(Path.Combine(_dir, "new", "run"));
            File.WriteAllText(Path.Combine(fresh, "a.txt"), "a");
            outputs.Commit();
        }
        Assert.Equal(new[] { "docs", "docs/figure.png", "docs/keep.png", "new", "new/run", "new/run/a.txt", "x.csv" }, Tree());
        Assert.Equal("new", File.ReadAllText(Path.Combine(existing, "figure.png")));
    }

    [Fact]
    public void ACancelledCommitKeepsNothingAndBadDestinationsAreNamed()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        using (var outputs = new StagedOutputs())
        {
            File.WriteAllText(outputs.File(Path.Combine(_dir, "x.csv")), "x");
            Assert.Throws<OperationCanceledException>(() => outputs.Commit(cts.Token));
        }
        Assert.Empty(Tree());
        using var o = new StagedOutputs();
        Assert.Contains("does not exist", Assert.Throws<InputException>(() => o.File(Path.Combine(_dir, "no", "x.csv"))).Message);
        o.File(Path.Combine(_dir, "y.csv"));
        Assert.Contains("twice", Assert.Throws<SpecificationException>(() => o.File(Path.Combine(_dir, "y.csv"))).Message);
    }
}
