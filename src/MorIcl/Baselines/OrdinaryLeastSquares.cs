using MathNet.Numerics.LinearAlgebra;
using MorIcl.Mixture;

namespace MorIcl.Baselines;

/// <summary>Ordinary least squares β̂ = argmin Σ (y_i − ⟨x_i, b⟩)², by MathNet's QR factorisation.</summary>
public static class OrdinaryLeastSquares
{
    public static double[] Fit(RegressionData data)
    {
        if (data.N < data.D) throw new SpecificationException($"least squares needs n ≥ d, got n = {data.N}, d = {data.D}");
        // MathNet stores dense matrices column-major: the feature-major columns are exactly X (n×d).
        var x = Matrix<double>.Build.Dense(data.N, data.D, (double[])data.Columns.Clone());
        var qr = x.QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin);
        if (!qr.IsFullRank) throw new NumericalException("least squares: the design matrix is rank-deficient");
        return qr.Solve(Vector<double>.Build.DenseOfArray(data.Y)).ToArray();
    }

    /// <summary>The OLS predictor ⟨x_query, β̂_OLS⟩ fitted on the prompt's examples.</summary>
    public static double Predict(Prompt prompt) => Dot(prompt.Query, Fit(prompt.Examples));

    internal static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b) => MorIcl.Numerics.Simd.SimdSpan.Dot(a, b);
}
