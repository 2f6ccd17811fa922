using System.Numerics;
using MorIcl.Numerics.Simd;

namespace MorIcl.Runtime.Structured;

/// <summary>
/// <see cref="SimdSpan.Exp{T}(T)"/> of one number, remembered: e^x is a function of x's bits, so a number seen before
/// gets the bits computed then. The per-role softmax of the example means meets the same few differences s − max (0 for
/// the admitted group, the same exclusion penalty for the others) in every layer. Direct-mapped, 64 entries; one per
/// workspace (one thread).
/// </summary>
internal sealed class ExpMemo<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int Size = 64;
    private readonly long[] _bits = new long[Size];
    private readonly T[] _value = new T[Size];
    private readonly bool[] _set = new bool[Size];

    public T Of(T x)
    {
        long b = StructuredScratch<T>.Bits(x);
        int i = (int)((ulong)(b * unchecked((long)0x9E3779B97F4A7C15)) >> 58);
        if (_set[i] && _bits[i] == b) { Hits++; return _value[i]; }
        T y = SimdSpan.Exp(x);
        _bits[i] = b; _value[i] = y; _set[i] = true;
        return y;
    }

    /// <summary>How often a remembered value was returned (for tests).</summary>
    public long Hits;
}
