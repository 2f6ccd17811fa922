namespace MorIcl.Runtime;

/// <summary>
/// What one layer saw in one forward pass. Margin: for ReLU heads the smallest −score over
/// non-admitted pairs (exact when ≥ 0); for softmax heads the smallest gap between the best admitted
/// and the best non-admitted score. Leakage: the largest softmax weight (summed per query) that fell
/// on non-admitted keys. MLP layers and ReLU heads over all tokens have no margin (+∞) and no leakage.
/// </summary>
public sealed record LayerCertificate(int Layer, double MinMargin, double MaxLeakage, bool InDomain, bool Finite);

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

    /// <summary>The first layer outside its domain, or -1.</summary>
    public int FirstViolation => Layers.FirstOrDefault(l => !l.InDomain)?.Layer ?? -1;

    public string Summary()
    {
        if (!PositionsInRange) return $"out of domain: prompt length {PromptLength} exceeds the positional scheme's maximum {MaxPromptLength}";
        if (!InDomain)
        {
            var l = Layers.First(x => !x.InDomain);
            return $"out of domain at layer {l.Layer}: " + (!l.Finite ? "non-finite values" : $"margin {l.MinMargin:G4}, leakage {l.MaxLeakage:G3}");
        }
        return $"in domain: min margin {MinMargin:G4}, max leakage {MaxLeakage:G3}";
    }
}
