using System.Globalization;

namespace MorIcl.Comparison;

/// <summary>
/// Shards of a sweep: <c>--shard i/m</c> (1 ≤ i ≤ m) takes the jobs j with j mod m = i − 1, so m
/// array tasks (Slurm's <c>--array=1-m</c>, i = <c>$SLURM_ARRAY_TASK_ID</c>) together run every job
/// exactly once, each shard about equally long (the grid's expensive points are spread over shards).
/// </summary>
public static class Seed000Shards
{
    public static (int Index, int Count) Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int i)
            || !int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int m))
            throw new SpecificationException($"--shard: '{text}' is not of the form i/m (e.g. 3/8)");
        if (m < 1 || i < 1 || i > m) throw new SpecificationException($"--shard {text}: need 1 ≤ i ≤ m");
        return (i, m);
    }

    public static IReadOnlyList<Seed000Job> Select(IReadOnlyList<Seed000Job> jobs, int index, int count) =>
        jobs.Where(j => j.Index % count == index - 1).ToArray();
}
