using System.Collections.Concurrent;
using System.Numerics.Tensors;
using System.Text.Json.Nodes;
using MathNet.Numerics.Distributions;
using MorIcl.Construction.Model;
using MorIcl.IO;
using MorIcl.Mixture;
using MorIcl.Numerics;

namespace MorIcl.Training.Constructed;

/// <summary>How a <see cref="ConstructedArchitectureModel"/>'s parameters start.</summary>
public enum ConstructedInitialisation
{
    /// <summary>Every weight N(0, s²) (one seeded stream over the flat vector), every bias 0.</summary>
    Random,
    /// <summary>The construction's weights plus N(0, s²) on every parameter (biases included); s = 0 is the construction itself.</summary>
    Construction,
}

/// <summary>
/// The constructed transformer's architecture as a trainable model (issue 6): the same residual width
/// D, the same embedding (<see cref="Runtime.PromptTokens"/>: x, y, flags, positional digits and their
/// squares, auxiliary tokens), the same layers in order — each attention layer with the same number of
/// heads, each head with the same head dimension and activation (ReLU or linear with the 1/N
/// normalisation over all N tokens, or softmax with the maximum subtracted), each MLP with the same
/// hidden width — and the
/// same read-out (row <see cref="ReadOut.Prediction"/> of the query token).
/// <para>
/// Every weight is dense and trainable: per head Q, K (head_dim × D) and V (D × D), per MLP W1
/// (hidden × D), b1, W2 (D × hidden), b2. V is dense rather than restricted to the rows the
/// construction's V writes: a restricted V would hard-wire the construction's residual layout (which
/// rows each head may write), so a trained model could not find a different use of the stream. The
/// price: V is most of the parameters (D² per head) and its projection, O(N·D²) per head, is the
/// largest part of a pass (d = 2, K = 2, S = 2, T = 1: 108 468 parameters, ≈ 2.5 ms per prompt for
/// forward + backward at n = 10 on one thread; d = 5, K = 2, S = 10, T = 3: 1.86 M parameters,
/// ≈ 0.6 s per prompt at n = 100, unoptimised Debug build).
/// </para>
/// <para>
/// Out of domain: the construction's exactness certificate (margins, softmax leakage, MLP ranges)
/// belongs to its own weights. Once parameters differ from the construction — noise or training — the
/// model has <b>no certificate</b>: nothing guarantees what it computes on inputs unlike its training
/// data (large x, n near the maximum prompt length), and it does not report margins.
/// </para>
/// <para>
/// Arithmetic is double (<see cref="Precision.Double"/>). Passes over prompts run in parallel: a batch
/// is cut into fixed chunks of <see cref="PromptsPerChunk"/> prompts, each chunk's gradient is summed
/// prompt by prompt, and chunk gradients are added in chunk order, so results are bit-identical for
/// any <see cref="MaxDegreeOfParallelism"/>. Workspaces and gradient buffers are pooled; a pass
/// allocates nothing per layer. Calls on one instance must not overlap.
/// </para>
/// </summary>
public sealed class ConstructedArchitectureModel : ITrainableModel
{
    /// <summary>Prompts per chunk of the deterministic reduction (fixed: changing it changes the rounding).</summary>
    public const int PromptsPerChunk = 4;

    private readonly ConstructedArchitecture _arch;
    private readonly ConcurrentBag<PassWorkspace> _workspaces = new();
    private readonly ConcurrentBag<double[]> _gradientBuffers = new();
    private int? _maxDegreeOfParallelism;

    public TransformerModel Template => _arch.Template;
    public ConstructedInitialisation Initialisation { get; }
    public double InitialScale { get; }
    public ModelDescriptor Descriptor { get; }
    public double[] Parameters { get; }
    public IReadOnlyList<(string Name, int Offset, int Length)> Blocks => _arch.Blocks;
    /// <summary>Input dimension d the model takes.</summary>
    public int InputDimension => _arch.Template.Embedding.InputDimension;
    /// <summary>Longest prompt (examples n) the model accepts: the specification's maximum prompt length.</summary>
    public int MaxPromptLength => _arch.Template.Spec.MaxPromptLength;

    /// <summary>Threads used by <see cref="LossAndGradient"/> and the batch prediction (default: <see cref="Numerics.Parallelism.MaxDegree"/>, the process setting); results do not depend on it.</summary>
    public int MaxDegreeOfParallelism
    {
        get => _maxDegreeOfParallelism ?? Numerics.Parallelism.MaxDegree;
        set => _maxDegreeOfParallelism = value >= 1 ? value : throw new SpecificationException($"the degree of parallelism must be at least 1, got {value}");
    }

    /// <summary>A model with the architecture of <paramref name="template"/> and the given parameters (copied).</summary>
    public ConstructedArchitectureModel(TransformerModel template, double[] parameters, ConstructedInitialisation initialisation, double initialScale)
    {
        _arch = new ConstructedArchitecture(template);
        if (parameters.Length != _arch.ParameterCount)
            throw new SpecificationException($"parameter vector has length {parameters.Length}, the constructed architecture has {_arch.ParameterCount} parameters");
        if (!(initialScale >= 0) || double.IsInfinity(initialScale)) throw new SpecificationException($"the initial scale must be a finite number ≥ 0, got {initialScale}");
        Parameters = (double[])parameters.Clone();
        Initialisation = initialisation;
        InitialScale = initialScale;
        Descriptor = new ModelDescriptor("constructed", Configuration(template, initialisation, initialScale), Precision.Double);
    }

    /// <summary>Random initialisation: every weight N(0, <paramref name="scale"/>²) from <paramref name="seed"/>, biases 0.</summary>
    public static ConstructedArchitectureModel Random(TransformerModel template, double scale, int seed) =>
        Create(template, ConstructedInitialisation.Random, scale, seed);

    /// <summary>The construction's weights plus N(0, <paramref name="noise"/>²) on every parameter; noise 0 reproduces the construction.</summary>
    public static ConstructedArchitectureModel FromConstruction(TransformerModel template, double noise, int seed) =>
        Create(template, ConstructedInitialisation.Construction, noise, seed);

    public static ConstructedArchitectureModel Create(TransformerModel template, ConstructedInitialisation initialisation, double scale, int seed)
    {
        if (!(scale >= 0) || double.IsInfinity(scale)) throw new SpecificationException($"the initial scale must be a finite number ≥ 0, got {scale}");
        if (initialisation == ConstructedInitialisation.Random && !(scale > 0)) throw new SpecificationException("random initialisation needs a scale > 0");
        var arch = new ConstructedArchitecture(template);
        // Dense Q, K, V and MLP weights of every layer: refused up front when they cannot be held (MathNet's
        // sampler also overflows past 2²⁸ numbers), instead of an overflow or out-of-memory error later.
        if (arch.ParameterCount > 1 << 28)
            throw new SpecificationException($"the constructed architecture of this model has {arch.ParameterCount} dense parameters, more than the 2^28 that can be trained or probed; use fewer EM iterations S or steps T");
        MemoryBudget.Require(8.0 * arch.ParameterCount * 4, $"the constructed architecture's {arch.ParameterCount} dense parameters (with gradient and Adam's moments)");
        var rng = SeedSequence.Create(seed, 0, 0x43415243);
        double[] p;
        if (initialisation == ConstructedInitialisation.Random)
        {
            p = new double[arch.ParameterCount];
            Normal.Samples(rng, p, 0, scale);
            foreach (var (o, len) in arch.BiasRanges()) Array.Clear(p, o, len);
        }
        else
        {
            p = arch.ConstructedParameters();
            if (scale > 0)
            {
                var noise = new double[p.Length];
                Normal.Samples(rng, noise, 0, scale);
                TensorPrimitives.Add(p, noise, p);
            }
        }
        return new ConstructedArchitectureModel(template, p, initialisation, scale);
    }

    /// <summary>Canonical JSON: the construction's specification (as <see cref="ModelJson"/> writes it), the weight form, the initialisation.</summary>
    private static string Configuration(TransformerModel template, ConstructedInitialisation initialisation, double scale)
    {
        var full = ModelJson.ToJson(template);
        var spec = full["spec"]!;
        full.Remove("spec");
        return new JsonObject
        {
            ["spec"] = spec,
            ["dimension"] = template.Dimension,
            ["valueMatrix"] = "dense",
            ["init"] = new JsonObject { ["kind"] = initialisation == ConstructedInitialisation.Random ? "random" : "construction", ["scale"] = scale },
        }.ToJsonString();
    }

    public double LossAndGradient(IReadOnlyList<Prompt> batch, double[] gradient)
    {
        if (batch.Count == 0) throw new SpecificationException("the batch is empty");
        if (gradient.Length != Parameters.Length) throw new SpecificationException($"gradient has length {gradient.Length}, the model has {Parameters.Length} parameters");
        for (int b = 0; b < batch.Count; b++) Validate(batch[b].Examples, batch[b].Query, b);
        int B = batch.Count, chunks = (B + PromptsPerChunk - 1) / PromptsPerChunk;
        int wave = Math.Min(MaxDegreeOfParallelism, chunks);
        var buffers = new double[wave][];
        for (int w = 0; w < wave; w++) buffers[w] = _gradientBuffers.TryTake(out var g) ? g : new double[Parameters.Length];
        var losses = new double[wave];
        var options = Numerics.Parallelism.Options(MaxDegreeOfParallelism);
        var p = Parameters;
        double scale = 2.0 / B, loss = 0;
        Array.Clear(gradient);
        try
        {
            for (int start = 0; start < chunks; start += wave)
            {
                int count = Math.Min(wave, chunks - start);
                Parallel.For(0, count, options, w =>
                {
                    var g = buffers[w];
                    Array.Clear(g);
                    var ws = RentWorkspace();
                    try
                    {
                        double sum = 0;
                        int first = (start + w) * PromptsPerChunk, end = Math.Min(B, first + PromptsPerChunk);
                        for (int b = first; b < end; b++)
                        {
                            var prompt = batch[b];
                            double r = ConstructedPass.Forward(_arch, p, prompt.Examples, prompt.Query, ws) - prompt.QueryLabel;
                            sum += r * r;
                            ConstructedPass.Backward(_arch, p, prompt.N, scale * r, g, ws);
                        }
                        losses[w] = sum;
                    }
                    finally { _workspaces.Add(ws); }
                });
                for (int w = 0; w < count; w++)
                {
                    TensorPrimitives.Add(gradient, buffers[w], gradient);
                    loss += losses[w];
                }
            }
        }
        finally
        {
            foreach (var g in buffers) _gradientBuffers.Add(g);
        }
        return loss / B;
    }

    public double[] Predict(IReadOnlyList<(RegressionData Examples, double[] Query)> prompts)
    {
        for (int b = 0; b < prompts.Count; b++) Validate(prompts[b].Examples, prompts[b].Query, b);
        var result = new double[prompts.Count];
        var options = Numerics.Parallelism.Options(MaxDegreeOfParallelism);
        Parallel.For(0, prompts.Count, options, b =>
        {
            var ws = RentWorkspace();
            try { result[b] = ConstructedPass.Forward(_arch, Parameters, prompts[b].Examples, prompts[b].Query, ws); }
            finally { _workspaces.Add(ws); }
        });
        return result;
    }

    /// <summary>ŷ for one prompt.</summary>
    public double Predict(RegressionData examples, double[] query) => Predict(new[] { (examples, query) })[0];

    /// <summary>The residual stream before the first layer (index 0) and after every layer l (index l), each N × D token-major, for one prompt.</summary>
    public double[][] ResidualStreams(RegressionData examples, double[] query)
    {
        Validate(examples, query, 0);
        var ws = RentWorkspace();
        try
        {
            ConstructedPass.Forward(_arch, Parameters, examples, query, ws);
            int size = _arch.Template.Embedding.TokenCount(examples.N) * _arch.Dimension;
            return Enumerable.Range(0, _arch.Layers.Length + 1).Select(l => ws.Stream.AsSpan(l * size, size).ToArray()).ToArray();
        }
        finally { _workspaces.Add(ws); }
    }

    /// <summary>∂ŷ/∂x_query: the query's x enters the embedding at the query token's x rows, and the gradient is read there.</summary>
    public double[] InputGradient(RegressionData examples, double[] query)
    {
        Validate(examples, query, 0);
        var ws = RentWorkspace();
        try
        {
            ConstructedPass.Forward(_arch, Parameters, examples, query, ws);
            ConstructedPass.Backward(_arch, Parameters, examples.N, 1.0, null, ws);
            var e = _arch.Template.Embedding;
            int q = examples.N * _arch.Dimension;
            var g = new double[e.InputDimension];
            for (int a = 0; a < g.Length; a++) g[a] = ws.GradOut[q + e.X[a]];
            return g;
        }
        finally { _workspaces.Add(ws); }
    }

    /// <summary>ŷ and a hash of the sign of every ReLU argument (attention scores of ReLU heads, MLP pre-activations), for finite-difference checks.</summary>
    internal double PredictWithPattern(RegressionData examples, double[] query, out ulong pattern)
    {
        Validate(examples, query, 0);
        var ws = RentWorkspace();
        try
        {
            ws.TrackPattern = true;
            double y = ConstructedPass.Forward(_arch, Parameters, examples, query, ws);
            pattern = ws.Pattern;
            return y;
        }
        finally { ws.TrackPattern = false; _workspaces.Add(ws); }
    }

    private PassWorkspace RentWorkspace() => _workspaces.TryTake(out var ws) ? ws : new PassWorkspace();

    private void Validate(RegressionData examples, double[] query, int index)
    {
        int d = InputDimension;
        if (examples.D != d) throw new SpecificationException($"prompt {index}: the model takes d = {d} inputs, the prompt has d = {examples.D}");
        if (query.Length != d) throw new SpecificationException($"prompt {index}: the query has {query.Length} numbers, the model takes d = {d}");
        if (examples.N > MaxPromptLength)
            throw new SpecificationException($"prompt {index} has n = {examples.N} examples, longer than the model's maximum prompt length {MaxPromptLength}");
    }
}
