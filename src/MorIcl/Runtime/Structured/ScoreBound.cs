using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MorIcl.Runtime.Structured;

/// <summary>
/// A sound upper bound on scores that are never formed (docs/math.md §9). A score is accumulated over the
/// head's dimensions in order: the positional dimensions give an exact integer P ≤ <c>positionalMax</c>,
/// then each content dimension a adds q_a·k_a, rounded to precision T (fused, acc ← RN(acc + q·k), or
/// not, acc ← RN(acc + RN(q·k)); or exactly). With m_a = RU_T(max|q_a|·max|k_a|) ≥ RN(q·k) ≥ … and
/// acc_a ≤ u_a, monotonicity of rounding gives acc_(a+1) ≤ RU_T(u_a + m_a) =: u_(a+1). Every step here
/// rounds upward (the double sum is nudged one ulp up, then rounded up to T), so u after the last
/// dimension bounds the score however it is computed. NaN or ∞ in a maximum gives NaN or +∞ (never a
/// finite bound). O(d_k) per block, given the O(N) maxima.
/// </summary>
public static class ScoreBound
{
    /// <param name="positionalMax">The largest exact positional part over the pairs (0 when the head has no positional dimensions).</param>
    /// <param name="maxAbsQ">max over the block's queries of |q_a| per content dimension.</param>
    /// <param name="maxAbsK">max over the block's keys of |k_a| per content dimension.</param>
    /// <param name="single">Scores are computed in float (true) or double.</param>
    public static double Upper(double positionalMax, ReadOnlySpan<double> maxAbsQ, ReadOnlySpan<double> maxAbsK, bool single)
    {
        if (maxAbsQ.Length != maxAbsK.Length) throw new ArgumentException("the maxima differ in length");
        double u = positionalMax;
        if (single)
            for (int a = 0; a < maxAbsQ.Length; a++)
            {
                double m = RoundUpToSingle(NextUp(maxAbsQ[a] * maxAbsK[a]));
                u = RoundUpToSingle(NextUp(u + m));
            }
        // In double RU_T is the identity on doubles: the same steps without it.
        else for (int a = 0; a < maxAbsQ.Length; a++) u = NextUp(u + NextUp(maxAbsQ[a] * maxAbsK[a]));
        return u;
    }

    /// <summary>
    /// <see cref="Upper"/> of several blocks: bound[i] = Upper(positionalMax[i], maxAbsQ[qOffset[i] …+dc], maxAbsK[kOffset[i] …+dc], single).
    /// In double, four blocks go through the same steps at once (one block per lane: the product, its next-up, the sum, its
    /// next-up, each element-wise as the scalar steps), so the bits do not depend on whether or how wide the vectors are.
    /// </summary>
    internal static void UpperOfBlocks(ReadOnlySpan<double> positionalMax, ReadOnlySpan<int> qOffset, ReadOnlySpan<int> kOffset,
        ReadOnlySpan<double> maxAbsQ, ReadOnlySpan<double> maxAbsK, int dc, bool single, Span<double> bound)
    {
        int count = positionalMax.Length, i = 0;
        if (qOffset.Length != count || kOffset.Length != count || bound.Length < count) throw new ArgumentException("one offset pair and one bound per block");
        if (!single && Vector256.IsHardwareAccelerated)
        {
            for (; i + 4 <= count; i += 4) Four(positionalMax.Slice(i, 4), qOffset.Slice(i, 4), kOffset.Slice(i, 4), maxAbsQ, maxAbsK, dc, bound.Slice(i, 4));
            if (i == count) return;
            // The last 1–3 blocks in one more vector, its other lanes repeating the last block (results dropped).
            Span<double> p = stackalloc double[4], u = stackalloc double[4];
            Span<int> q = stackalloc int[4], k = stackalloc int[4];
            for (int l = 0; l < 4; l++) { int j = Math.Min(i + l, count - 1); p[l] = positionalMax[j]; q[l] = qOffset[j]; k[l] = kOffset[j]; }
            Four(p, q, k, maxAbsQ, maxAbsK, dc, u);
            u[..(count - i)].CopyTo(bound[i..count]);
            return;
        }
        for (; i < count; i++) bound[i] = Upper(positionalMax[i], maxAbsQ.Slice(qOffset[i], dc), maxAbsK.Slice(kOffset[i], dc), single);
    }

    /// <summary>Four blocks of <see cref="UpperOfBlocks"/> in double, one per lane.</summary>
    private static void Four(ReadOnlySpan<double> positionalMax, ReadOnlySpan<int> qOffset, ReadOnlySpan<int> kOffset,
        ReadOnlySpan<double> maxAbsQ, ReadOnlySpan<double> maxAbsK, int dc, Span<double> bound)
    {
        var q = maxAbsQ.Slice(qOffset[0], dc); var q1 = maxAbsQ.Slice(qOffset[1], dc); var q2 = maxAbsQ.Slice(qOffset[2], dc); var q3 = maxAbsQ.Slice(qOffset[3], dc);
        var k = maxAbsK.Slice(kOffset[0], dc); var k1 = maxAbsK.Slice(kOffset[1], dc); var k2 = maxAbsK.Slice(kOffset[2], dc); var k3 = maxAbsK.Slice(kOffset[3], dc);
        var u = Vector256.Create(positionalMax[..4]);
        for (int a = 0; a < dc; a++)
        {
            var product = Vector256.Create(q[a], q1[a], q2[a], q3[a]) * Vector256.Create(k[a], k1[a], k2[a], k3[a]);
            u = NextUp(u + NextUp(product));
        }
        u.CopyTo(bound[..4]);
    }

    /// <summary><see cref="NextUp(double)"/> in each lane (the same bit operations, lane by lane).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<double> NextUp(Vector256<double> v)
    {
        var bits = v.AsInt64();
        var exponent = Vector256.Create(0x7FF0_0000_0000_0000L);
        var special = Vector256.Equals(bits & exponent, exponent);                  // ±∞, NaN: kept
        var negativeZero = Vector256.Equals(bits, Vector256.Create(long.MinValue)); // −0 ↦ +ε
        var next = (bits + (Vector256.LessThan(bits, Vector256<long>.Zero) | Vector256<long>.One)).AsDouble();
        next = Vector256.ConditionalSelect(negativeZero.AsDouble(), Vector256.Create(double.Epsilon), next);
        return Vector256.ConditionalSelect(special.AsDouble(), v, next);
    }

    /// <summary>
    /// The next double above a finite v (v itself when v is ±∞ or NaN, so a bound built from them proves nothing), as
    /// <see cref="Math.BitIncrement"/> gives it on finite values. A finite double's bits, read as a sign and a magnitude
    /// (the low 63 bits), order the doubles of one sign by magnitude with no gaps: the next double above a v ≥ +0 has
    /// magnitude bits + 1 (the largest finite one goes to +∞, still ≥ v), and the next above a v &lt; 0 has magnitude
    /// bits − 1 (−ε goes to −0). Both are bits + 1 and bits − 1 of the signed 64-bit pattern, i.e. bits + (sign ? −1 : +1).
    /// −0 is the one exception: its magnitude is 0, and the next double above it is +ε (bits − 1 would be a NaN pattern).
    /// The result is always ≥ v and &gt; v for finite v (ScoreBoundTests checks it against BitIncrement and the order).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double NextUp(double v)
    {
        long bits = BitConverter.DoubleToInt64Bits(v);
        const long exponent = 0x7FF0_0000_0000_0000;
        if ((bits & exponent) == exponent) return v;            // ±∞, NaN
        if (bits == long.MinValue) return double.Epsilon;       // −0
        return BitConverter.Int64BitsToDouble(bits + ((bits >> 63) | 1));
    }

    /// <summary>The smallest float ≥ v (v itself when v is ±∞ or NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double RoundUpToSingle(double v)
    {
        if (!double.IsFinite(v)) return v;
        float f = (float)v;
        if (f < v) f = MathF.BitIncrement(f);
        return f;
    }
}
