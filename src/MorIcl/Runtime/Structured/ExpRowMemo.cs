using System.Numerics;
using System.Runtime.InteropServices;
using MorIcl.Numerics.Simd;

namespace MorIcl.Runtime.Structured;

/// <summary>
/// <see cref="SimdSpan.Exp{T}(ReadOnlySpan{T}, Span{T})"/> of whole rows, remembered: it is element-wise and each
/// element's bits are a function of the argument's bits alone (LaneMathTests), so a row of arguments bitwise equal to one
/// seen before gets the row computed then. The E-step gates of one layer (docs/math.md §6) form the same differences
/// ℓ_ic − m_i per example, each head in another slot: head k holds ℓ_ik on itself and ℓ_ic on component token c. A row
/// is compared as raw bits (so −0 ≠ +0 and NaN payloads count), never by value. A few rows, replaced in turn; one per
/// workspace (one thread).
/// </summary>
internal sealed class ExpRowMemo<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int Size = 4;
    private readonly T[][] _arguments = new T[Size][], _values = new T[Size][];
    private readonly int[] _length = new int[Size];
    private int _next;

    /// <summary>x ← e^x element-wise, with the bits of <see cref="SimdSpan.Exp{T}(ReadOnlySpan{T}, Span{T})"/>; true when the row was remembered.</summary>
    public bool InPlace(Span<T> x)
    {
        if (x.IsEmpty) return false;
        var bits = MemoryMarshal.AsBytes(x);
        for (int e = 0; e < Size; e++)
        {
            if (_length[e] != x.Length) continue;
            if (!MemoryMarshal.AsBytes(_arguments[e].AsSpan(0, x.Length)).SequenceEqual(bits)) continue;
            _values[e].AsSpan(0, x.Length).CopyTo(x);
            return true;
        }
        int slot = _next;
        _next = (_next + 1) % Size;
        if (_arguments[slot] is null || _arguments[slot].Length < x.Length) { _arguments[slot] = new T[x.Length]; _values[slot] = new T[x.Length]; }
        _length[slot] = 0;                       // not valid while it is written
        x.CopyTo(_arguments[slot]);
        SimdSpan.Exp<T>(x, x);
        x.CopyTo(_values[slot]);
        _length[slot] = x.Length;
        return false;
    }
}
