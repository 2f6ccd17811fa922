using MathNet.Numerics.LinearAlgebra;
using MorIcl.Mixture;

namespace MorIcl.Comparison;

/// <summary>
/// Least-squares estimators on one prompt's examples (docs/math.md §11): ridge
/// β̂_λ = (XᵀX + λI)⁻¹Xᵀy (Cholesky; λ &gt; 0 makes it defined for every n) and the minimum-norm least
/// squares β̂ = X⁺y (the limit λ → 0, by SVD), which is OLS when n ≥ d and X has full column rank and
/// the interpolating solution of least norm when n &lt; d (Akyürek et al. 2023's OLS baseline).
/// </summary>
public static class LeastSquares
{
    public static double[] Ridge(RegressionData data, double lambda)
    {
        if (!(lambda > 0) || !double.IsFinite(lambda)) throw new SpecificationException($"the ridge penalty λ must be a finite number > 0, got {lambda}");
        int d = data.D;
        var x = Matrix<double>.Build.Dense(data.N, d, data.Columns);
        var gram = x.TransposeThisAndMultiply(x) + Matrix<double>.Build.DenseIdentity(d) * lambda;
        return gram.Cholesky().Solve(x.TransposeThisAndMultiply(Vector<double>.Build.DenseOfArray(data.Y))).ToArray();
    }

    public static double[] MinimumNorm(RegressionData data)
    {
        var x = Matrix<double>.Build.Dense(data.N, data.D, data.Columns);
        var svd = x.Svd(computeVectors: true);
        var s = svd.S;
        double cut = s.Count == 0 ? 0 : s[0] * Math.Max(data.N, data.D) * 1e-15;
        var uy = svd.U.TransposeThisAndMultiply(Vector<double>.Build.DenseOfArray(data.Y));
        var beta = Vector<double>.Build.Dense(data.D);
        for (int j = 0; j < s.Count; j++)
            if (s[j] > cut) beta += svd.VT.Row(j) * (uy[j] / s[j]);
        return beta.ToArray();
    }
}

/// <summary>Ridge regression on the prompt with a fixed penalty λ (docs/math.md §11).</summary>
public sealed class RidgePredictor(double lambda, string? name = null) : IPromptPredictor
{
    public double Lambda => lambda;
    public string Name => name ?? $"ridge (λ = {lambda:G3})";
    public double Predict(RegressionData examples, double[] query) => MorIcl.Numerics.Simd.SimdSpan.Dot<double>(query, LeastSquares.Ridge(examples, lambda));
}

/// <summary>Minimum-norm least squares on the prompt: OLS for n ≥ d, the least-norm interpolant for n &lt; d.</summary>
public sealed class MinimumNormPredictor : IPromptPredictor
{
    public string Name => "OLS";
    public double Predict(RegressionData examples, double[] query) => MorIcl.Numerics.Simd.SimdSpan.Dot<double>(query, LeastSquares.MinimumNorm(examples));
}
