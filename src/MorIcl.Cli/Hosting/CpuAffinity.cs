using System.Runtime.InteropServices;

namespace MorIcl.Cli.Hosting;

/// <summary>
/// Confines the whole process (every thread, the runtime's own included) to N of the cores it may
/// run on, so <c>--threads 1</c> (or <c>DOTNET_PROCESSOR_COUNT=1</c>) means one core also for the
/// garbage collector and the JIT. Linux only (sched_setaffinity per thread of /proc/self/task; new
/// threads inherit it); elsewhere the thread limit of the parallel loops alone applies. Only the
/// real process calls it (<see cref="Program"/>), never an in-process caller such as the tests.
/// </summary>
internal static class CpuAffinity
{
    private const int MaskBytes = 128; // 1024 CPUs

    [DllImport("libc", SetLastError = true)]
    private static extern int sched_getaffinity(int pid, IntPtr size, byte[] mask);

    [DllImport("libc", SetLastError = true)]
    private static extern int sched_setaffinity(int pid, IntPtr size, byte[] mask);

    /// <summary>Restricts the process to its first <paramref name="cores"/> allowed cores; false if not possible here (nothing changes).</summary>
    public static bool Limit(int cores)
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            var mask = new byte[MaskBytes];
            if (sched_getaffinity(0, MaskBytes, mask) != 0) return false;
            var allowed = Enumerable.Range(0, MaskBytes * 8).Where(c => (mask[c / 8] & (1 << (c % 8))) != 0).ToArray();
            if (cores >= allowed.Length) return true;
            var limited = new byte[MaskBytes];
            foreach (var c in allowed.Take(cores)) limited[c / 8] |= (byte)(1 << (c % 8));
            bool all = true;
            foreach (var task in Directory.GetDirectories("/proc/self/task"))
                if (int.TryParse(Path.GetFileName(task), out int tid)) all &= sched_setaffinity(tid, MaskBytes, limited) == 0;
            return all;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
