using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MorIcl.Numerics.Simd;

// The hardware realisations of ILanes: one register of 128, 256 or 512 bits. Lanes512 is also the
// one-register realisation of the 64-byte virtual vector (IWideLanes).

/// <summary>One Vector128&lt;T&gt; register.</summary>
internal readonly struct Lanes128<T>(Vector128<T> v) : ILanes<Lanes128<T>, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly Vector128<T> V = v;
    public static int Count => Vector128<T>.Count;
    public static Lanes128<T> Zero => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> Broadcast(T value) => new(Vector128.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> Load(ref T source, nint offset) => new(Vector128.LoadUnsafe(ref source, (nuint)offset));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Lanes128<T> value, ref T destination, nint offset) => value.V.StoreUnsafe(ref destination, (nuint)offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> operator +(Lanes128<T> a, Lanes128<T> b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> operator -(Lanes128<T> a, Lanes128<T> b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> operator *(Lanes128<T> a, Lanes128<T> b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> operator /(Lanes128<T> a, Lanes128<T> b) => new(a.V / b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> operator &(Lanes128<T> a, Lanes128<T> b) => new(a.V & b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> operator |(Lanes128<T> a, Lanes128<T> b) => new(a.V | b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> operator ~(Lanes128<T> a) => new(~a.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> Max(Lanes128<T> a, Lanes128<T> b) => new(Vector128.Max(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> Min(Lanes128<T> a, Lanes128<T> b) => new(Vector128.Min(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> Abs(Lanes128<T> a) => new(Vector128.Abs(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> Sqrt(Lanes128<T> a) => new(Vector128.Sqrt(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> LessThan(Lanes128<T> a, Lanes128<T> b) => new(Vector128.LessThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> LessThanOrEqual(Lanes128<T> a, Lanes128<T> b) => new(Vector128.LessThanOrEqual(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> Equal(Lanes128<T> a, Lanes128<T> b) => new(Vector128.Equals(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> Select(Lanes128<T> mask, Lanes128<T> a, Lanes128<T> b) => new(Vector128.ConditionalSelect(mask.V, a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong MaskBits(Lanes128<T> mask) => mask.V.ExtractMostSignificantBits();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Any(Lanes128<T> mask) => mask.V != Vector128<T>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128<T> Pow2(Lanes128<T> k)
    {
        if (typeof(T) == typeof(double))
        {
            var magic = Vector128.Create(LaneBits.DoubleMagic);
            var bits = (k.V.AsDouble() + magic).AsInt64() - magic.AsInt64() + Vector128.Create(1023L);
            return new((bits << 52).As<long, T>());
        }
        else
        {
            var magic = Vector128.Create(LaneBits.SingleMagic);
            var bits = (k.V.AsSingle() + magic).AsInt32() - magic.AsInt32() + Vector128.Create(127);
            return new((bits << 23).As<int, T>());
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128<T> Exponent(Lanes128<T> x, out Lanes128<T> mantissa)
    {
        if (typeof(T) == typeof(double))
        {
            var bits = x.V.AsUInt64();
            mantissa = new(((bits & Vector128.Create(LaneBits.DoubleMantissa)) | Vector128.Create(LaneBits.DoubleOne)).As<ulong, T>());
            var e = ((bits >>> 52) | Vector128.Create(LaneBits.DoubleTwo52)).AsDouble() - Vector128.Create(LaneBits.DoubleExponentOffset);
            return new(e.As<double, T>());
        }
        else
        {
            var bits = x.V.AsUInt32();
            mantissa = new(((bits & Vector128.Create(LaneBits.SingleMantissa)) | Vector128.Create(LaneBits.SingleOne)).As<uint, T>());
            var e = ((bits >>> 23) | Vector128.Create(LaneBits.SingleTwo23)).AsSingle() - Vector128.Create(LaneBits.SingleExponentOffset);
            return new(e.As<float, T>());
        }
    }
}

/// <summary>One Vector256&lt;T&gt; register.</summary>
internal readonly struct Lanes256<T>(Vector256<T> v) : ILanes<Lanes256<T>, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly Vector256<T> V = v;
    public static int Count => Vector256<T>.Count;
    public static Lanes256<T> Zero => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> Broadcast(T value) => new(Vector256.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> Load(ref T source, nint offset) => new(Vector256.LoadUnsafe(ref source, (nuint)offset));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Lanes256<T> value, ref T destination, nint offset) => value.V.StoreUnsafe(ref destination, (nuint)offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> operator +(Lanes256<T> a, Lanes256<T> b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> operator -(Lanes256<T> a, Lanes256<T> b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> operator *(Lanes256<T> a, Lanes256<T> b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> operator /(Lanes256<T> a, Lanes256<T> b) => new(a.V / b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> operator &(Lanes256<T> a, Lanes256<T> b) => new(a.V & b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> operator |(Lanes256<T> a, Lanes256<T> b) => new(a.V | b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> operator ~(Lanes256<T> a) => new(~a.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> Max(Lanes256<T> a, Lanes256<T> b) => new(Vector256.Max(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> Min(Lanes256<T> a, Lanes256<T> b) => new(Vector256.Min(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> Abs(Lanes256<T> a) => new(Vector256.Abs(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> Sqrt(Lanes256<T> a) => new(Vector256.Sqrt(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> LessThan(Lanes256<T> a, Lanes256<T> b) => new(Vector256.LessThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> LessThanOrEqual(Lanes256<T> a, Lanes256<T> b) => new(Vector256.LessThanOrEqual(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> Equal(Lanes256<T> a, Lanes256<T> b) => new(Vector256.Equals(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> Select(Lanes256<T> mask, Lanes256<T> a, Lanes256<T> b) => new(Vector256.ConditionalSelect(mask.V, a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong MaskBits(Lanes256<T> mask) => mask.V.ExtractMostSignificantBits();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Any(Lanes256<T> mask) => mask.V != Vector256<T>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256<T> Pow2(Lanes256<T> k)
    {
        if (typeof(T) == typeof(double))
        {
            var magic = Vector256.Create(LaneBits.DoubleMagic);
            var bits = (k.V.AsDouble() + magic).AsInt64() - magic.AsInt64() + Vector256.Create(1023L);
            return new((bits << 52).As<long, T>());
        }
        else
        {
            var magic = Vector256.Create(LaneBits.SingleMagic);
            var bits = (k.V.AsSingle() + magic).AsInt32() - magic.AsInt32() + Vector256.Create(127);
            return new((bits << 23).As<int, T>());
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256<T> Exponent(Lanes256<T> x, out Lanes256<T> mantissa)
    {
        if (typeof(T) == typeof(double))
        {
            var bits = x.V.AsUInt64();
            mantissa = new(((bits & Vector256.Create(LaneBits.DoubleMantissa)) | Vector256.Create(LaneBits.DoubleOne)).As<ulong, T>());
            var e = ((bits >>> 52) | Vector256.Create(LaneBits.DoubleTwo52)).AsDouble() - Vector256.Create(LaneBits.DoubleExponentOffset);
            return new(e.As<double, T>());
        }
        else
        {
            var bits = x.V.AsUInt32();
            mantissa = new(((bits & Vector256.Create(LaneBits.SingleMantissa)) | Vector256.Create(LaneBits.SingleOne)).As<uint, T>());
            var e = ((bits >>> 23) | Vector256.Create(LaneBits.SingleTwo23)).AsSingle() - Vector256.Create(LaneBits.SingleExponentOffset);
            return new(e.As<float, T>());
        }
    }
}

/// <summary>One Vector512&lt;T&gt; register.</summary>
internal readonly struct Lanes512<T>(Vector512<T> v) : ILanes<Lanes512<T>, T>, IWideLanes<Lanes512<T>, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly Vector512<T> V = v;
    public static int Count => Vector512<T>.Count;
    public static Lanes512<T> Zero => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> Broadcast(T value) => new(Vector512.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> Load(ref T source, nint offset) => new(Vector512.LoadUnsafe(ref source, (nuint)offset));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Lanes512<T> value, ref T destination, nint offset) => value.V.StoreUnsafe(ref destination, (nuint)offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> operator +(Lanes512<T> a, Lanes512<T> b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> operator -(Lanes512<T> a, Lanes512<T> b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> operator *(Lanes512<T> a, Lanes512<T> b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> operator /(Lanes512<T> a, Lanes512<T> b) => new(a.V / b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> operator &(Lanes512<T> a, Lanes512<T> b) => new(a.V & b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> operator |(Lanes512<T> a, Lanes512<T> b) => new(a.V | b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> operator ~(Lanes512<T> a) => new(~a.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> Max(Lanes512<T> a, Lanes512<T> b) => new(Vector512.Max(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> Min(Lanes512<T> a, Lanes512<T> b) => new(Vector512.Min(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> Abs(Lanes512<T> a) => new(Vector512.Abs(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> Sqrt(Lanes512<T> a) => new(Vector512.Sqrt(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> LessThan(Lanes512<T> a, Lanes512<T> b) => new(Vector512.LessThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> LessThanOrEqual(Lanes512<T> a, Lanes512<T> b) => new(Vector512.LessThanOrEqual(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> Equal(Lanes512<T> a, Lanes512<T> b) => new(Vector512.Equals(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> Select(Lanes512<T> mask, Lanes512<T> a, Lanes512<T> b) => new(Vector512.ConditionalSelect(mask.V, a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong MaskBits(Lanes512<T> mask) => mask.V.ExtractMostSignificantBits();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Any(Lanes512<T> mask) => mask.V != Vector512<T>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512<T> Pow2(Lanes512<T> k)
    {
        if (typeof(T) == typeof(double))
        {
            var magic = Vector512.Create(LaneBits.DoubleMagic);
            var bits = (k.V.AsDouble() + magic).AsInt64() - magic.AsInt64() + Vector512.Create(1023L);
            return new((bits << 52).As<long, T>());
        }
        else
        {
            var magic = Vector512.Create(LaneBits.SingleMagic);
            var bits = (k.V.AsSingle() + magic).AsInt32() - magic.AsInt32() + Vector512.Create(127);
            return new((bits << 23).As<int, T>());
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512<T> Exponent(Lanes512<T> x, out Lanes512<T> mantissa)
    {
        if (typeof(T) == typeof(double))
        {
            var bits = x.V.AsUInt64();
            mantissa = new(((bits & Vector512.Create(LaneBits.DoubleMantissa)) | Vector512.Create(LaneBits.DoubleOne)).As<ulong, T>());
            var e = ((bits >>> 52) | Vector512.Create(LaneBits.DoubleTwo52)).AsDouble() - Vector512.Create(LaneBits.DoubleExponentOffset);
            return new(e.As<double, T>());
        }
        else
        {
            var bits = x.V.AsUInt32();
            mantissa = new(((bits & Vector512.Create(LaneBits.SingleMantissa)) | Vector512.Create(LaneBits.SingleOne)).As<uint, T>());
            var e = ((bits >>> 23) | Vector512.Create(LaneBits.SingleTwo23)).AsSingle() - Vector512.Create(LaneBits.SingleExponentOffset);
            return new(e.As<float, T>());
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Sum(Lanes512<T> v) => LaneBits.Sum(v.V.GetLower() + v.V.GetUpper());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T MaxAcross(Lanes512<T> v) => LaneBits.MaxAcross(Vector256.Max(v.V.GetLower(), v.V.GetUpper()));
}
