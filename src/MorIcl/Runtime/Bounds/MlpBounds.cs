using System.Numerics;

namespace MorIcl.Runtime.Bounds;

/// <summary>
/// A token-wise MLP h += W₂ ReLU(W₁h + b₁) + b₂ (docs/math.md §8.3): the hidden pre-activations are a
/// projection with the bias as one more term; ReLU passes each radius through (1-Lipschitz) and zeroes
/// it where the pre-activation is certified ≤ 0; the output is a projection of the hidden enclosure;
/// b₂ (rounded to T, δ = |fl_T(b₂) − b₂|) is one more contribution to its residual rows. Tokens are
/// taken in blocks so the hidden enclosure stays O(H · block).
/// </summary>
internal sealed class MlpBounds<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int Block = 256;
    private readonly Enclosure _z = new(1, 1), _out = new(1, 1);
    private readonly Enclosure.Scratch _scratch = new();
    private readonly double _u = Rounding.Unit<T>(), _eta = Rounding.Underflow<T>(), _limit = Rounding.ExactIntegerLimit<T>();

    public void Run(BoundsModel.Mlp mlp, Enclosure stream, ResidualBounds residual)
    {
        int N = stream.Tokens;
        for (int i0 = 0; i0 < N; i0 += Block)
        {
            int w = Math.Min(Block, N - i0);
            Enclosure.Project(mlp.W1, stream, i0, w, mlp.B1, mlp.B1Delta, _u, _eta, _limit, _z, _scratch);
            Relu(_z);
            Enclosure.Project(mlp.W2, _z, null, null, _u, _eta, _limit, _out, _scratch);
            for (int r = 0; r < mlp.W2.Count; r++)
            {
                var c = _out.CenterRow(r); var p = _out.PassRow(r); var x = _out.ExactRow(r);
                for (int i = 0; i < w; i++) residual.Add(mlp.W2.Output[r], i0 + i, c[i], p[i], x[i]);
            }
            for (int b = 0; b < mlp.BiasRows.Length; b++)
                for (int i = 0; i < w; i++) residual.Add(mlp.BiasRows[b], i0 + i, mlp.Bias[b], mlp.BiasDelta[b], 0);
        }
    }

    /// <summary>ReLU of an enclosure in place: center max(c, 0); a radius r stays where c &gt; 0 and becomes max(0, c + r) where c ≤ 0.</summary>
    private static void Relu(Enclosure z)
    {
        int size = z.Rows * z.Tokens;
        for (int k = 0; k < size; k++)
        {
            double c = z.Center[k];
            if (c > 0 || double.IsNaN(c)) continue;
            z.Pass[k] = Math.Max(0, c + z.Pass[k]);
            z.Exact[k] = Math.Max(0, c + z.Exact[k]);
            z.Center[k] = 0;
        }
    }
}
