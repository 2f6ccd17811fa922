namespace MorIcl.Tests.Support;

/// <summary>A folder nothing can be created in: a read-only folder (ordinary users), or under /sys (root, who may write anywhere else).</summary>
internal static class Unwritable
{
    public static string Folder(string scratch)
    {
        var ro = Path.Combine(scratch, "read-only");
        Directory.CreateDirectory(ro);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(ro, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        foreach (var candidate in new[] { ro, "/sys/moricl-unwritable", "/proc/moricl-unwritable" })
            if (!CanCreateIn(candidate)) return candidate;
        throw new InvalidOperationException("no unwritable folder found on this machine");
    }

    private static bool CanCreateIn(string folder)
    {
        try
        {
            var probe = Path.Combine(folder, "probe");
            Directory.CreateDirectory(probe);
            Directory.Delete(probe);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }
}
