using MathNet.Numerics.Distributions;
using MorIcl.Mixture;
using MorIcl.Numerics;

namespace MorIcl.Training.Gpt;

/// <summary>
/// A GPT-2-style encoder trained on MoR prompts (Garg et al. 2022 / Bai et al. 2023 harness, adapted):
/// tokens [x_i; y_i] for the examples and [x_q; 0] for the query, linear read-in W_in, b_in, a learned
/// query marker e_q added to the query token (no positional embeddings: the task is permutation
/// invariant), L pre-LayerNorm blocks h ← h + MHA(LN₁(h)), h ← h + MLP(LN₂(h)) with bidirectional
/// softmax attention over all n + 1 tokens (H heads of width D/H, scores scaled by 1/√(D/H)) and a
/// D → 4D → D MLP with GELU (tanh approximation), a final LayerNorm (ε = 1e-5 everywhere), and the
/// read-out ŷ = w_outᵀ LN_f(h_query) + b_out. Gradients are computed by a hand-written backward pass.
/// Initialisation: weights (read-in, e_q, Q/K/V/O, MLP, read-out) N(0, s²) with s = InitScale, biases
/// 0, LayerNorm γ = 1, β = 0; block j of the layout draws from SeedSequence stream (seed, j).
/// Precision.Float computes in float (the double master parameters are converted once per call),
/// Precision.Double in double.
/// </summary>
public sealed class GptModel : ITrainableModel
{
    /// <summary>Prompts per chunk of the deterministic parallel reduction.</summary>
    public const int ChunkSize = GptRunner<float>.ChunkSize;

    private readonly GptLayout _layout;
    private readonly IGptRunner _runner;

    public GptConfig Config { get; }
    public ModelDescriptor Descriptor { get; }
    public double[] Parameters { get; }
    public IReadOnlyList<(string Name, int Offset, int Length)> Blocks => _layout.Blocks;
    /// <summary>Threads used per call (−1: <see cref="Numerics.Parallelism.MaxDegree"/>, the process setting). Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; set; } = -1;

    public GptModel(GptConfig config, int seed, Precision precision = Precision.Float)
    {
        Config = config ?? throw new SpecificationException("the GPT configuration is missing");
        _layout = new GptLayout(config);
        Descriptor = new ModelDescriptor("gpt2", config.ToCanonicalJson(), precision);
        Parameters = new double[_layout.Count];
        _runner = precision switch
        {
            Precision.Float => new GptRunner<float>(config, _layout),
            Precision.Double => new GptRunner<double>(config, _layout),
            _ => throw new SpecificationException($"unknown precision {precision}"),
        };
        Initialise(seed);
    }

    private void Initialise(int seed)
    {
        for (int j = 0; j < _layout.Blocks.Count; j++)
        {
            var (_, offset, length) = _layout.Blocks[j];
            var span = Parameters.AsSpan(offset, length);
            if (_layout.IsWeight[j])
            {
                var rng = SeedSequence.Create(seed, j, salt: 0x475054);
                var draw = new double[length];
                Normal.Samples(rng, draw, 0, Config.InitScale);
                draw.CopyTo(span);
            }
            else span.Fill(_layout.IsGamma[j] ? 1.0 : 0.0);
        }
    }

    /// <summary>The block with this name (e.g. "block0.attn.Wq").</summary>
    public (int Offset, int Length) Block(string name)
    {
        foreach (var b in _layout.Blocks) if (b.Name == name) return (b.Offset, b.Length);
        throw new SpecificationException($"the GPT model has no parameter block '{name}'");
    }

    public double LossAndGradient(IReadOnlyList<Prompt> batch, double[] gradient) =>
        _runner.LossAndGradient(Parameters, batch, gradient, MaxDegreeOfParallelism);

    public double[] Predict(IReadOnlyList<(RegressionData Examples, double[] Query)> prompts) =>
        _runner.Predict(Parameters, prompts, MaxDegreeOfParallelism);

    /// <summary>Per prompt, the residual stream after the read-in (layer 0) and after every block (1 … L): the query token's row and the example tokens' mean.</summary>
    public Probing.StreamReadout[] ResidualStreams(IReadOnlyList<(RegressionData Examples, double[] Query)> prompts) =>
        _runner.ResidualStreams(Parameters, prompts, MaxDegreeOfParallelism);

    /// <summary>∂ŷ/∂x_query for one prompt (the query enters only its own token, through the read-in).</summary>
    public double[] InputGradient(RegressionData examples, double[] query)
    {
        if (examples.D != Config.InputDimension) throw new SpecificationException($"the prompt has dimension d = {examples.D}, the model expects d = {Config.InputDimension}");
        if (query.Length != Config.InputDimension) throw new SpecificationException($"the query has {query.Length} features, the model expects d = {Config.InputDimension}");
        return _runner.InputGradient(Parameters, examples, query);
    }
}
