using System.Numerics;
using System.Numerics.Tensors;

namespace MorIcl.Runtime.Bounds;

/// <summary>
/// A token-wise MLP h += W₂ ReLU(W₁h + b₁) + b₂ (docs/math.md §8.3). The hidden pre-activations z are a
/// projection with the bias as one more term. The pass side: ReLU passes each radius through
/// (1-Lipschitz) and zeroes it where z is certified ≤ 0; the output is a projection of the hidden
/// enclosure; b₂ (rounded to T) is one more contribution. The exact side: on a token where every
/// unit's sign is certain the MLP is affine with Jacobian J = W₂·D·W₁ (D = the active units), so the
/// deviation of h + out is (I + J)·dev(h) exactly — kept as an affine form, and with the remainder of
/// row r entering as |1 + J_rr|·x_r + Σ_{c≠r} |J_rc|·x_c (a reset, J_rr = −1, stays exact); a unit of
/// uncertain sign adds |W₂_ru|·(its ReLU's deviation bound) instead, except in a linear pair
/// (<see cref="LinearPairs"/>, docs/math.md §8.11), whose exact side stays linear. Tokens are taken in blocks.
/// </summary>
internal sealed class MlpBounds<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int Block = 256;
    private readonly Enclosure _z = new(1, 1, 0), _relu = new(1, 1, 0), _out = new(1, 1, 0);
    private readonly Enclosure.Scratch _scratch = new();
    private readonly double _u, _eta = Rounding.Underflow<T>(), _limit = Rounding.ExactIntegerLimit<T>();
    private double[] _j = Array.Empty<double>(), _jAbs = Array.Empty<double>(), _zR = Array.Empty<double>(), _an = Array.Empty<double>();
    private bool[] _touched = Array.Empty<bool>();
    private int[] _cols = Array.Empty<int>();
    private byte[] _state = Array.Empty<byte>();   // per unit: 0 inactive (certain), 1 active (certain), 2 uncertain

    public MlpBounds(double unitRoundoff) { _u = unitRoundoff; }

    public void Run(BoundsModel.Mlp mlp, Enclosure stream, ResidualBounds residual)
    {
        int N = stream.Tokens, D = stream.Rows, S = stream.Symbols, H = mlp.W1.Count;
        if (_j.Length < D) { _j = new double[D]; _jAbs = new double[D]; _touched = new bool[D]; _cols = new int[D]; }
        // Tokens in blocks whose hidden enclosures (H units × block × S symbols) stay within ~32 MB each:
        // the log interpolant's ~2 500 units with ~70 symbols took 6 GB at 256 tokens per block.
        int block = Math.Clamp((1 << 22) / Math.Max(1, H * Math.Max(1, S)), 1, Block);
        for (int i0 = 0; i0 < N; i0 += block)
        {
            int w = Math.Min(block, N - i0);
            Enclosure.Project(mlp.W1, stream, i0, w, mlp.B1, mlp.B1Delta, _u, _eta, _limit, _z, _scratch);
            Classify(_z, mlp.PairLeader);
            Relu(_z, _relu);
            Enclosure.Project(mlp.W2, _relu, 0, w, null, null, _u, _eta, _limit, _out, _scratch);
            for (int r = 0; r < mlp.W2.Count; r++)
            {
                var c = _out.CenterRow(r); var p = _out.PassRow(r);
                for (int i = 0; i < w; i++)
                {
                    var (exact, self) = ExactRemainder(mlp, stream, r, i0 + i, i);
                    residual.Add(mlp.W2.Output[r], i0 + i, c[i], p[i], exact, S == 0 ? ReadOnlySpan<double>.Empty : _out.Coefficients(r, i), self);
                }
            }
            for (int b = 0; b < mlp.BiasRows.Length; b++)
                for (int i = 0; i < w; i++) residual.Add(mlp.BiasRows[b], i0 + i, mlp.Bias[b], mlp.BiasDelta[b], 0, ReadOnlySpan<double>.Empty);
        }
    }

    /// <summary>
    /// Each unit's certain sign in exact arithmetic (from its whole radius), and the analysis's own rounding
    /// of z̄. A linear pair (<see cref="LinearPairs"/>) of uncertain sign is, on its exact side, its leader
    /// active (state 1) and its follower contributing nothing (state 0): W₂ᵤReLU(z) + W₂ᵤ₊₁ReLU(−z) = W₂ᵤz.
    /// </summary>
    private void Classify(Enclosure z, bool[] pairLeader)
    {
        int size = z.Rows * z.Tokens, T = z.Tokens;
        if (_state.Length < size) { _state = new byte[size]; _zR = new double[size]; _an = new double[size]; }
        for (int k = 0; k < size; k++)
        {
            double c = z.Center[k], R = z.Radius(k);
            _zR[k] = R;
            _state[k] = double.IsNaN(c) ? (byte)2 : c - R > 0 ? (byte)1 : c + R <= 0 ? (byte)0 : (byte)2;
        }
        for (int u = 0; u < pairLeader.Length; u++)
        {
            if (!pairLeader[u]) continue;
            for (int i = 0; i < T; i++)
            {
                int k = u * T + i, f = k + T;
                if (_state[k] != 2 && _state[f] != 2) continue;
                if (!(z.Center[f] == -z.Center[k])) continue;   // the centers' sum must be W₂ᵤ·z̄ (NaN: no)
                _state[k] = 1; _state[f] = 0;
            }
        }
    }

    /// <summary>ReLU of an enclosure: center max(c, 0); a radius r stays where c &gt; 0 and becomes max(0, c + r) where c ≤ 0; the affine form survives on certainly active units (and linear pairs' leaders) only.</summary>
    private void Relu(Enclosure z, Enclosure relu)
    {
        int S = z.Symbols;
        relu.Reshape(z.Rows, z.Tokens, S);
        int size = z.Rows * z.Tokens;
        for (int k = 0; k < size; k++)
        {
            double c = z.Center[k];
            relu.Integral[k] = z.Integral[k];
            bool positive = c > 0 || double.IsNaN(c);
            // The pass side by the center's sign; the exact side by the unit's state (a pair's leader is
            // linear and its follower silent even where c has the other sign, see Classify).
            relu.Center[k] = positive ? c : 0;
            relu.Pass[k] = positive ? z.Pass[k] : Math.Max(0, c + z.Pass[k]);
            relu.Exact[k] = _state[k] switch { 1 => z.Exact[k], 0 => 0, _ => positive ? _zR[k] : Math.Max(0, c + _zR[k]) };
            if (_state[k] == 1 && S > 0) { z.G.AsSpan(k * S, S).CopyTo(relu.G.AsSpan(k * S, S)); relu.GNorm[k] = z.GNorm[k]; }
        }
    }

    /// <summary>
    /// The exact remainder of output row r (block row) at token i, without the row's own input remainder,
    /// and the coefficient J_rr of that input (so the residual adds |1 + J_rr|·x_r).
    /// </summary>
    private (double Exact, double Self) ExactRemainder(BoundsModel.Mlp mlp, Enclosure stream, int r, int token, int i)
    {
        int N = stream.Tokens, row = mlp.W2.Output[r], touched = 0, S = stream.Symbols;
        double exact = 0, centers = 0, norms = 0;
        for (int e = mlp.W2.Start[r]; e < mlp.W2.Start[r + 1]; e++)
        {
            int u = mlp.W2.Cols[e], k = u * _z.Tokens + i;
            double w2 = mlp.W2.Values[e], aw2 = Math.Abs(w2);
            centers += aw2 * _relu.Center[k];
            norms += aw2 * _relu.GNorm[k];
            if (_state[k] == 0) continue;
            if (_state[k] == 2) { exact += aw2 * _relu.Exact[k]; continue; }
            // Active: w2 · (W1_u · dev(h)) through J, plus w2 · the analysis's own rounding in z̄_u.
            exact += aw2 * Math.Max(0, _z.Exact[k] - Linear(mlp, u, stream, token));
            for (int q = mlp.W1.Start[u]; q < mlp.W1.Start[u + 1]; q++)
            {
                int c = mlp.W1.Cols[q];
                if (!_touched[c]) { _touched[c] = true; _j[c] = 0; _jAbs[c] = 0; _cols[touched++] = c; }
                _j[c] += w2 * mlp.W1.Values[q];
                _jAbs[c] += aw2 * Math.Abs(mlp.W1.Values[q]);
            }
        }
        int terms = mlp.W2.Start[r + 1] - mlp.W2.Start[r];
        double gJ = Rounding.Gamma(terms + 2, Rounding.DoubleUnit), self = 0;
        for (int t = 0; t < touched; t++)
        {
            int c = _cols[t];
            _touched[c] = false;
            double x = stream.Exact[c * N + token];
            exact += gJ * _jAbs[c] * x;               // J's own rounding
            if (c == row) self = _j[c];
            else exact += Math.Abs(_j[c]) * x;
        }
        // The analysis's rounding of the output's center and coefficients (sums over the units).
        exact += Rounding.Gamma(terms, Rounding.DoubleUnit) * centers + Rounding.Gamma(terms + 1, Rounding.DoubleUnit) * norms;
        return (exact * (1 + 4 * Rounding.DoubleUnit), self);
    }

    /// <summary>Σ_c |W1_uc|·x_c as <see cref="Enclosure.Project(BoundsModel.Rows, Enclosure, int, int, double[], double[], double, double, double, Enclosure, Enclosure.Scratch)"/> sums it: the propagated part of z̄_u's remainder (the rest is rounding).</summary>
    private static double Linear(BoundsModel.Mlp mlp, int u, Enclosure stream, int token)
    {
        double s = 0;
        for (int q = mlp.W1.Start[u]; q < mlp.W1.Start[u + 1]; q++) s += Math.Abs(mlp.W1.Values[q]) * stream.Exact[mlp.W1.Cols[q] * stream.Tokens + token];
        return s * (1 - 4 * Rounding.DoubleUnit);
    }
}
