using System.Collections.Concurrent;

namespace MorIcl.IO;

/// <summary>
/// All-or-nothing outputs of one command. Every output is reserved before any work
/// (<see cref="File"/>, <see cref="Folder"/>): that checks it can be written — a file's folder must
/// exist, a folder's missing parents are created; an unwritable destination is an
/// <see cref="InputException"/> naming it —
/// and returns a hidden staging path beside it (<c>.name.&lt;id&gt;.partial</c>) that the command writes
/// to. <see cref="Commit"/> moves everything into place once the command has succeeded; without it
/// (an error, Ctrl-C) <see cref="Dispose"/> removes the staged files and any folder it created, so
/// nothing new is left behind. A staged folder replaces a missing target by one rename, or is merged
/// file by file into an existing one (each file replaced atomically).
/// </summary>
public sealed class StagedOutputs : IDisposable
{
    private static readonly ConcurrentDictionary<StagedOutputs, byte> Live = new();

    private sealed record Entry(string Target, string Stage, bool IsFolder, string Given);

    private readonly List<Entry> _entries = new();
    private readonly List<string> _createdFolders = new();
    private readonly object _gate = new();
    private bool _closed;

    public StagedOutputs() { Live[this] = 0; }

    /// <summary>Reserves the output file <paramref name="path"/>; returns the path to write it to.</summary>
    public string File(string path)
    {
        var target = Reserve(path, createParents: false);
        if (Directory.Exists(target)) throw new InputException($"{path}: is a folder; expected a file name");
        var stage = StagePath(target);
        try { using (new FileStream(stage, FileMode.CreateNew, FileAccess.Write)) { } }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Unwritable(path, Path.GetDirectoryName(target)!, e); }
        Add(new Entry(target, stage, false, path));
        return stage;
    }

    /// <summary>Reserves the output folder <paramref name="path"/> (new or existing); returns an empty folder to write its files into.</summary>
    public string Folder(string path)
    {
        var target = Reserve(path, createParents: true);
        if (System.IO.File.Exists(target)) throw new InputException($"{path}: is a file; expected a folder");
        if (Directory.Exists(target)) ProbeWritable(target, path);
        var stage = StagePath(target);
        try { Directory.CreateDirectory(stage); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Unwritable(path, Path.GetDirectoryName(target)!, e); }
        Add(new Entry(target, stage, true, path));
        return stage;
    }

    /// <summary>Moves every staged output into place; if <paramref name="cancel"/> is already cancelled, throws and keeps nothing.</summary>
    public void Commit(CancellationToken cancel = default)
    {
        cancel.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_closed) throw new InvalidOperationException("the outputs were already committed or discarded");
            foreach (var e in _entries)
            {
                try
                {
                    if (!e.IsFolder) System.IO.File.Move(e.Stage, e.Target, overwrite: true);
                    else if (!Directory.Exists(e.Target)) Directory.Move(e.Stage, e.Target);
                    else { MergeInto(e.Stage, e.Target); Directory.Delete(e.Stage, recursive: true); }
                }
                catch (Exception x) when (x is IOException or UnauthorizedAccessException) { throw new InputException($"{e.Given}: cannot write ({x.Message})", x); }
            }
            _closed = true;
        }
        Live.TryRemove(this, out _);
    }

    /// <summary>Removes whatever is still staged and the folders this created (unless committed).</summary>
    public void Dispose()
    {
        Discard();
        Live.TryRemove(this, out _);
    }

    /// <summary>Discards the staged outputs of every command still running (the process is about to exit).</summary>
    public static void DiscardAll()
    {
        foreach (var s in Live.Keys) s.Discard();
    }

    private void Discard()
    {
        lock (_gate)
        {
            if (_closed) return;
            _closed = true;
            foreach (var e in _entries)
            {
                try
                {
                    if (e.IsFolder && Directory.Exists(e.Stage)) Directory.Delete(e.Stage, recursive: true);
                    else if (!e.IsFolder && System.IO.File.Exists(e.Stage)) System.IO.File.Delete(e.Stage);
                }
                catch (Exception x) when (x is IOException or UnauthorizedAccessException) { }
            }
            for (int i = _createdFolders.Count - 1; i >= 0; i--)
            {
                try { if (Directory.Exists(_createdFolders[i]) && !Directory.EnumerateFileSystemEntries(_createdFolders[i]).Any()) Directory.Delete(_createdFolders[i]); }
                catch (Exception x) when (x is IOException or UnauthorizedAccessException) { }
            }
        }
    }

    /// <summary>The full target path, not reserved twice; its parent must exist (a file) or is created and remembered (a folder).</summary>
    private string Reserve(string path, bool createParents)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new InputException("an output path is empty");
        string target;
        try { target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path)); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException) { throw new InputException($"{path}: not a valid path ({e.Message})", e); }
        lock (_gate)
        {
            if (_closed) throw new InvalidOperationException("the outputs were already committed or discarded");
            if (_entries.Any(e => e.Target == target)) throw new SpecificationException($"{path} is given as an output twice");
        }
        var parent = Path.GetDirectoryName(target)!;
        if (createParents) CreateParents(parent, path);
        else if (!Directory.Exists(parent)) throw new InputException($"{path}: folder '{parent}' does not exist");
        return target;
    }

    private void CreateParents(string dir, string given)
    {
        var missing = new List<string>();
        for (var d = dir; !string.IsNullOrEmpty(d) && !Directory.Exists(d); d = Path.GetDirectoryName(d)) missing.Add(d);
        for (int i = missing.Count - 1; i >= 0; i--)
        {
            if (System.IO.File.Exists(missing[i])) throw new InputException($"{given}: '{missing[i]}' is a file, not a folder");
            try { Directory.CreateDirectory(missing[i]); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Unwritable(given, missing[i], e); }
            lock (_gate) _createdFolders.Add(missing[i]);
        }
    }

    private static void ProbeWritable(string folder, string given)
    {
        var probe = Path.Combine(folder, $".moricl-write-test.{Guid.NewGuid():N}");
        try { using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { } }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Unwritable(given, folder, e); }
    }

    private static InputException Unwritable(string given, string folder, Exception e) =>
        new($"{given}: cannot write to '{folder}' ({(e is UnauthorizedAccessException ? "permission denied" : e.Message)})", e);

    private static string StagePath(string target) =>
        Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Environment.ProcessId}-{Guid.NewGuid():N}.partial");

    private void Add(Entry e) { lock (_gate) _entries.Add(e); }

    private static void MergeInto(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) System.IO.File.Move(f, Path.Combine(to, Path.GetFileName(f)), overwrite: true);
        foreach (var d in Directory.GetDirectories(from)) MergeInto(d, Path.Combine(to, Path.GetFileName(d)));
    }
}
