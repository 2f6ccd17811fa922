using System.Numerics;

namespace MorIcl.Numerics.Simd;

/// <summary>
/// A SIMD register (or a fixed group of registers) of <see cref="Count"/> lanes of T, behind static
/// members, so a kernel is written once as a generic method and the JIT compiles it into straight-line
/// code per realisation (static abstract members on struct type arguments are resolved and inlined at
/// JIT time). Every operation is lane-wise and correctly rounded (IEEE 754), so a lane's result never
/// depends on the realisation: there is no fused multiply-add here, because on x86 without AVX2 the
/// runtime has none in hardware, and a product rounded then a sum rounded is the same operation on every
/// width and instruction set. Masks are lanes with all bits set (true) or zero (false).
/// </summary>
internal interface ILanes<TSelf, T>
    where TSelf : struct, ILanes<TSelf, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    static abstract int Count { get; }
    static abstract TSelf Zero { get; }
    static abstract TSelf Broadcast(T value);
    static abstract TSelf Load(ref T source, nint offset);
    static abstract void Store(TSelf value, ref T destination, nint offset);

    static abstract TSelf operator +(TSelf a, TSelf b);
    static abstract TSelf operator -(TSelf a, TSelf b);
    static abstract TSelf operator *(TSelf a, TSelf b);
    static abstract TSelf operator /(TSelf a, TSelf b);
    static abstract TSelf operator &(TSelf a, TSelf b);
    static abstract TSelf operator |(TSelf a, TSelf b);
    static abstract TSelf operator ~(TSelf a);

    /// <summary>IEEE 754:2019 maximum (NaN propagates, +0 &gt; −0), as <see cref="Math.Max(double, double)"/>.</summary>
    static abstract TSelf Max(TSelf a, TSelf b);
    /// <summary>IEEE 754:2019 minimum.</summary>
    static abstract TSelf Min(TSelf a, TSelf b);
    static abstract TSelf Abs(TSelf a);
    static abstract TSelf Sqrt(TSelf a);
    static abstract TSelf LessThan(TSelf a, TSelf b);
    static abstract TSelf LessThanOrEqual(TSelf a, TSelf b);
    static abstract TSelf Equal(TSelf a, TSelf b);
    /// <summary>Lane-wise mask ? a : b.</summary>
    static abstract TSelf Select(TSelf mask, TSelf a, TSelf b);
    /// <summary>Bit l is set when lane l of the mask is set (Count ≤ 64).</summary>
    static abstract ulong MaskBits(TSelf mask);
    static abstract bool Any(TSelf mask);

    /// <summary>
    /// 2^k for lanes holding integers k with −1022 ≤ k ≤ 1023 (float: −126 ≤ k ≤ 127), built from the
    /// bits (exact). Other lanes give an unspecified value.
    /// </summary>
    static abstract TSelf Pow2(TSelf k);

    /// <summary>
    /// For positive normal x: the integer e (as T) and m ∈ [1, 2) with x = m·2^e, from the bits (exact).
    /// </summary>
    static abstract TSelf Exponent(TSelf x, out TSelf mantissa);
}

/// <summary>
/// A virtual vector of a fixed number of lanes, 64 bytes (8 doubles, 16 floats), whatever registers
/// realise it (one 512-bit, two 256-bit or four 128-bit). Reductions accumulate element i in lane
/// i mod Count and end with the same tree (<see cref="Sum"/>), so their results are bit-identical on
/// every width.
/// </summary>
internal interface IWideLanes<TSelf, T> : ILanes<TSelf, T>
    where TSelf : struct, IWideLanes<TSelf, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Σ of the lanes by one fixed tree: lanes l and l + Count/2 are added, then the same on the lower
    /// half, down to one lane.
    /// </summary>
    static abstract T Sum(TSelf v);
    /// <summary>The largest lane (IEEE maximum).</summary>
    static abstract T MaxAcross(TSelf v);
}
