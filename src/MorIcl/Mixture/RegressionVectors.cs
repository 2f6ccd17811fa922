namespace MorIcl.Mixture;

/// <summary>Regression vectors as seed 000 §5 draws them: β ~ N(0, I_d), normalised to unit norm.</summary>
public static class RegressionVectors
{
    /// <summary>K independent unit vectors, each a normalised standard Gaussian draw.</summary>
    public static double[][] DrawNormalised(int d, int k, System.Random rng)
    {
        if (d < 1) throw new SpecificationException($"the dimension d must be at least 1, got {d}");
        if (k < 1) throw new SpecificationException($"the number of components K must be at least 1, got {k}");
        var result = new double[k][];
        for (int j = 0; j < k; j++)
        {
            double norm;
            var b = new double[d];
            do
            {
                MathNet.Numerics.Distributions.Normal.Samples(rng, b, 0.0, 1.0);
                norm = MixtureSpec.Norm(b);
            } while (norm == 0);
            for (int a = 0; a < d; a++) b[a] /= norm;
            result[j] = b;
        }
        return result;
    }
}
