using System.Numerics.Tensors;

namespace MorIcl.Runtime.Bounds;

/// <summary>
/// Rows × tokens quantities of one layer as the analysis sees them (feature-major, stride = tokens;
/// docs/math.md §8.2): a center c (a double the analysis computes from the pass's own input) and
/// <list type="bullet">
/// <item>the pass radius p: |pass's value − c| ≤ p (the pass's rounding in this layer);</item>
/// <item>the exact deviation as an affine form: exact-arithmetic value − c = Σ_s G_s σ_s + ε with
/// symbols |σ_s| ≤ 1 (<see cref="ReplicationPlan"/>) and |ε| ≤ x (the remainder).</item>
/// </list>
/// Both include the analysis's own rounding of c. <see cref="Integral"/> marks values known exactly in
/// both (p = 0, no deviation) that are integers, which keeps sums of positional integers exact.
/// G is element-major: the m coefficients of element (r, i) are contiguous.
/// </summary>
internal sealed class Enclosure
{
    public double[] Center = Array.Empty<double>(), Pass = Array.Empty<double>(), Exact = Array.Empty<double>(), G = Array.Empty<double>();
    /// <summary>‖G‖₁ of every element (kept up to date by whoever writes G: <see cref="RefreshNorms"/>).</summary>
    public double[] GNorm = Array.Empty<double>();
    public bool[] Integral = Array.Empty<bool>();
    public int Rows { get; private set; }
    public int Tokens { get; private set; }
    public int Symbols { get; private set; }

    public Enclosure(int rows, int tokens, int symbols) { Reshape(rows, tokens, symbols); }

    /// <summary>Reuses the arrays when they are large enough; clears the coefficients.</summary>
    public void Reshape(int rows, int tokens, int symbols)
    {
        int size = rows * tokens;
        if (Center.Length < size)
        {
            Center = new double[size]; Pass = new double[size]; Exact = new double[size]; Integral = new bool[size]; GNorm = new double[size];
        }
        if (G.Length < size * symbols) G = new double[size * symbols];
        Rows = rows; Tokens = tokens; Symbols = symbols;
        Array.Clear(G, 0, size * symbols);
        Array.Clear(GNorm, 0, size);
    }

    /// <summary>Recomputes ‖G‖₁ of every element.</summary>
    public void RefreshNorms()
    {
        int size = Rows * Tokens;
        if (Symbols == 0) { Array.Clear(GNorm, 0, size); return; }
        for (int k = 0; k < size; k++) GNorm[k] = Rounding.SumOfMagnitudes(G.AsSpan(k * Symbols, Symbols));
    }

    public Span<double> CenterRow(int r) => Center.AsSpan(r * Tokens, Tokens);
    public Span<double> PassRow(int r) => Pass.AsSpan(r * Tokens, Tokens);
    public Span<double> ExactRow(int r) => Exact.AsSpan(r * Tokens, Tokens);
    public Span<double> Coefficients(int r, int i) => G.AsSpan((r * Tokens + i) * Symbols, Symbols);

    /// <summary>The whole bound on |exact − c| of element k: Σ|G| + x.</summary>
    public double Radius(int k) => Exact[k] + GNorm[k];

    /// <summary>
    /// out = M·in (+ a bias) for every token of [first, first + count), with both radii (docs/math.md §8.3).
    /// For output row r and token i, with t terms w_e·in_e that can be non-zero: the pass computes
    /// Σ fl_T(w_e)·în_e in some order with rounding ≤ γ_{t'}(u)·Σ|ŵ_e||în_e| (t' = t − 1 when every
    /// product is exact, else t; any order, FMA or not), plus η·t for underflowing products; its weights
    /// differ by δ_e and its inputs by p_e. So p = γ_{t'}(u) Σ(|w|+δ)(|c|+p) + Σ(|w|+δ)p_e + Σ δ|c| + a,
    /// while the exact deviation is linear: G = Σ w_e G_e, x = Σ|w_e| x_e + a, where a is the analysis's
    /// own rounding γ_{t'}(2^-53)Σ|w||c| (plus γ(2^-53)Σ|w|‖G_e‖₁ for the rounding of the coefficients
    /// themselves). When every term is an integer known exactly and Σ|w·c| ≤ 2^p,
    /// every partial sum is an exact integer in T and in double: p = x = 0.
    /// </summary>
    public static void Project(BoundsModel.Rows m, Enclosure input, int first, int count, double[]? bias, double[]? biasDelta, double u, double eta, double limit, Enclosure output, Scratch s)
    {
        int N = count, stride = input.Tokens, S = input.Symbols;
        output.Reshape(m.Count, N, S);
        s.Ensure(N);
        const double tiny = 8.673617379884035e-19, huge = 1.152921504606847e18;   // 2^-60, 2^60: w·x stays normal
        for (int r = 0; r < m.Count; r++)
        {
            var c = output.CenterRow(r);
            var mag = s.A.AsSpan(0, N); var magD = s.B.AsSpan(0, N); var prop = s.C.AsSpan(0, N); var xprop = s.D.AsSpan(0, N);
            var terms = s.Count.AsSpan(0, N); var inexact = s.Flag.AsSpan(0, N); var integral = s.Flag2.AsSpan(0, N);
            var gsum = s.E.AsSpan(0, N);
            gsum.Clear();
            double b = bias is null ? 0 : bias[m.Output[r]], bd = biasDelta is null ? 0 : biasDelta[m.Output[r]];
            c.Fill(b); mag.Fill(Math.Abs(b) + bd); magD.Fill(Math.Abs(b)); prop.Fill(bd); xprop.Clear();
            terms.Fill(b != 0 ? 1 : 0); inexact.Clear();
            integral.Fill(b == Math.Floor(b) && bd == 0);
            for (int e = m.Start[r]; e < m.Start[r + 1]; e++)
            {
                int col = m.Cols[e];
                double w = m.Values[e], aw = Math.Abs(w), dw = m.Deltas[e], awd = aw + dw;
                bool pow2 = m.PowerOfTwo[e] && dw == 0, intW = m.Integer[e];
                int at = col * stride + first;
                var ic = input.Center.AsSpan(at, N); var ip = input.Pass.AsSpan(at, N); var ix = input.Exact.AsSpan(at, N);
                var iint = input.Integral.AsSpan(at, N);
                for (int i = 0; i < N; i++)
                {
                    double v = ic[i], pv = ip[i], av = Math.Abs(v);
                    if (S > 0)
                    {
                        double norm = input.GNorm[at + i];
                        if (norm > 0)
                        {
                            var gi = input.G.AsSpan((at + i) * S, S);
                            TensorPrimitives.MultiplyAdd(gi, w, output.Coefficients(r, i), output.Coefficients(r, i));
                            gsum[i] += aw * norm;
                        }
                    }
                    if (av + pv + ix[i] == 0) continue;          // an exact zero adds nothing (its coefficients may not be 0)
                    c[i] += w * v;
                    mag[i] += awd * (av + pv);
                    magD[i] += aw * av;
                    prop[i] += awd * pv + dw * av;
                    xprop[i] += aw * ix[i];
                    if (av + pv > 0) { terms[i]++; if (!(pow2 && av - pv >= tiny && av + pv <= huge)) inexact[i] = true; }
                    if (!(intW && iint[i])) integral[i] = false;
                }
            }
            var p = output.PassRow(r); var x = output.ExactRow(r); var oint = output.Integral.AsSpan(r * N, N);
            double gG = Rounding.Gamma(m.Start[r + 1] - m.Start[r] + 1, Rounding.DoubleUnit);   // rounding of the coefficients themselves
            for (int i = 0; i < N; i++)
            {
                bool exactTerms = integral[i] && (S == 0 || TensorPrimitives.MaxMagnitude<double>(output.Coefficients(r, i)) == 0);
                if (exactTerms && mag[i] <= limit)
                {
                    p[i] = 0; x[i] = 0; oint[i] = true;
                    continue;
                }
                int t = terms[i], rounded = t == 0 ? 0 : t - 1 + (inexact[i] ? 1 : 0);
                double a = Rounding.Gamma(rounded, Rounding.DoubleUnit) * magD[i] + (inexact[i] ? double.Epsilon * t : 0);
                p[i] = Rounding.Gamma(rounded, u) * mag[i] + (inexact[i] ? eta * t : 0) + prop[i] + a;
                x[i] = xprop[i] + a + gG * gsum[i];
                oint[i] = false;
            }
        }
        output.RefreshNorms();
    }

    /// <summary>Per-pass scratch rows of the projection loops.</summary>
    internal sealed class Scratch
    {
        public double[] A = Array.Empty<double>(), B = Array.Empty<double>(), C = Array.Empty<double>(), D = Array.Empty<double>(), E = Array.Empty<double>();
        public int[] Count = Array.Empty<int>();
        public bool[] Flag = Array.Empty<bool>(), Flag2 = Array.Empty<bool>();

        public void Ensure(int n)
        {
            if (A.Length >= n) return;
            A = new double[n]; B = new double[n]; C = new double[n]; D = new double[n]; E = new double[n];
            Count = new int[n]; Flag = new bool[n]; Flag2 = new bool[n];
        }
    }
}
