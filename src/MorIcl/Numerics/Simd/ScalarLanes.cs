using System.Numerics;
using System.Runtime.CompilerServices;

namespace MorIcl.Numerics.Simd;

/// <summary>
/// One lane: the scalar realisation of <see cref="ILanes{TSelf, T}"/>, for the tails of element-wise
/// kernels. Each operation is the scalar form of the vector one (same rounding, same IEEE maximum), so
/// a tail element gets exactly the bits a vector lane would.
/// </summary>
internal readonly struct Lanes1<T>(T v) : ILanes<Lanes1<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly T V = v;
    private static readonly T AllBits = LaneBits.AllBits<T>();
    public static int Count => 1;
    public static Lanes1<T> Zero => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> Broadcast(T value) => new(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> Load(ref T s, nint o) => new(Unsafe.Add(ref s, o));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Lanes1<T> v, ref T d, nint o) => Unsafe.Add(ref d, o) = v.V;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> operator +(Lanes1<T> a, Lanes1<T> b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> operator -(Lanes1<T> a, Lanes1<T> b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> operator *(Lanes1<T> a, Lanes1<T> b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> operator /(Lanes1<T> a, Lanes1<T> b) => new(a.V / b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> operator &(Lanes1<T> a, Lanes1<T> b) => FromBits(Bits(a.V) & Bits(b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> operator |(Lanes1<T> a, Lanes1<T> b) => FromBits(Bits(a.V) | Bits(b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> operator ~(Lanes1<T> a) => FromBits(~Bits(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> Max(Lanes1<T> a, Lanes1<T> b) => new(T.Max(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> Min(Lanes1<T> a, Lanes1<T> b) => new(T.Min(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> Abs(Lanes1<T> a) => new(T.Abs(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> Sqrt(Lanes1<T> a) => new(T.Sqrt(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> LessThan(Lanes1<T> a, Lanes1<T> b) => Mask(a.V < b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> LessThanOrEqual(Lanes1<T> a, Lanes1<T> b) => Mask(a.V <= b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> Equal(Lanes1<T> a, Lanes1<T> b) => Mask(a.V == b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> Select(Lanes1<T> m, Lanes1<T> a, Lanes1<T> b) => FromBits((Bits(m.V) & Bits(a.V)) | (~Bits(m.V) & Bits(b.V)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong MaskBits(Lanes1<T> m) => Bits(m.V) >> (8 * Unsafe.SizeOf<T>() - 1);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Any(Lanes1<T> m) => Bits(m.V) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1<T> Pow2(Lanes1<T> k)
    {
        if (typeof(T) == typeof(double))
        {
            long bits = BitConverter.DoubleToInt64Bits(double.CreateTruncating(k.V) + LaneBits.DoubleMagic) - BitConverter.DoubleToInt64Bits(LaneBits.DoubleMagic) + 1023;
            return FromBits((ulong)(bits << 52));
        }
        int b = BitConverter.SingleToInt32Bits(float.CreateTruncating(k.V) + LaneBits.SingleMagic) - BitConverter.SingleToInt32Bits(LaneBits.SingleMagic) + 127;
        return FromBits((uint)(b << 23));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1<T> Exponent(Lanes1<T> x, out Lanes1<T> mantissa)
    {
        ulong bits = Bits(x.V);
        if (typeof(T) == typeof(double))
        {
            mantissa = FromBits((bits & LaneBits.DoubleMantissa) | LaneBits.DoubleOne);
            return new(T.CreateTruncating(BitConverter.UInt64BitsToDouble((bits >> 52) | LaneBits.DoubleTwo52) - LaneBits.DoubleExponentOffset));
        }
        mantissa = FromBits((bits & LaneBits.SingleMantissa) | LaneBits.SingleOne);
        return new(T.CreateTruncating(BitConverter.UInt32BitsToSingle((uint)(bits >> 23) | LaneBits.SingleTwo23) - LaneBits.SingleExponentOffset));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static Lanes1<T> Mask(bool b) => new(b ? AllBits : T.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Bits(T v) => typeof(T) == typeof(double) ? Unsafe.As<T, ulong>(ref v) : Unsafe.As<T, uint>(ref v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Lanes1<T> FromBits(ulong b)
    {
        if (typeof(T) == typeof(double)) return new(Unsafe.As<ulong, T>(ref b));
        uint u = (uint)b;
        return new(Unsafe.As<uint, T>(ref u));
    }
}
