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
        for (int a = 0; a < maxAbsQ.Length; a++)
        {
            double m = RoundUp(Up(maxAbsQ[a] * maxAbsK[a]), single);
            u = RoundUp(Up(u + m), single);
        }
        return u;
    }

    /// <summary>The next double above v (v itself when v is ±∞ or NaN); +0 stays above −0 via BitIncrement.</summary>
    private static double Up(double v) => double.IsFinite(v) ? Math.BitIncrement(v) : v;

    /// <summary>The smallest value of the precision ≥ v (float when <paramref name="single"/>).</summary>
    private static double RoundUp(double v, bool single)
    {
        if (!single || !double.IsFinite(v)) return v;
        float f = (float)v;
        if (f < v) f = MathF.BitIncrement(f);
        return f;
    }
}
