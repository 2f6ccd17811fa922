using MathNet.Numerics.LinearAlgebra;

namespace MorIcl.Seed001;

/// <summary>The gradient of the population loss in the layer's parameters: ∂L/∂p and ∇_Q L (see <see cref="LsaPopulationLoss"/>).</summary>
public sealed record LsaGradient(double P, Matrix<double> Q)
{
    /// <summary>√((∂L/∂p)² + ‖∇_Q L‖_F²).</summary>
    public double Norm => Math.Sqrt(P * P + LsaLayer.SquaredFrobenius(Q));
}
