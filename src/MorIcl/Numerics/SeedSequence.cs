using MathNet.Numerics.Random;

namespace MorIcl.Numerics;

/// <summary>
/// Every random draw in MorIcl comes from an explicit seed. Independent streams (one per prompt,
/// one per restart, ...) are derived from a root seed and a stream index by SplitMix64, so the
/// numbers do not depend on how work is split across threads.
/// </summary>
public static class SeedSequence
{
    /// <summary>SplitMix64 finaliser (Steele, Lea, Flood 2014).</summary>
    public static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The seed of stream <paramref name="stream"/> derived from <paramref name="seed"/>.</summary>
    public static int Derive(int seed, long stream, int salt = 0)
    {
        ulong h = Mix(unchecked((ulong)(uint)seed ^ ((ulong)(uint)salt << 32)));
        h = Mix(h ^ unchecked((ulong)stream));
        return unchecked((int)(h ^ (h >> 32)));
    }

    /// <summary>A MathNet random source for a seed (Xoshiro256**; not thread-safe, one per stream).</summary>
    public static System.Random Create(int seed) => new Xoshiro256StarStar(seed, threadSafe: false);

    /// <summary>The random source of stream <paramref name="stream"/> of <paramref name="seed"/>.</summary>
    public static System.Random Create(int seed, long stream, int salt = 0) => Create(Derive(seed, stream, salt));
}
