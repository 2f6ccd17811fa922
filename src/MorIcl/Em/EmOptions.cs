namespace MorIcl.Em;

/// <summary>Which M-step (docs/math.md §2).</summary>
public enum EmAlgorithm
{
    /// <summary>Weighted least squares: β_k ← (Σ γ_ik x_i x_iᵀ)⁻¹ Σ γ_ik y_i x_i.</summary>
    Exact,
    /// <summary>T gradient steps of size α on Q_k(b) = (1/2n) Σ γ_ik (y_i − ⟨x_i, b⟩)² (seed 000 eqs. (13)–(14)).</summary>
    Gradient,
}

/// <summary>How σ is treated.</summary>
public enum VarianceModel
{
    /// <summary>σ is known and fixed (the setting of seed 000).</summary>
    Known,
    /// <summary>One σ for all components: σ² ← Σ_ik γ_ik r_ik² / n.</summary>
    Shared,
    /// <summary>One σ_k per component: σ_k² ← Σ_i γ_ik r_ik² / Σ_i γ_ik (what mixtools/flexmix fit).</summary>
    PerComponent,
}

/// <summary>log π_k as the E-step of outer iteration <paramref name="iteration"/> (1-based; ≥ 2, since the first uses π⁽⁰⁾) uses it.</summary>
public delegate double MixingLogarithm(int iteration, int component, double mixing);

/// <summary>Options of an EM run. Mixing weights are estimated unless <see cref="FixedMixing"/> is given.</summary>
public sealed record EmOptions
{
    public EmAlgorithm Algorithm { get; init; } = EmAlgorithm.Exact;
    /// <summary>Inner gradient steps T per M-step (gradient EM only); T = 1 is classical gradient EM.</summary>
    public int InnerSteps { get; init; } = 1;
    /// <summary>Step size α of the inner gradient steps.</summary>
    public double StepSize { get; init; } = 0.5;
    public VarianceModel Variance { get; init; } = VarianceModel.PerComponent;
    /// <summary>The known σ when <see cref="Variance"/> is <see cref="VarianceModel.Known"/>.</summary>
    public double? KnownSigma { get; init; }
    /// <summary>Known mixing weights; null means π is estimated (π_k ← (1/n) Σ_i γ_ik).</summary>
    public double[]? FixedMixing { get; init; }
    public int MaxIterations { get; init; } = 1000;
    /// <summary>Converged when no parameter (β, π, σ) changes by more than this in one iteration.</summary>
    public double Tolerance { get; init; } = 1e-10;
    /// <summary>
    /// The logarithm the E-step applies to mixing weights that an M-step estimated (π⁽⁰⁾ always gets the
    /// exact log); null means <see cref="Math.Log(double)"/>. The constructed transformer with estimated
    /// mixing computes log π̂_k by a piecewise-linear interpolant L (docs/math.md §3's approximate operator);
    /// reference EM with this set to L performs the transformer's arithmetic, and perturbing it at one
    /// (iteration, component) gives the sensitivities that propagate L's declared error.
    /// </summary>
    public MixingLogarithm? EstimatedMixingLog { get; init; }
    /// <summary>Record responsibilities and every inner step's β (for layer-by-layer checks).</summary>
    public bool RecordTrace { get; init; }
    /// <summary>Called after every completed iteration with their number (progress display; it may throw to stop the fit).</summary>
    public Action<int>? OnIteration { get; init; }

    /// <summary>Throws a <see cref="SpecificationException"/> naming the first invalid option.</summary>
    public void Validate(int k)
    {
        if (InnerSteps < 1) throw new SpecificationException($"inner steps T must be at least 1, got {InnerSteps}");
        if (!double.IsFinite(StepSize) || StepSize <= 0) throw new SpecificationException($"step size α must be a finite number > 0, got {StepSize}");
        if (MaxIterations < 0) throw new SpecificationException($"max iterations must be ≥ 0, got {MaxIterations}");
        if (!double.IsFinite(Tolerance) || Tolerance < 0) throw new SpecificationException($"tolerance must be a finite number ≥ 0, got {Tolerance}");
        if (Variance == VarianceModel.Known)
        {
            if (KnownSigma is null) throw new SpecificationException("known variance needs a value of sigma");
            Mixture.MixtureSpec.ValidateSigma(KnownSigma.Value, "sigma");
        }
        if (FixedMixing is not null) Mixture.MixtureSpec.ValidateMixing(FixedMixing, k, "fixed mixing");
    }
}
