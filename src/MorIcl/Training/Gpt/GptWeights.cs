using System.Numerics;

namespace MorIcl.Training.Gpt;

/// <summary>One block's parameters in the compute precision, with Q/K/V fused and transposed copies for the backward pass.</summary>
internal sealed class GptLayerWeights<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T[] Ln1Gamma, Ln1Beta, Wqkv, WqkvT, Bqkv, Wo, WoT, Bo, Ln2Gamma, Ln2Beta, W1, W1T, B1, W2, W2T, B2;

    public GptLayerWeights(int d, int f)
    {
        Ln1Gamma = new T[d]; Ln1Beta = new T[d]; Wqkv = new T[d * 3 * d]; WqkvT = new T[3 * d * d]; Bqkv = new T[3 * d];
        Wo = new T[d * d]; WoT = new T[d * d]; Bo = new T[d]; Ln2Gamma = new T[d]; Ln2Beta = new T[d];
        W1 = new T[d * f]; W1T = new T[f * d]; B1 = new T[f]; W2 = new T[f * d]; W2T = new T[d * f]; B2 = new T[d];
    }
}

/// <summary>
/// The parameters converted once per call from the double master vector into T: Wq, Wk, Wv fused into
/// one D×3D matrix (one product computes Q, K and V for all tokens), and every matrix also transposed
/// so that input gradients are plain products dX = dY·Wᵀ.
/// </summary>
internal sealed class GptWeights<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly T[] ReadInW, ReadInB, QueryEmbedding, LnFGamma, LnFBeta, ReadOutW;
    public T ReadOutB;
    public readonly GptLayerWeights<T>[] Layers;
    private readonly GptConfig _config;
    private readonly GptLayout _layout;

    public GptWeights(GptConfig config, GptLayout layout)
    {
        _config = config; _layout = layout;
        int D = config.Width;
        ReadInW = new T[config.TokenWidth * D]; ReadInB = new T[D]; QueryEmbedding = new T[D];
        LnFGamma = new T[D]; LnFBeta = new T[D]; ReadOutW = new T[D];
        Layers = Enumerable.Range(0, config.Layers).Select(_ => new GptLayerWeights<T>(D, config.HiddenWidth)).ToArray();
    }

    public void Load(double[] theta, int maxDegreeOfParallelism = -1)
    {
        int D = _config.Width, F = _config.HiddenWidth;
        var lo = _layout;
        Convert(theta, lo.ReadInW, ReadInW); Convert(theta, lo.ReadInB, ReadInB); Convert(theta, lo.QueryEmbedding, QueryEmbedding);
        Parallel.For(0, Layers.Length, Numerics.Parallelism.Options(maxDegreeOfParallelism), l =>
        {
            var o = lo.Layers[l]; var w = Layers[l];
            Convert(theta, o.Ln1Gamma, w.Ln1Gamma); Convert(theta, o.Ln1Beta, w.Ln1Beta);
            for (int i = 0; i < D; i++)
                for (int j = 0; j < D; j++)
                {
                    T q = T.CreateTruncating(theta[o.Wq + i * D + j]), k = T.CreateTruncating(theta[o.Wk + i * D + j]), v = T.CreateTruncating(theta[o.Wv + i * D + j]);
                    w.Wqkv[i * 3 * D + j] = q; w.Wqkv[i * 3 * D + D + j] = k; w.Wqkv[i * 3 * D + 2 * D + j] = v;
                    w.WqkvT[j * D + i] = q; w.WqkvT[(D + j) * D + i] = k; w.WqkvT[(2 * D + j) * D + i] = v;
                }
            for (int j = 0; j < D; j++)
            {
                w.Bqkv[j] = T.CreateTruncating(theta[o.Bq + j]); w.Bqkv[D + j] = T.CreateTruncating(theta[o.Bk + j]); w.Bqkv[2 * D + j] = T.CreateTruncating(theta[o.Bv + j]);
            }
            ConvertWithTranspose(theta, o.Wo, D, D, w.Wo, w.WoT); Convert(theta, o.Bo, w.Bo);
            Convert(theta, o.Ln2Gamma, w.Ln2Gamma); Convert(theta, o.Ln2Beta, w.Ln2Beta);
            ConvertWithTranspose(theta, o.W1, D, F, w.W1, w.W1T); Convert(theta, o.B1, w.B1);
            ConvertWithTranspose(theta, o.W2, F, D, w.W2, w.W2T); Convert(theta, o.B2, w.B2);
        });
        Convert(theta, lo.LnFGamma, LnFGamma); Convert(theta, lo.LnFBeta, LnFBeta); Convert(theta, lo.ReadOutW, ReadOutW);
        ReadOutB = T.CreateTruncating(theta[lo.ReadOutB]);
    }

    private static void Convert(double[] theta, int offset, T[] dst)
    {
        for (int i = 0; i < dst.Length; i++) dst[i] = T.CreateTruncating(theta[offset + i]);
    }

    private static void ConvertWithTranspose(double[] theta, int offset, int rows, int cols, T[] dst, T[] dstT)
    {
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
            {
                T v = T.CreateTruncating(theta[offset + i * cols + j]);
                dst[i * cols + j] = v; dstT[j * rows + i] = v;
            }
    }
}
