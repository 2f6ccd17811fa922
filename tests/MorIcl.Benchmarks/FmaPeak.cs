using System.Runtime.Intrinsics;

namespace MorIcl.Benchmarks;

/// <summary>
/// This machine's FMA peak, measured in the benchmark run itself: 12 independent Vector512 FMA chains
/// (enough to hide the FMA latency) for <see cref="Iterations"/> iterations, on one core or on every
/// core at once. FLOPs = iterations × chains × lanes × 2 per core. One place for both benchmarks.
/// </summary>
public static class FmaPeak
{
    public const int Iterations = 60_000_000, Chains = 12;

    /// <summary>FLOPs of one call of <see cref="Double"/> or <see cref="Float"/> on one core.</summary>
    public static double Flops(bool single) => (double)Iterations * Chains * (single ? Vector512<float>.Count : Vector512<double>.Count) * 2;

    public static double OnAllCores(Func<double> loop)
    {
        var results = new double[Environment.ProcessorCount];
        var threads = Enumerable.Range(0, results.Length).Select(t => new Thread(() => results[t] = loop())).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        return results.Sum();
    }

    public static double Double()
    {
        var m = Vector512.Create(0.999999); var c = Vector512.Create(1e-6);
        Vector512<double> a0 = Vector512.Create(1.0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (int i = 0; i < Iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, c); a1 = Vector512.FusedMultiplyAdd(a1, m, c); a2 = Vector512.FusedMultiplyAdd(a2, m, c);
            a3 = Vector512.FusedMultiplyAdd(a3, m, c); a4 = Vector512.FusedMultiplyAdd(a4, m, c); a5 = Vector512.FusedMultiplyAdd(a5, m, c);
            a6 = Vector512.FusedMultiplyAdd(a6, m, c); a7 = Vector512.FusedMultiplyAdd(a7, m, c); a8 = Vector512.FusedMultiplyAdd(a8, m, c);
            a9 = Vector512.FusedMultiplyAdd(a9, m, c); a10 = Vector512.FusedMultiplyAdd(a10, m, c); a11 = Vector512.FusedMultiplyAdd(a11, m, c);
        }
        return Vector512.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11)));
    }

    public static float Float()
    {
        var m = Vector512.Create(0.999999f); var c = Vector512.Create(1e-6f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (int i = 0; i < Iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, c); a1 = Vector512.FusedMultiplyAdd(a1, m, c); a2 = Vector512.FusedMultiplyAdd(a2, m, c);
            a3 = Vector512.FusedMultiplyAdd(a3, m, c); a4 = Vector512.FusedMultiplyAdd(a4, m, c); a5 = Vector512.FusedMultiplyAdd(a5, m, c);
            a6 = Vector512.FusedMultiplyAdd(a6, m, c); a7 = Vector512.FusedMultiplyAdd(a7, m, c); a8 = Vector512.FusedMultiplyAdd(a8, m, c);
            a9 = Vector512.FusedMultiplyAdd(a9, m, c); a10 = Vector512.FusedMultiplyAdd(a10, m, c); a11 = Vector512.FusedMultiplyAdd(a11, m, c);
        }
        return Vector512.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11)));
    }
}
