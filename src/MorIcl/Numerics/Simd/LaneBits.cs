using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MorIcl.Numerics.Simd;

/// <summary>Bit constants of the lane realisations and the last steps of the fixed reduction tree.</summary>
internal static class LaneBits
{
    /// <summary>1.5·2^52 (double) and 1.5·2^23 (float): adding it leaves an integer k in the low bits.</summary>
    public const double DoubleMagic = 6755399441055744.0;
    public const float SingleMagic = 12582912f;
    public const ulong DoubleMantissa = 0x000F_FFFF_FFFF_FFFFUL, DoubleOne = 0x3FF0_0000_0000_0000UL, DoubleTwo52 = 0x4330_0000_0000_0000UL;
    public const uint SingleMantissa = 0x007F_FFFFu, SingleOne = 0x3F80_0000u, SingleTwo23 = 0x4B00_0000u;
    /// <summary>2^52 + 1023 and 2^23 + 127: the biased exponent placed in a mantissa, minus the bias.</summary>
    public const double DoubleExponentOffset = 4503599627371519.0;
    public const float SingleExponentOffset = 8388735f;

    /// <summary>The tree's steps from 256 bits: lanes l + l + Count/2, down to one lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum<T>(Vector256<T> v) where T : unmanaged, IFloatingPointIeee754<T> => Sum(v.GetLower() + v.GetUpper());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum<T>(Vector128<T> v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Vector128<T>.Count == 2) return v.GetElement(0) + v.GetElement(1);
        return (v.GetElement(0) + v.GetElement(2)) + (v.GetElement(1) + v.GetElement(3));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T MaxAcross<T>(Vector256<T> v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var h = Vector128.Max(v.GetLower(), v.GetUpper());
        T m = h.GetElement(0);
        for (int k = 1; k < Vector128<T>.Count; k++) m = T.Max(m, h.GetElement(k));
        return m;
    }

    /// <summary>All bits set, as a T (a true mask lane).</summary>
    public static T AllBits<T>() where T : unmanaged, IFloatingPointIeee754<T> => Vector128<T>.AllBitsSet.ToScalar();
}
