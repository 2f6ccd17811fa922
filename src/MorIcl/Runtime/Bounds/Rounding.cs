namespace MorIcl.Runtime.Bounds;

/// <summary>
/// The standard model of IEEE binary floating-point arithmetic with round-to-nearest (Higham,
/// <i>Accuracy and Stability of Numerical Algorithms</i>, 2nd ed., 2002, §2.2): for x, y in precision
/// with unit roundoff u and op ∈ {+, −, ×, /}, fl(x op y) = (x op y)(1 + δ), |δ| ≤ u, and a fused
/// multiply-add rounds once. Products may also underflow: fl(x·y) = x·y(1 + δ) + η with |η| ≤ the
/// smallest subnormal (additions and subtractions of subnormals are exact, Higham §2.2).
/// <para>
/// Sums: a sum of n terms computed in <b>any</b> order (recursive, pairwise, lane-wise then across
/// lanes) satisfies |ŝ − s| ≤ γ_{n−1} Σ|x_i|, and a dot product of n terms in any order, with or without
/// FMA, |ŝ − xᵀy| ≤ γ_n |x|ᵀ|y|, where γ_n = n·u / (1 − n·u) (Higham Lemma 3.1 and eq. (3.5)). Terms that
/// are exactly zero add no rounding (x + 0 = x), so n may count only the terms that can be non-zero.
/// docs/math.md §8 derives the bounds built on these facts.
/// </para>
/// </summary>
public static class Rounding
{
    /// <summary>Unit roundoff of binary64: 2^-53.</summary>
    public const double DoubleUnit = 1.0 / 9007199254740992.0;
    /// <summary>Unit roundoff of binary32: 2^-24.</summary>
    public const double SingleUnit = 1.0 / 16777216.0;

    /// <summary>u of precision T (float or double).</summary>
    public static double Unit<T>() => typeof(T) == typeof(float) ? SingleUnit
        : typeof(T) == typeof(double) ? DoubleUnit : throw new NotSupportedException($"no rounding model for {typeof(T).Name}");

    /// <summary>Significand bits p of T: every integer of magnitude ≤ 2^p is representable.</summary>
    public static int Precision<T>() => typeof(T) == typeof(float) ? 24 : 53;

    /// <summary>Largest integer below which every integer is exact in T: 2^p.</summary>
    public static double ExactIntegerLimit<T>() => typeof(T) == typeof(float) ? 16777216.0 : 9007199254740992.0;

    /// <summary>Smallest positive subnormal of T: the absolute error term η of an underflowing product.</summary>
    public static double Underflow<T>() => typeof(T) == typeof(float) ? float.Epsilon : double.Epsilon;

    /// <summary>Smallest positive normal number of T.</summary>
    public static double SmallestNormal<T>() => typeof(T) == typeof(float) ? 1.1754943508222875e-38 : 2.2250738585072014e-308;

    /// <summary>
    /// γ_n = n·u / (1 − n·u), rounded up (the double evaluation is padded by 4 ulps); 0 for n ≤ 0.
    /// Throws when n·u ≥ 1/2, where the model gives no useful bound.
    /// </summary>
    public static double Gamma(int n, double u)
    {
        if (n <= 0) return 0;
        double nu = n * u;
        if (nu >= 0.5) throw new ArgumentOutOfRangeException(nameof(n), $"γ_{n} is not defined for u = {u:G3} (n·u ≥ 1/2)");
        return nu / (1 - nu) * (1 + 4 * DoubleUnit);
    }

    /// <summary>
    /// Relative error of the bounds' own evaluation in double. Every radius the analysis computes is a
    /// sum of at most m non-negative terms, each a product of at most a few non-negative doubles, so
    /// its round-to-nearest value is at least (1 − γ_{m+8}(2^-53)) times the exact value (Higham Lemma
    /// 3.1 with non-negative terms; γ composes: (1 + γ_a)(1 + γ_b) ≤ 1 + γ_{a+b}). A layer's radii go
    /// through at most three such stages (scores, weights, sums); the analysis multiplies each layer's
    /// output radii by <c>1 + 4·γ_{m+8}</c> with m the longest sum of the layer.
    /// </summary>
    public static double SelfInflation(int longestSum) => 1 + 4 * Gamma(longestSum + 8, DoubleUnit);

    /// <summary>
    /// Σ|x_i| in a fixed order (four interleaved partial sums over i mod 4, then (s₀ + s₁) + (s₂ + s₃),
    /// then the tail in index order): the analysis' one reduction. The bound it feeds holds for any order
    /// (see <see cref="SelfInflation"/>); a fixed order, in scalar code, makes the certificate the same
    /// bits on every SIMD width, as the pass it certifies.
    /// </summary>
    public static double SumOfMagnitudes(ReadOnlySpan<double> x)
    {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 4 <= x.Length; i += 4)
        {
            s0 += Math.Abs(x[i]); s1 += Math.Abs(x[i + 1]); s2 += Math.Abs(x[i + 2]); s3 += Math.Abs(x[i + 3]);
        }
        double s = (s0 + s1) + (s2 + s3);
        for (; i < x.Length; i++) s += Math.Abs(x[i]);
        return s;
    }
}
