using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MorIcl.Numerics.Simd;

// The 64-byte virtual vector (IWideLanes) realised by two 256-bit or four 128-bit registers: lanes
// [0, Count/2) in the first 256-bit register, and so on. Lanes512 is the one-register realisation.

/// <summary>Two Vector256 registers: lanes [0, C) in A, [C, 2C) in B (C = Vector256&lt;T&gt;.Count).</summary>
internal readonly struct Lanes256x2<T>(Vector256<T> a, Vector256<T> b) : IWideLanes<Lanes256x2<T>, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly Vector256<T> A = a, B = b;
    private static nint C => Vector256<T>.Count;
    public static int Count => 2 * Vector256<T>.Count;
    public static Lanes256x2<T> Zero => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2<T> Broadcast(T value) { var v = Vector256.Create(value); return new(v, v); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2<T> Load(ref T s, nint o) => new(Vector256.LoadUnsafe(ref s, (nuint)o), Vector256.LoadUnsafe(ref s, (nuint)(o + C)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Lanes256x2<T> v, ref T d, nint o) { v.A.StoreUnsafe(ref d, (nuint)o); v.B.StoreUnsafe(ref d, (nuint)(o + C)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2<T> operator +(Lanes256x2<T> x, Lanes256x2<T> y) => new(x.A + y.A, x.B + y.B);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2<T> operator -(Lanes256x2<T> x, Lanes256x2<T> y) => new(x.A - y.A, x.B - y.B);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2<T> operator *(Lanes256x2<T> x, Lanes256x2<T> y) => new(x.A * y.A, x.B * y.B);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2<T> operator /(Lanes256x2<T> x, Lanes256x2<T> y) => new(x.A / y.A, x.B / y.B);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2<T> operator &(Lanes256x2<T> x, Lanes256x2<T> y) => new(x.A & y.A, x.B & y.B);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2<T> operator |(Lanes256x2<T> x, Lanes256x2<T> y) => new(x.A | y.A, x.B | y.B);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2<T> operator ~(Lanes256x2<T> x) => new(~x.A, ~x.B);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2<T> Max(Lanes256x2<T> x, Lanes256x2<T> y) => new(Vector256.Max(x.A, y.A), Vector256.Max(x.B, y.B));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2<T> Min(Lanes256x2<T> x, Lanes256x2<T> y) => new(Vector256.Min(x.A, y.A), Vector256.Min(x.B, y.B));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2<T> Abs(Lanes256x2<T> x) => new(Vector256.Abs(x.A), Vector256.Abs(x.B));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2<T> Sqrt(Lanes256x2<T> x) => new(Vector256.Sqrt(x.A), Vector256.Sqrt(x.B));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2<T> LessThan(Lanes256x2<T> x, Lanes256x2<T> y) => new(Vector256.LessThan(x.A, y.A), Vector256.LessThan(x.B, y.B));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2<T> LessThanOrEqual(Lanes256x2<T> x, Lanes256x2<T> y) => new(Vector256.LessThanOrEqual(x.A, y.A), Vector256.LessThanOrEqual(x.B, y.B));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2<T> Equal(Lanes256x2<T> x, Lanes256x2<T> y) => new(Vector256.Equals(x.A, y.A), Vector256.Equals(x.B, y.B));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2<T> Select(Lanes256x2<T> m, Lanes256x2<T> x, Lanes256x2<T> y) => new(Vector256.ConditionalSelect(m.A, x.A, y.A), Vector256.ConditionalSelect(m.B, x.B, y.B));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ulong MaskBits(Lanes256x2<T> m) => m.A.ExtractMostSignificantBits() | ((ulong)m.B.ExtractMostSignificantBits() << (int)C);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Any(Lanes256x2<T> m) => (m.A | m.B) != Vector256<T>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256x2<T> Pow2(Lanes256x2<T> k) => new(Lanes256<T>.Pow2(new(k.A)).V, Lanes256<T>.Pow2(new(k.B)).V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256x2<T> Exponent(Lanes256x2<T> x, out Lanes256x2<T> mantissa)
    {
        var ea = Lanes256<T>.Exponent(new(x.A), out var ma); var eb = Lanes256<T>.Exponent(new(x.B), out var mb);
        mantissa = new(ma.V, mb.V);
        return new(ea.V, eb.V);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Sum(Lanes256x2<T> v) => LaneBits.Sum(v.A + v.B);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T MaxAcross(Lanes256x2<T> v) => LaneBits.MaxAcross(Vector256.Max(v.A, v.B));
}

/// <summary>Four Vector128 registers: lanes [0, C) in A, [C, 2C) in B, [2C, 3C) in C2, [3C, 4C) in D (C = Vector128&lt;T&gt;.Count).</summary>
internal readonly struct Lanes128x4<T>(Vector128<T> a, Vector128<T> b, Vector128<T> c, Vector128<T> d) : IWideLanes<Lanes128x4<T>, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly Vector128<T> A = a, B = b, C2 = c, D = d;
    private static nint C => Vector128<T>.Count;
    public static int Count => 4 * Vector128<T>.Count;
    public static Lanes128x4<T> Zero => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128x4<T> Broadcast(T value) { var v = Vector128.Create(value); return new(v, v, v, v); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128x4<T> Load(ref T s, nint o) =>
        new(Vector128.LoadUnsafe(ref s, (nuint)o), Vector128.LoadUnsafe(ref s, (nuint)(o + C)), Vector128.LoadUnsafe(ref s, (nuint)(o + 2 * C)), Vector128.LoadUnsafe(ref s, (nuint)(o + 3 * C)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Lanes128x4<T> v, ref T d, nint o)
    {
        v.A.StoreUnsafe(ref d, (nuint)o); v.B.StoreUnsafe(ref d, (nuint)(o + C));
        v.C2.StoreUnsafe(ref d, (nuint)(o + 2 * C)); v.D.StoreUnsafe(ref d, (nuint)(o + 3 * C));
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128x4<T> operator +(Lanes128x4<T> x, Lanes128x4<T> y) => new(x.A + y.A, x.B + y.B, x.C2 + y.C2, x.D + y.D);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128x4<T> operator -(Lanes128x4<T> x, Lanes128x4<T> y) => new(x.A - y.A, x.B - y.B, x.C2 - y.C2, x.D - y.D);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128x4<T> operator *(Lanes128x4<T> x, Lanes128x4<T> y) => new(x.A * y.A, x.B * y.B, x.C2 * y.C2, x.D * y.D);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128x4<T> operator /(Lanes128x4<T> x, Lanes128x4<T> y) => new(x.A / y.A, x.B / y.B, x.C2 / y.C2, x.D / y.D);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128x4<T> operator &(Lanes128x4<T> x, Lanes128x4<T> y) => new(x.A & y.A, x.B & y.B, x.C2 & y.C2, x.D & y.D);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128x4<T> operator |(Lanes128x4<T> x, Lanes128x4<T> y) => new(x.A | y.A, x.B | y.B, x.C2 | y.C2, x.D | y.D);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128x4<T> operator ~(Lanes128x4<T> x) => new(~x.A, ~x.B, ~x.C2, ~x.D);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128x4<T> Max(Lanes128x4<T> x, Lanes128x4<T> y) => new(Vector128.Max(x.A, y.A), Vector128.Max(x.B, y.B), Vector128.Max(x.C2, y.C2), Vector128.Max(x.D, y.D));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128x4<T> Min(Lanes128x4<T> x, Lanes128x4<T> y) => new(Vector128.Min(x.A, y.A), Vector128.Min(x.B, y.B), Vector128.Min(x.C2, y.C2), Vector128.Min(x.D, y.D));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128x4<T> Abs(Lanes128x4<T> x) => new(Vector128.Abs(x.A), Vector128.Abs(x.B), Vector128.Abs(x.C2), Vector128.Abs(x.D));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128x4<T> Sqrt(Lanes128x4<T> x) => new(Vector128.Sqrt(x.A), Vector128.Sqrt(x.B), Vector128.Sqrt(x.C2), Vector128.Sqrt(x.D));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128x4<T> LessThan(Lanes128x4<T> x, Lanes128x4<T> y) => new(Vector128.LessThan(x.A, y.A), Vector128.LessThan(x.B, y.B), Vector128.LessThan(x.C2, y.C2), Vector128.LessThan(x.D, y.D));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128x4<T> LessThanOrEqual(Lanes128x4<T> x, Lanes128x4<T> y) => new(Vector128.LessThanOrEqual(x.A, y.A), Vector128.LessThanOrEqual(x.B, y.B), Vector128.LessThanOrEqual(x.C2, y.C2), Vector128.LessThanOrEqual(x.D, y.D));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128x4<T> Equal(Lanes128x4<T> x, Lanes128x4<T> y) => new(Vector128.Equals(x.A, y.A), Vector128.Equals(x.B, y.B), Vector128.Equals(x.C2, y.C2), Vector128.Equals(x.D, y.D));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128x4<T> Select(Lanes128x4<T> m, Lanes128x4<T> x, Lanes128x4<T> y) =>
        new(Vector128.ConditionalSelect(m.A, x.A, y.A), Vector128.ConditionalSelect(m.B, x.B, y.B), Vector128.ConditionalSelect(m.C2, x.C2, y.C2), Vector128.ConditionalSelect(m.D, x.D, y.D));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong MaskBits(Lanes128x4<T> m) =>
        m.A.ExtractMostSignificantBits() | ((ulong)m.B.ExtractMostSignificantBits() << (int)C)
        | ((ulong)m.C2.ExtractMostSignificantBits() << (int)(2 * C)) | ((ulong)m.D.ExtractMostSignificantBits() << (int)(3 * C));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Any(Lanes128x4<T> m) => ((m.A | m.B) | (m.C2 | m.D)) != Vector128<T>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128x4<T> Pow2(Lanes128x4<T> k) =>
        new(Lanes128<T>.Pow2(new(k.A)).V, Lanes128<T>.Pow2(new(k.B)).V, Lanes128<T>.Pow2(new(k.C2)).V, Lanes128<T>.Pow2(new(k.D)).V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128x4<T> Exponent(Lanes128x4<T> x, out Lanes128x4<T> mantissa)
    {
        var ea = Lanes128<T>.Exponent(new(x.A), out var ma); var eb = Lanes128<T>.Exponent(new(x.B), out var mb);
        var ec = Lanes128<T>.Exponent(new(x.C2), out var mc); var ed = Lanes128<T>.Exponent(new(x.D), out var md);
        mantissa = new(ma.V, mb.V, mc.V, md.V);
        return new(ea.V, eb.V, ec.V, ed.V);
    }
    /// <summary>Lanes l + l + Count/2 first ((A + C2), (B + D)), then the 256-bit steps of the tree.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Sum(Lanes128x4<T> v) => LaneBits.Sum((v.A + v.C2) + (v.B + v.D));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T MaxAcross(Lanes128x4<T> v) => LaneBits.MaxAcross(Vector256.Create(Vector128.Max(v.A, v.C2), Vector128.Max(v.B, v.D)));
}
