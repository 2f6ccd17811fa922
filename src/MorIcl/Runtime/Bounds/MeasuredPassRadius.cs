namespace MorIcl.Runtime.Bounds;

/// <summary>
/// The pass radius of a layer's outputs measured a posteriori (docs/math.md §8.9, and for every layer §8.10). For an
/// element e written by the layer, H − Ĥ = (H − c̃) + (c̃ − Ĥ) with c̃ = fl(h + Σ_m c̄_m) the analysis's
/// center: |H − c̃ − Σ G σ| ≤ rest (the exact remainder of <see cref="ResidualBounds.Commit"/> plus
/// γ_{k+1}(2⁻⁵³)(|h| + Σ|c̄_m|) for c̃'s own rounding), and c̃ − Ĥ is known once the pass has written Ĥ:
/// the next layer's input. So X_e ≤ (|c̃ − Ĥ_e| + rest)·(1 + 2⁻⁵²)² replaces the a-priori
/// γ_t(u)·Σ|terms| + commit rounding when it is smaller. Nothing about the kernels' order is assumed.
/// </summary>
internal sealed class MeasuredPassRadius
{
    private int[] _element = Array.Empty<int>();
    private double[] _center = Array.Empty<double>(), _rest = Array.Empty<double>();
    private int _count;
    private readonly bool _withRemainder;

    /// <param name="withRemainder">false only in the test that shows a bound without |H − c̃| is rejected.</param>
    public MeasuredPassRadius(bool withRemainder = true) { _withRemainder = withRemainder; }

    public void Clear() => _count = 0;

    /// <summary>Element e's center c̃ and the bound <paramref name="rest"/> on |H − c̃ − Σ G σ|.</summary>
    public void Note(int element, double center, double rest)
    {
        if (_count == _element.Length)
        {
            int size = Math.Max(16, 2 * _count);
            Array.Resize(ref _element, size); Array.Resize(ref _center, size); Array.Resize(ref _rest, size);
        }
        _element[_count] = element; _center[_count] = center; _rest[_count] = rest; _count++;
    }

    /// <summary>At the next layer's input (stream centers = Ĥ): each noted remainder becomes the measured one where smaller (NaN keeps the a-priori bound).</summary>
    public void Apply(Enclosure stream)
    {
        const double pad = 1 + 4 * Rounding.DoubleUnit;   // |fl(c̃ − Ĥ)| and the one addition
        for (int j = 0; j < _count; j++)
        {
            int e = _element[j];
            double measured = (Math.Abs(_center[j] - stream.Center[e]) + (_withRemainder ? _rest[j] : 0)) * pad;
            if (measured < stream.Exact[e]) stream.Exact[e] = measured;
        }
        _count = 0;
    }
}
