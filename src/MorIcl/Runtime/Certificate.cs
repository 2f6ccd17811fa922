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
                : $"margin {l.MinMargin:G4}, leakage {l.MaxLeakage:G3}");
        }
        string approx = DeclaredError > 0 ? $"; {ApproximateLayers} approximate layers, each declaring error ≤ {DeclaredError:G3} on its outputs (range slack {MinRangeSlack:G3})" : "";
        return $"in domain: min margin {MinMargin:G4}, max leakage {MaxLeakage:G3}{approx}";
    }
}
