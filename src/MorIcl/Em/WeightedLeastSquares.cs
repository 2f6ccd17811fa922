using MathNet.Numerics.LinearAlgebra;

namespace MorIcl.Em;

/// <summary>
/// Solves the normal equations G β = h of a (weighted) least-squares problem by MathNet's Cholesky
/// factorisation. A singular or numerically singular G is an error, never NaN: MorIcl does not
/// silently add a ridge.
/// </summary>
public static class WeightedLeastSquares
{
    /// <summary>Relative pivot threshold: min_a L_aa² ≤ this · max_a G_aa counts as singular.</summary>
    public const double SingularityThreshold = 1e-13;

    /// <summary>
    /// Solves G β = h with G given by its lower triangle (d×d row-major; the upper part is ignored).
    /// <paramref name="what"/> names the problem in the error message.
    /// </summary>
    public static double[] Solve(double[] lowerGram, double[] h, int d, string what)
    {
        var g = Matrix<double>.Build.Dense(d, d);
        double maxDiag = 0;
        for (int a = 0; a < d; a++)
            for (int b = 0; b <= a; b++)
            {
                double v = lowerGram[a * d + b];
                g[a, b] = v; g[b, a] = v;
                if (a == b) maxDiag = Math.Max(maxDiag, v);
            }
        if (!(maxDiag > 0) || !double.IsFinite(maxDiag))
            throw new NumericalException($"{what}: the weighted Gram matrix is zero or not finite (no weight on any example)");
        MathNet.Numerics.LinearAlgebra.Factorization.Cholesky<double> chol;
        try { chol = g.Cholesky(); }
        catch (ArgumentException)
        {
            throw new NumericalException($"{what}: the weighted Gram matrix is singular (not positive definite); the component has collapsed or the design is rank-deficient");
        }
        double minPivot = double.PositiveInfinity;
        for (int a = 0; a < d; a++) { double l = chol.Factor[a, a]; minPivot = Math.Min(minPivot, l * l); }
        if (!(minPivot > SingularityThreshold * maxDiag))
            throw new NumericalException($"{what}: the weighted Gram matrix is numerically singular (smallest pivot {minPivot:G3} vs largest diagonal {maxDiag:G3}); the component has collapsed or the design is rank-deficient");
        var beta = chol.Solve(Vector<double>.Build.DenseOfArray(h)).ToArray();
        foreach (var v in beta)
            if (!double.IsFinite(v)) throw new NumericalException($"{what}: the least-squares solution is not finite");
        return beta;
    }
}
