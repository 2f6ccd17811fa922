namespace MorIcl.Training.Gpt;

/// <summary>Offsets of one block's parameters in the flat vector.</summary>
internal readonly record struct GptLayerOffsets(
    int Ln1Gamma, int Ln1Beta, int Wq, int Bq, int Wk, int Bk, int Wv, int Bv, int Wo, int Bo,
    int Ln2Gamma, int Ln2Beta, int W1, int B1, int W2, int B2);

/// <summary>
/// Where each parameter lives in the flat vector θ. Matrices are stored input-major ("row vector"
/// convention of GPT-2's Conv1D): a weight mapping R^m → R^n is m×n row-major, element (i, j) at
/// i·n + j, and a token row h maps to h·W. So "read_in.W" is W_inᵀ ((d+1)×D), and so on.
/// Order: read_in.W, read_in.b, query_embedding, then per block ln1.gamma, ln1.beta, attn.Wq, attn.bq,
/// attn.Wk, attn.bk, attn.Wv, attn.bv, attn.Wo, attn.bo, ln2.gamma, ln2.beta, mlp.W1, mlp.b1, mlp.W2,
/// mlp.b2, then ln_f.gamma, ln_f.beta, read_out.w, read_out.b.
/// </summary>
internal sealed class GptLayout
{
    public int ReadInW { get; }
    public int ReadInB { get; }
    public int QueryEmbedding { get; }
    public GptLayerOffsets[] Layers { get; }
    public int LnFGamma { get; }
    public int LnFBeta { get; }
    public int ReadOutW { get; }
    public int ReadOutB { get; }
    public int Count { get; }
    public IReadOnlyList<(string Name, int Offset, int Length)> Blocks { get; }
    /// <summary>Whether a block holds weights (initialised N(0, s²)); biases and β start at 0, γ at 1.</summary>
    public IReadOnlyList<bool> IsWeight { get; }
    public IReadOnlyList<bool> IsGamma { get; }

    public GptLayout(GptConfig c)
    {
        int D = c.Width, F = c.HiddenWidth, off = 0;
        var blocks = new List<(string, int, int)>();
        var weight = new List<bool>();
        var gamma = new List<bool>();
        int Add(string name, int length, bool isWeight = false, bool isGamma = false)
        {
            blocks.Add((name, off, length)); weight.Add(isWeight); gamma.Add(isGamma);
            int o = off; off += length; return o;
        }
        ReadInW = Add("read_in.W", c.TokenWidth * D, isWeight: true);
        ReadInB = Add("read_in.b", D);
        QueryEmbedding = Add("query_embedding", D, isWeight: true);
        Layers = new GptLayerOffsets[c.Layers];
        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"block{l}.";
            Layers[l] = new GptLayerOffsets(
                Add(p + "ln1.gamma", D, isGamma: true), Add(p + "ln1.beta", D),
                Add(p + "attn.Wq", D * D, true), Add(p + "attn.bq", D),
                Add(p + "attn.Wk", D * D, true), Add(p + "attn.bk", D),
                Add(p + "attn.Wv", D * D, true), Add(p + "attn.bv", D),
                Add(p + "attn.Wo", D * D, true), Add(p + "attn.bo", D),
                Add(p + "ln2.gamma", D, isGamma: true), Add(p + "ln2.beta", D),
                Add(p + "mlp.W1", D * F, true), Add(p + "mlp.b1", F),
                Add(p + "mlp.W2", F * D, true), Add(p + "mlp.b2", D));
        }
        LnFGamma = Add("ln_f.gamma", D, isGamma: true);
        LnFBeta = Add("ln_f.beta", D);
        ReadOutW = Add("read_out.w", D, isWeight: true);
        ReadOutB = Add("read_out.b", 1);
        Count = off;
        Blocks = blocks; IsWeight = weight; IsGamma = gamma;
    }
}
