using System.Numerics;
using System.Runtime.InteropServices;
using MorIcl.Numerics.Simd;

namespace MorIcl.Runtime.Structured;

/// <summary>
/// <see cref="SimdSpan.Exp{T}(ReadOnlySpan{T}, Span{T})"/> of whole rows, remembered: it is element-wise and each
/// element's bits are a function of the argument's bits alone (LaneMathTests), so a row of arguments bitwise equal to one
/// seen before gets the row computed then. The E-step gates of one layer (docs/math.md §6) form the same differences
/// ℓ_ic − m_i per example, each head in another slot: head k holds ℓ_ik on itself and ℓ_ic on component token c. A row
/// is compared as raw bits (so −0 ≠ +0 and NaN payloads count), never by value. As many rows as the prompt has roles
/// (K + 2, so a layer's K distinct rows all stay), replaced in turn; one per workspace (one thread).
/// </summary>
internal sealed class ExpRowMemo<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[][] _arguments, _values;
    private readonly int[] _length;
    private int _next;

    public ExpRowMemo(int rows)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows));
        _arguments = new T[rows][]; _values = new T[rows][]; _length = new int[rows];
    }

    /// <summary>x ← e^x element-wise, with the bits of <see cref="SimdSpan.Exp{T}(ReadOnlySpan{T}, Span{T})"/>; true when the row was remembered.</summary>
    public bool InPlace(Span<T> x)
    {
        if (x.IsEmpty) return false;
        var bits = MemoryMarshal.AsBytes(x);
        for (int e = 0; e < _length.Length; e++)
        {
            if (_length[e] != x.Length) continue;
            if (!MemoryMarshal.AsBytes(_arguments[e].AsSpan(0, x.Length)).SequenceEqual(bits)) continue;
            _values[e].AsSpan(0, x.Length).CopyTo(x);
            return true;
        }
        int slot = _next;
        _next = (_next + 1) % _length.Length;
        if (_arguments[slot] is null || _arguments[slot].Length < x.Length) { _arguments[slot] = new T[x.Length]; _values[slot] = new T[x.Length]; }
        x.CopyTo(_arguments[slot]);
        SimdSpan.Exp<T>(x, x);
        x.CopyTo(_values[slot]);
        _length[slot] = x.Length;
        return false;
    }
}
