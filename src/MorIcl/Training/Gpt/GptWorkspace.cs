using System.Numerics;

namespace MorIcl.Training.Gpt;

/// <summary>What one block keeps from the forward pass for the backward pass (M = stacked token rows).</summary>
internal sealed class GptLayerActivations<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>LayerNorm 1: normalised rows, 1/σ per row, output (M×D, M, M×D).</summary>
    public T[] Xhat1 = [], Rstd1 = [], A1 = [];
    /// <summary>Q, K, V of every token (M×3D), attention probabilities (per prompt, per head N×N), concatenated head outputs (M×D).</summary>
    public T[] Qkv = [], Probabilities = [], Heads = [];
    /// <summary>LayerNorm 2 (as LayerNorm 1).</summary>
    public T[] Xhat2 = [], Rstd2 = [], A2 = [];
    /// <summary>MLP pre-activation, tanh of the GELU argument, GELU output (M×4D each).</summary>
    public T[] U = [], Tanh = [], G = [];
}

/// <summary>
/// Per-thread buffers for one chunk of prompts, reused across layers and calls (grown only when a
/// chunk has more token rows or attention entries than before): nothing is allocated in the hot loop.
/// </summary>
internal sealed class GptWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly GptConfig _c;
    public int RowCapacity { get; private set; }
    public int AttentionCapacity { get; private set; }
    public int TokenCapacity { get; private set; }

    /// <summary>Prompt p's first row, token count and offset into a layer's probabilities; query row = first + N − 1.</summary>
    public int[] RowStart = new int[GptRunner<T>.ChunkSize + 1], Tokens = new int[GptRunner<T>.ChunkSize], AttentionStart = new int[GptRunner<T>.ChunkSize];
    public int Prompts, Rows;

    /// <summary>Tokens [x; y] (M × (d+1)) and the residual stream (M×D).</summary>
    public T[] X0 = [], H = [];
    public GptLayerActivations<T>[] Layers;
    /// <summary>Final LayerNorm of the query rows (P×D normalised, P rstd), and the model's predictions.</summary>
    public T[] XhatF = [], RstdF = [];
    public double[] Predictions = new double[GptRunner<T>.ChunkSize];

    // backward scratch
    public T[] DH = [], DA = [], DHeads = [], DQkv = [], DU = [], DScores = [], Transposed = [], Row = [];

    public GptWorkspace(GptConfig config)
    {
        _c = config;
        Layers = Enumerable.Range(0, config.Layers).Select(_ => new GptLayerActivations<T>()).ToArray();
    }

    /// <summary>Makes room for M rows, the given number of attention entries per layer and prompts of up to maxTokens tokens.</summary>
    public void Ensure(int rows, int attention, int maxTokens)
    {
        int D = _c.Width, F = _c.HiddenWidth;
        if (rows > RowCapacity)
        {
            RowCapacity = rows;
            X0 = new T[rows * _c.TokenWidth]; H = new T[rows * D];
            foreach (var a in Layers)
            {
                a.Xhat1 = new T[rows * D]; a.Rstd1 = new T[rows]; a.A1 = new T[rows * D];
                a.Qkv = new T[rows * 3 * D]; a.Heads = new T[rows * D];
                a.Xhat2 = new T[rows * D]; a.Rstd2 = new T[rows]; a.A2 = new T[rows * D];
                a.U = new T[rows * F]; a.Tanh = new T[rows * F]; a.G = new T[rows * F];
            }
            DH = new T[rows * D]; DA = new T[rows * D]; DHeads = new T[rows * D]; DQkv = new T[rows * 3 * D]; DU = new T[rows * F];
        }
        if (attention > AttentionCapacity)
        {
            AttentionCapacity = attention;
            foreach (var a in Layers) a.Probabilities = new T[attention];
        }
        if (maxTokens > TokenCapacity)
        {
            TokenCapacity = maxTokens;
            // padded by a vector so the product kernel can read a whole vector past the last column
            DScores = new T[maxTokens * maxTokens + 64]; Transposed = new T[maxTokens * _c.HeadWidth + 64];
        }
        if (XhatF.Length == 0)
        {
            XhatF = new T[GptRunner<T>.ChunkSize * D]; RstdF = new T[GptRunner<T>.ChunkSize];
            Row = new T[Math.Max(D, _c.TokenWidth)];
        }
    }
}
