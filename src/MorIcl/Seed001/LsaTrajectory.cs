namespace MorIcl.Seed001;

/// <summary>
/// A gradient-descent run on the LSA population loss (<see cref="LsaGradientDescent"/>). Entry k of each series
/// belongs to iterate k = 0 … <see cref="Steps"/> (iterate 0 is the initialisation).
/// </summary>
/// <param name="Loss">L(p_k, Q_k) (closed form): the loss trajectory.</param>
/// <param name="Excess">L(p_k, Q_k) − L* = s‖p_k Q_k − Γ*‖_F² (no cancellation).</param>
/// <param name="Imbalance">p_k² − ‖Q_k‖_F².</param>
/// <param name="GradientNorm">‖∇L(p_k, Q_k)‖.</param>
/// <param name="CurvatureBound"><see cref="LsaPopulationLoss.CurvatureBound"/> at iterate k.</param>
/// <param name="Converged">True when the run stopped because ‖∇L‖ fell to the tolerance (not at the step limit).</param>
public sealed record LsaTrajectory(
    LsaDistribution Distribution,
    double StepSize,
    double[] Loss,
    double[] Excess,
    double[] Imbalance,
    double[] GradientNorm,
    double[] CurvatureBound,
    LsaLayer Initial,
    LsaLayer Final,
    bool Converged)
{
    /// <summary>Number of gradient steps taken.</summary>
    public int Steps => Loss.Length - 1;
}
