using MorIcl.Construction.Model;

namespace MorIcl.Runtime;

/// <summary>
/// What one layer saw in one forward pass. Margin: for ReLU heads the smallest −score over
/// non-admitted pairs (exact when ≥ 0); for softmax heads the smallest gap between the best admitted
/// and the best non-admitted score. Leakage: the largest softmax weight (summed per query) that fell
/// on non-admitted keys. MLP layers, ReLU heads over all tokens and linear heads (which always admit
/// every pair) have no margin (+∞) and no leakage: their only domain condition is finiteness.
/// An approximate MLP (<see cref="MlpLayer.InputRanges"/>) reports its range slack — the smallest
/// distance of a declared input row to the edge of its range [lo, hi] over every token, negative when
/// outside (+∞ for exact layers) — and its declared error, which holds only while the slack is ≥ 0.
/// </summary>
public sealed record LayerCertificate(int Layer, double MinMargin, double MaxLeakage, bool InDomain, bool Finite,
    double RangeSlack = double.PositiveInfinity, double DeclaredError = 0)
{
    /// <summary>
    /// The rounding analysis (docs/math.md §8; NaN when the pass ran without it): the largest bound on
    /// |computed − exact| over the residual stream after this layer.
    /// </summary>
    public double ResidualErrorBound { get; init; } = double.NaN;
    /// <summary>A lower bound on the exact transformer's margin: the pass's margin minus its scores' error bound (+∞ without margins).</summary>
    public double CertifiedMargin { get; init; } = double.NaN;
    /// <summary>An upper bound on the exact transformer's softmax leakage (0 without softmax heads).</summary>
    public double LeakageBound { get; init; } = double.NaN;
    /// <summary>The largest bound on |ŝ − s| over the scores this layer's domain depends on.</summary>
    public double ScoreErrorBound { get; init; } = double.NaN;

    /// <summary>Whether the rounding analysis certifies the layer's decisions: certified margin ≥ 0 and leakage bound ≤ the tolerance.</summary>
    public bool Certified => !double.IsNaN(CertifiedMargin) && CertifiedMargin >= 0 && LeakageBound <= Certificate.LeakageTolerance;

    /// <summary>This certificate with the rounding analysis's bounds; in domain only if the analysis also certifies the layer.</summary>
    public LayerCertificate WithBounds(Bounds.LayerErrorBounds b)
    {
        var r = this with { ResidualErrorBound = b.ResidualErrorBound, CertifiedMargin = b.CertifiedMargin, LeakageBound = b.LeakageBound, ScoreErrorBound = b.ScoreErrorBound };
        return r with { InDomain = InDomain && r.Certified };
    }

    /// <summary>The smallest range slack of <paramref name="layer"/>'s declared input rows over tokens [0, N); +∞ when it declares none.</summary>
    public static double SlackOf(MlpLayer layer, Func<int, int, double> value, int tokens)
    {
        double slack = double.PositiveInfinity;
        foreach (var r in layer.InputRanges)
            for (int i = 0; i < tokens; i++)
            {
                double v = value(i, r.Row);
                slack = double.IsNaN(v) ? double.NegativeInfinity : Math.Min(slack, Math.Min(v - r.Lo, r.Hi - v));
            }
        return slack;
    }
}

/// <summary>
/// The per-pass certificate: per layer margins and leakage, whether every layer stayed inside its
/// exactness domain, and whether the prompt fits the positional scheme.
/// </summary>
public sealed record Certificate(IReadOnlyList<LayerCertificate> Layers, bool PositionsInRange, int PromptLength, long MaxPromptLength)
{
    /// <summary>
    /// Bounds on |computed − exact-arithmetic value of the same transformer on the same input|
    /// (docs/math.md §8), NaN when the pass ran without the analysis: for ŷ, for every β̂ coordinate, and
    /// for every responsibility γ_ik (symmetric program: w_i) any E-step wrote (NaN without E-steps).
    /// </summary>
    public double PredictionErrorBound { get; init; } = double.NaN;
    public double BetaErrorBound { get; init; } = double.NaN;
    public double ResponsibilityErrorBound { get; init; } = double.NaN;
    /// <summary>Precision the pass ran in ("double" or "float").</summary>
    public string Precision { get; init; } = "double";

    /// <summary>
    /// Whether the model's weights are the construction of its stated specification (recompiled and
    /// compared weight by weight); null when not checked or when the model has no specification
    /// (trained, hand-built). Set by the caller that loaded the model (SpecificationMatch).
    /// </summary>
    public bool? MatchesSpecification { get; init; }

    /// <summary>Whether the rounding analysis ran (the bounds are numbers).</summary>
    public bool HasErrorBounds => !double.IsNaN(PredictionErrorBound);
    /// <summary>The largest bound on the residual stream over all layers.</summary>
    public double MaxResidualErrorBound => Layers.Count == 0 ? 0 : Layers.Max(l => l.ResidualErrorBound);

    /// <summary>A softmax head is in its domain while the weight leaking to non-admitted keys is at most this.</summary>
    public const double LeakageTolerance = 1e-14;

    public bool InDomain => PositionsInRange && Layers.All(l => l.InDomain);
    public double MinMargin => Layers.Count == 0 ? double.PositiveInfinity : Layers.Min(l => l.MinMargin);
    public double MaxLeakage => Layers.Count == 0 ? 0 : Layers.Max(l => l.MaxLeakage);
    /// <summary>
    /// The largest error any approximate layer declares on its own outputs (0 when every operator is
    /// exact); each declaration holds while that layer's range slack is ≥ 0. How it propagates to β̂
    /// and ŷ depends on the layers after it (see the estimated-mixing tests for a first-order bound).
    /// </summary>
    public double DeclaredError => Layers.Count == 0 ? 0 : Layers.Max(l => l.DeclaredError);
    /// <summary>How many layers are approximate (declare an error).</summary>
    public int ApproximateLayers => Layers.Count(l => l.DeclaredError > 0);
    /// <summary>The smallest range slack of an approximate layer (+∞ when none).</summary>
    public double MinRangeSlack => Layers.Count == 0 ? double.PositiveInfinity : Layers.Min(l => l.RangeSlack);

    /// <summary>The first layer outside its domain, or -1.</summary>
    public int FirstViolation => Layers.FirstOrDefault(l => !l.InDomain)?.Layer ?? -1;

    public string Summary()
    {
        if (!PositionsInRange) return $"out of domain: prompt length {PromptLength} exceeds the positional scheme's maximum {MaxPromptLength}";
        if (!InDomain)
        {
            var l = Layers.First(x => !x.InDomain);
            return $"out of domain at layer {l.Layer}: " + (!l.Finite ? "non-finite values"
                : l.RangeSlack < 0 ? $"an input of the approximate layer left its declared range by {-l.RangeSlack:G4}"
                : !double.IsNaN(l.CertifiedMargin) && l.MinMargin >= 0 && !l.Certified
                    ? $"margin {l.MinMargin:G4} not certified in {Precision} (scores' error bound {l.ScoreErrorBound:G3}, certified margin {l.CertifiedMargin:G4}, leakage bound {l.LeakageBound:G3})"
                : $"margin {l.MinMargin:G4}, leakage {l.MaxLeakage:G3}");
        }
        string approx = DeclaredError > 0 ? $"; {ApproximateLayers} approximate layers, each declaring error ≤ {DeclaredError:G3} on its outputs (range slack {MinRangeSlack:G3})" : "";
        return $"in domain: min margin {MinMargin:G4}, max leakage {MaxLeakage:G3}{approx}" + (HasErrorBounds ? $" (certified in {Precision})" : "");
    }
}
