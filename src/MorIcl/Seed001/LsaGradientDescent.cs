namespace MorIcl.Seed001;

/// <summary>
/// Gradient descent with a small constant step η on the closed-form population loss L(p, Q)
/// (<see cref="LsaPopulationLoss"/>): the forward-Euler discretisation of the gradient flow
/// ṗ = −∂L/∂p, Q̇ = −∇_Q L that seed 001 studies. One step, with G = ∇_Γ L at Γ = p_k Q_k:
/// p_{k+1} = p_k − η⟨G, Q_k⟩_F, Q_{k+1} = Q_k − η p_k G.
/// <para><b>Conserved quantity.</b> Under the flow, d/dt p² = −2p⟨G, Q⟩ = d/dt ‖Q‖_F², so p² − ‖Q‖_F² is constant
/// (the balancedness of two-factor products). For the discrete step, expanding the squares gives exactly
/// D_{k+1} − D_k = η²((∂L/∂p)² − ‖∇_Q L‖_F²) for D = p² − ‖Q‖_F², hence |D_K − D_0| ≤ η·(η Σ_k ‖∇L_k‖²); when
/// η·(curvature) ≤ κ &lt; 2 along the run, the descent lemma L_{k+1} ≤ L_k − η(1 − κ/2)‖∇L_k‖² bounds this by
/// η (L_0 − L_K)/(1 − κ/2) = O(η).</para>
/// <para><b>Why the flow reaches the global optimum</b> (the statement of seed 001, here for the reduced layer).
/// The stationary points of L(p, Q) are those with pG = 0 and ⟨G, Q⟩ = 0: either G = 0, i.e. pQ = Γ* (global
/// minima), or p = 0 and tr Q = 0 when μ ≠ 0 (G(0) = −2μm I); with a balanced start (D = 0) the flow keeps
/// p² = ‖Q‖_F², so p = 0 forces Q = 0, a strict saddle. Near 0, ṗ ≈ 2μm tr Q and (tr Q)˙ ≈ 2μm d p, whose growing
/// mode p + tr Q/√d starts positive for the initialisation of <see cref="LsaLayer.BalancedInitialisation"/>; p stays
/// &gt; 0 (it cannot reach the stationary point 0 in finite time), the traceless part of Q obeys Q̇_⊥ = −2s p² Q_⊥
/// and decays, and L converges to L*; the limit is the minimiser with p² − ‖Q‖_F² = D_0. For μ = 0 (π = ½) the
/// loss is s‖Γ‖² + const and, balanced, r = p² = ‖Q‖_F² = ‖Γ‖_F obeys ṙ = −4s r², so Γ → 0 only like 1/(4st).</para>
/// </summary>
public static class LsaGradientDescent
{
    /// <summary>
    /// Runs at most <paramref name="maxSteps"/> steps of size <paramref name="stepSize"/> from <paramref name="initial"/>,
    /// stopping early when ‖∇L‖ ≤ <paramref name="gradientTolerance"/> (0: never). Returns the loss trajectory with
    /// the excess, imbalance, gradient norm and curvature bound at every iterate.
    /// </summary>
    public static LsaTrajectory Run(LsaDistribution distribution, LsaLayer initial, double stepSize, int maxSteps, double gradientTolerance = 0)
    {
        if (initial.D != distribution.D) throw new SpecificationException($"the layer has d = {initial.D}, the distribution d = {distribution.D}");
        if (!double.IsFinite(stepSize) || stepSize <= 0) throw new SpecificationException($"the step size must be a finite number > 0, got {stepSize}");
        if (maxSteps < 0) throw new SpecificationException($"the number of steps must be ≥ 0, got {maxSteps}");
        var loss = new List<double>(); var excess = new List<double>(); var imbalance = new List<double>();
        var gradNorm = new List<double>(); var curvature = new List<double>();
        var layer = initial;
        bool converged = false;
        for (int k = 0; ; k++)
        {
            var grad = LsaPopulationLoss.Gradient(distribution, layer);
            loss.Add(LsaPopulationLoss.Loss(distribution, layer));
            excess.Add(LsaPopulationLoss.Excess(distribution, layer));
            imbalance.Add(layer.Imbalance);
            gradNorm.Add(grad.Norm);
            curvature.Add(LsaPopulationLoss.CurvatureBound(distribution, layer));
            if (grad.Norm <= gradientTolerance) { converged = true; break; }
            if (k == maxSteps) break;
            layer = new LsaLayer(layer.P - stepSize * grad.P, layer.Q - grad.Q * stepSize);
            if (!double.IsFinite(layer.P) || !layer.Q.Enumerate().All(double.IsFinite))
                throw new NumericalException($"gradient descent diverged at step {k + 1} (step size {stepSize}); take a smaller step");
        }
        return new LsaTrajectory(distribution, stepSize, loss.ToArray(), excess.ToArray(), imbalance.ToArray(), gradNorm.ToArray(),
            curvature.ToArray(), initial, layer, converged);
    }
}
