using System.Globalization;

namespace MorIcl.Numerics;

/// <summary>
/// Refuses, before any work, a request whose data would not fit in memory (e.g. a prompt of 10⁸
/// examples): the estimate is compared with what the garbage collector says this process may still
/// use (the machine's or the container's limit), so the user gets a <see cref="SpecificationException"/>
/// naming the option instead of minutes of work and an out-of-memory crash.
/// </summary>
public static class MemoryBudget
{
    /// <summary>Fraction of the available memory one request may take.</summary>
    public const double Share = 0.8;

    /// <summary>Bytes this process may still allocate.</summary>
    public static long Available => Math.Max(0, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes - GC.GetTotalMemory(false));

    /// <summary>Throws unless <paramref name="bytes"/> fit; <paramref name="what"/> names the request, e.g. "--prompt-length 100000000 with --dim 5".</summary>
    public static void Require(double bytes, string what)
    {
        long available = Available;
        if (!(bytes <= Share * available))
            throw new SpecificationException($"{what} needs about {Format(bytes)} of memory; this machine has {Format(available)} available");
    }

    /// <summary>Throws unless an array of <paramref name="elements"/> elements can exist at all (.NET arrays hold fewer than 2³¹).</summary>
    public static void RequireArray(double elements, string what)
    {
        if (!(elements < Array.MaxLength)) throw new SpecificationException($"{what} needs an array of {elements:G3} numbers; at most {Array.MaxLength} are possible");
    }

    public static string Format(double bytes) => bytes switch
    {
        >= 1e12 => (bytes / 1e12).ToString("G3", CultureInfo.InvariantCulture) + " TB",
        >= 1e9 => (bytes / 1e9).ToString("G3", CultureInfo.InvariantCulture) + " GB",
        >= 1e6 => (bytes / 1e6).ToString("G3", CultureInfo.InvariantCulture) + " MB",
        _ => (bytes / 1e3).ToString("G3", CultureInfo.InvariantCulture) + " kB",
    };
}
