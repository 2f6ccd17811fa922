namespace MorIcl.Runtime.Bounds;

/// <summary>
/// Rows × tokens quantities of one layer as the analysis sees them (feature-major, stride = tokens):
/// a center c (a double the analysis computes from the pass's own input), and two radii —
/// <see cref="Pass"/> p with |pass's value − c| ≤ p, and <see cref="Exact"/> x with
/// |exact-arithmetic value − c| ≤ x (docs/math.md §8.2). Both radii include the analysis's own rounding
/// of c. <see cref="Integral"/> marks values known exactly in both (p = x = 0) that are integers,
/// which keeps sums of positional integers exact.
/// </summary>
internal sealed class Enclosure
{
    public double[] Center, Pass, Exact;
    public bool[] Integral;
    public int Rows { get; private set; }
    public int Tokens { get; private set; }

    public Enclosure(int rows, int tokens)
    {
        Center = new double[rows * tokens]; Pass = new double[rows * tokens]; Exact = new double[rows * tokens]; Integral = new bool[rows * tokens];
        Rows = rows; Tokens = tokens;
    }

    /// <summary>Reuses the arrays when they are large enough.</summary>
    public void Reshape(int rows, int tokens)
    {
        int size = rows * tokens;
        if (Center.Length < size)
        {
            Center = new double[size]; Pass = new double[size]; Exact = new double[size]; Integral = new bool[size];
        }
        Rows = rows; Tokens = tokens;
    }

    public Span<double> CenterRow(int r) => Center.AsSpan(r * Tokens, Tokens);
    public Span<double> PassRow(int r) => Pass.AsSpan(r * Tokens, Tokens);
    public Span<double> ExactRow(int r) => Exact.AsSpan(r * Tokens, Tokens);

    /// <summary>
    /// out = M·in for every token, with both radii (docs/math.md §8.3). For output row r and token i, with
    /// t terms w_e·in_e that can be non-zero: the pass computes Σ fl_T(w_e)·in_e in some order with
    /// rounding ≤ γ_{t'}(u)·Σ|ŵ_e||în_e| (t' = t − 1 when every product is exact, else t; any order,
    /// FMA or not), plus η·t for underflowing products; its weights differ by δ_e; its inputs by p_e.
    /// So p = γ_{t'}(u) Σ(|w|+δ)(|c|+p) + Σ(|w|+δ)p_e + Σ δ|c| + a and x = Σ|w|·x_e + a, where a is
    /// the analysis's own rounding γ_{t'}(2^-53) Σ|w||c| + η_d·t. When every term is an integer known
    /// exactly and Σ|w·c| ≤ 2^p, every partial sum is an exact integer in T and in double: p = x = 0.
    /// A constant term (an MLP bias) joins the sum as one more term.
    /// </summary>
    public static void Project(BoundsModel.Rows m, Enclosure input, double[]? bias, double[]? biasDelta, double u, double eta, double limit, Enclosure output, Scratch s)
        => Project(m, input, 0, input.Tokens, bias, biasDelta, u, eta, limit, output, s);

    /// <summary><see cref="Project(BoundsModel.Rows, Enclosure, double[], double[], double, double, double, Enclosure, Scratch)"/> for tokens [first, first + count) of the input.</summary>
    public static void Project(BoundsModel.Rows m, Enclosure input, int first, int count, double[]? bias, double[]? biasDelta, double u, double eta, double limit, Enclosure output, Scratch s)
    {
        int N = count, stride = input.Tokens;
        output.Reshape(m.Count, N);
        s.Ensure(N);
        for (int r = 0; r < m.Count; r++)
        {
            var c = output.CenterRow(r);
            var mag = s.A.AsSpan(0, N); var magD = s.B.AsSpan(0, N); var prop = s.C.AsSpan(0, N); var xprop = s.D.AsSpan(0, N);
            var terms = s.Count.AsSpan(0, N); var inexact = s.Flag.AsSpan(0, N); var integral = s.Flag2.AsSpan(0, N);
            double b = bias is null ? 0 : bias[m.Output[r]], bd = biasDelta is null ? 0 : biasDelta[m.Output[r]];
            c.Fill(b); mag.Fill(Math.Abs(b) + bd); magD.Fill(Math.Abs(b)); prop.Fill(bd); xprop.Clear();
            terms.Fill(b != 0 ? 1 : 0); inexact.Clear();
            integral.Fill(b == Math.Floor(b) && bd == 0);
            for (int e = m.Start[r]; e < m.Start[r + 1]; e++)
            {
                int col = m.Cols[e];
                double w = m.Values[e], aw = Math.Abs(w), dw = m.Deltas[e], awd = aw + dw;
                bool pow2 = m.PowerOfTwo[e] && dw == 0, intW = m.Integer[e];
                const double tiny = 8.673617379884035e-19, huge = 1.152921504606847e18;   // 2^-60, 2^60: w·x stays normal
                int at = col * stride + first;
                var ic = input.Center.AsSpan(at, N); var ip = input.Pass.AsSpan(at, N); var ix = input.Exact.AsSpan(at, N);
                var iint = input.Integral.AsSpan(at, N);
                for (int i = 0; i < N; i++)
                {
                    double v = ic[i], pv = ip[i], av = Math.Abs(v);
                    if (av + pv + ix[i] == 0) continue;          // an exact zero adds nothing
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
            for (int i = 0; i < N; i++)
            {
                if (integral[i] && mag[i] <= limit)
                {
                    p[i] = 0; x[i] = 0; oint[i] = true;
                    continue;
                }
                int t = terms[i], rounded = t == 0 ? 0 : t - 1 + (inexact[i] ? 1 : 0);
                double a = Rounding.Gamma(rounded, Rounding.DoubleUnit) * magD[i] + (inexact[i] ? double.Epsilon * t : 0);
                p[i] = Rounding.Gamma(rounded, u) * mag[i] + (inexact[i] ? eta * t : 0) + prop[i] + a;
                x[i] = xprop[i] + a;
                oint[i] = false;
            }
        }
    }

    /// <summary>Per-pass scratch rows of the projection and score loops.</summary>
    internal sealed class Scratch
    {
        public double[] A = Array.Empty<double>(), B = Array.Empty<double>(), C = Array.Empty<double>(), D = Array.Empty<double>();
        public int[] Count = Array.Empty<int>();
        public bool[] Flag = Array.Empty<bool>(), Flag2 = Array.Empty<bool>();

        public void Ensure(int n)
        {
            if (A.Length >= n) return;
            A = new double[n]; B = new double[n]; C = new double[n]; D = new double[n];
            Count = new int[n]; Flag = new bool[n]; Flag2 = new bool[n];
        }
    }
}
