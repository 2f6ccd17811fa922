using MorIcl.Verification;

namespace MorIcl.Tests.ProofChecks;

/// <summary>The d-edge of the B.2 / 2.2 windows (docs/math.md §10.2): the sample-EM fixed point's per-direction variances.</summary>
public class EmFixedPointCovarianceTests
{
    [Fact]
    public void QuadratureAgreesWithAnIndependentMonteCarlo()
    {
        // numpy, 4 000 000 draws of (x₁, x₂, ε, z) at ‖β*‖ = 1, σ = 0.2, π = 0.7, sample means of the same four expectations:
        // a = 0.04486, b = 0.04009 (their Monte-Carlo relative error ≈ 0.2 %).
        var (a, b) = EmFixedPointCovariance.Constants(1, 0.2, 0.7);
        Assert.InRange(a / 0.04486, 0.99, 1.01);
        Assert.InRange(b / 0.04009, 0.99, 1.01);
        Assert.True(b < a, "misclassification noise is largest where ⟨x, β*⟩ ≈ 0, so the error along β* is the smaller one");
    }

    [Fact]
    public void AtHighSnrItIsTheKnownLabelLeastSquares()
    {
        // η → ∞: no example is misclassified (w → ±1), so J → 0 and u → the label noise: a = b = σ², the known-label σ²d/(n − d − 1).
        double sigma = 0.01;
        var c = EmFixedPointCovariance.Constants(1, sigma, 0.7);
        Assert.InRange(c.Orthogonal / (sigma * sigma), 0.97, 1.03);
        Assert.InRange(c.Parallel / (sigma * sigma), 0.97, 1.03);
        Assert.Equal(sigma * sigma * 8 / (400 - 8 - 1.0), EmFixedPointCovariance.SquaredError((sigma * sigma, sigma * sigma), 400, 8), 15);
    }
}
