using MorIcl.Construction.Model;
using MorIcl.Mixture;
using MorIcl.Runtime;
using MorIcl.Training;
using MorIcl.Training.Constructed;
using MorIcl.Training.Gpt;

namespace MorIcl.Probing;

/// <summary>
/// What a probe reads from one prompt (docs/math.md §11): for every read point l (0 = the embedding,
/// l = after layer or block l), the residual stream at the query token and its mean over the example
/// tokens.
/// </summary>
public sealed record StreamReadout(double[][] Query, double[][] ExampleMean);

/// <summary>A model whose residual stream can be read at every layer.</summary>
public interface IResidualStreams
{
    /// <summary>Names of the read points: "embedding", then one per layer.</summary>
    IReadOnlyList<string> Points { get; }
    /// <summary>Width D of the residual stream.</summary>
    int Width { get; }
    StreamReadout[] Read(IReadOnlyList<Prompt> prompts);
}

/// <summary>Shared reduction of token-major streams (N × D per layer) to the query row and the example mean.</summary>
internal static class StreamReduction
{
    public static StreamReadout Reduce(IReadOnlyList<double[]> layers, int n, int width)
    {
        var query = new double[layers.Count][];
        var mean = new double[layers.Count][];
        for (int l = 0; l < layers.Count; l++)
        {
            var h = layers[l];
            query[l] = h.AsSpan(n * width, width).ToArray();
            var m = new double[width];
            for (int i = 0; i < n; i++)
                for (int c = 0; c < width; c++) m[c] += h[i * width + c];
            for (int c = 0; c < width; c++) m[c] /= n;
            mean[l] = m;
        }
        return new StreamReadout(query, mean);
    }

    public static string[] LayerNames(TransformerModel model) =>
        new[] { "embedding" }.Concat(model.Layers.Select((l, i) =>
        {
            var p = l.Provenance;
            string where = p.EmIteration > 0 ? $" s{p.EmIteration}" + (p.InnerStep > 0 ? $" t{p.InnerStep}" : "") : "";
            return $"{p.Operator}{where}";
        })).ToArray();
}

/// <summary>A constructed (or hand-built) transformer run by the fast executor in double, with its trace.</summary>
public sealed class ExecutorStreams(TransformerModel model) : IResidualStreams
{
    private readonly ModelExecutor<double> _executor = new(model);
    public TransformerModel Model => model;
    public IReadOnlyList<string> Points { get; } = StreamReduction.LayerNames(model);
    public int Width => model.Dimension;

    public StreamReadout[] Read(IReadOnlyList<Prompt> prompts)
    {
        var r = new StreamReadout[prompts.Count];
        Parallel.For(0, prompts.Count, Numerics.Parallelism.Options(), i =>
        {
            var p = prompts[i];
            var trace = _executor.Forward(p.Examples, p.Query, trace: true).Trace!;
            r[i] = StreamReduction.Reduce(trace, p.N, model.Dimension);
        });
        return r;
    }
}

/// <summary>The constructed architecture with dense trainable weights (a "constructed" run, or an untrained control).</summary>
public sealed class ConstructedArchitectureStreams(ConstructedArchitectureModel model) : IResidualStreams
{
    public IReadOnlyList<string> Points { get; } = StreamReduction.LayerNames(model.Template);
    public int Width => model.Template.Dimension;

    public StreamReadout[] Read(IReadOnlyList<Prompt> prompts)
    {
        var r = new StreamReadout[prompts.Count];
        Parallel.For(0, prompts.Count, Numerics.Parallelism.Options(), i => r[i] = StreamReduction.Reduce(model.ResidualStreams(prompts[i].Examples, prompts[i].Query), prompts[i].N, Width));
        return r;
    }
}

/// <summary>The GPT-2-style encoder: read after the read-in and after every block.</summary>
public sealed class GptStreams(GptModel model) : IResidualStreams
{
    public IReadOnlyList<string> Points { get; } = new[] { "embedding" }.Concat(Enumerable.Range(1, model.Config.Layers).Select(l => $"block {l}")).ToArray();
    public int Width => model.Config.Width;
    public StreamReadout[] Read(IReadOnlyList<Prompt> prompts) => model.ResidualStreams(prompts.Select(p => (p.Examples, p.Query)).ToArray());
}

public static class ResidualStreamsOf
{
    /// <summary>The stream reader for a trainable model of either family.</summary>
    public static IResidualStreams Trainable(ITrainableModel model) => model switch
    {
        GptModel g => new GptStreams(g),
        ConstructedArchitectureModel c => new ConstructedArchitectureStreams(c),
        _ => throw new SpecificationException($"the residual stream of a {model.Descriptor.Family} model cannot be read"),
    };
}
