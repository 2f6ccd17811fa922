using System.Collections.Concurrent;
using System.Numerics;
using MorIcl.Mixture;

namespace MorIcl.Training.Gpt;

/// <summary>What <see cref="GptModel"/> needs from a compute precision.</summary>
internal interface IGptRunner
{
    double LossAndGradient(double[] theta, IReadOnlyList<Prompt> batch, double[] gradient, int maxDegreeOfParallelism);
    double[] Predict(double[] theta, IReadOnlyList<(RegressionData Examples, double[] Query)> prompts, int maxDegreeOfParallelism);
    double[] InputGradient(double[] theta, RegressionData examples, double[] query);
    Probing.StreamReadout[] ResidualStreams(double[] theta, IReadOnlyList<(RegressionData Examples, double[] Query)> prompts, int maxDegreeOfParallelism);
}

/// <summary>
/// Runs the GPT encoder in precision T over a batch: the parameters are converted once per call, the
/// batch is split into fixed chunks of <see cref="ChunkSize"/> prompts processed in parallel (each on a
/// pooled per-thread workspace), each chunk's gradient is summed sequentially within the chunk, and the
/// chunk gradients are added in chunk order in double — so the result is bit-identical for any number
/// of threads.
/// </summary>
internal sealed class GptRunner<T> : IGptRunner where T : unmanaged, IFloatingPointIeee754<T>
{
    public const int ChunkSize = 8;
    private readonly GptConfig _config;
    private readonly GptLayout _layout;
    private readonly GptWeights<T> _weights;
    private readonly ConcurrentBag<GptWorkspace<T>> _workspaces = new();
    private readonly List<T[]> _chunkGradients = new();
    private readonly object _gate = new();

    public GptRunner(GptConfig config, GptLayout layout)
    {
        _config = config; _layout = layout;
        _weights = new GptWeights<T>(config, layout);
    }

    private GptWorkspace<T> Rent() => _workspaces.TryTake(out var ws) ? ws : new GptWorkspace<T>(_config);
    private void Return(GptWorkspace<T> ws) => _workspaces.Add(ws);

    public double LossAndGradient(double[] theta, IReadOnlyList<Prompt> batch, double[] gradient, int maxDegreeOfParallelism)
    {
        if (gradient.Length != _layout.Count) throw new SpecificationException($"gradient has length {gradient.Length}, the model has {_layout.Count} parameters");
        int b = batch.Count;
        if (b == 0) throw new SpecificationException("the batch is empty");
        lock (_gate)
        {
            _weights.Load(theta, maxDegreeOfParallelism);
            int chunks = (b + ChunkSize - 1) / ChunkSize;
            while (_chunkGradients.Count < chunks) _chunkGradients.Add(new T[_layout.Count]);
            var losses = new double[chunks];
            var input = new (RegressionData, double[])[b];
            for (int i = 0; i < b; i++) input[i] = (batch[i].Examples, batch[i].Query);
            GptPass<T>.Validate(_config, input);
            Parallel.For(0, chunks, Numerics.Parallelism.Options(maxDegreeOfParallelism), ch =>
            {
                int start = ch * ChunkSize, count = Math.Min(ChunkSize, b - start);
                var ws = Rent();
                try
                {
                    GptPass<T>.Forward(_config, _weights, ws, input.AsSpan(start, count));
                    Span<double> dy = stackalloc double[ChunkSize];
                    double loss = 0;
                    for (int p = 0; p < count; p++)
                    {
                        double r = ws.Predictions[p] - batch[start + p].QueryLabel;
                        loss += r * r;
                        dy[p] = 2 * r / b;
                    }
                    losses[ch] = loss;
                    var g = _chunkGradients[ch];
                    Array.Clear(g);
                    GptPass<T>.Backward(_config, _layout, _weights, ws, dy.Slice(0, count), g, Span<double>.Empty);
                }
                finally { Return(ws); }
            });
            double total = 0;
            for (int ch = 0; ch < chunks; ch++) total += losses[ch];
            // Chunk gradients added in chunk order for every element; ranges of elements in parallel.
            const int Range = 1 << 15;
            Parallel.For(0, (gradient.Length + Range - 1) / Range, Numerics.Parallelism.Options(maxDegreeOfParallelism), r =>
            {
                int lo = r * Range, hi = Math.Min(gradient.Length, lo + Range);
                for (int i = lo; i < hi; i++) gradient[i] = double.CreateTruncating(_chunkGradients[0][i]);
                for (int ch = 1; ch < chunks; ch++)
                {
                    var g = _chunkGradients[ch];
                    for (int i = lo; i < hi; i++) gradient[i] += double.CreateTruncating(g[i]);
                }
            });
            return total / b;
        }
    }

    public double[] Predict(double[] theta, IReadOnlyList<(RegressionData Examples, double[] Query)> prompts, int maxDegreeOfParallelism)
    {
        var result = new double[prompts.Count];
        ForwardChunks(theta, prompts, maxDegreeOfParallelism, (ws, start, count) =>
        {
            GptPass<T>.Forward(_config, _weights, ws, prompts.Skip(start).Take(count).ToArray());
            for (int p = 0; p < count; p++) result[start + p] = ws.Predictions[p];
        });
        return result;
    }

    /// <summary>Per prompt, the residual stream after the read-in and after every block: the query token's row and the mean of the example tokens' rows.</summary>
    public Probing.StreamReadout[] ResidualStreams(double[] theta, IReadOnlyList<(RegressionData Examples, double[] Query)> prompts, int maxDegreeOfParallelism)
    {
        int D = _config.Width, L = _config.Layers;
        var result = new Probing.StreamReadout[prompts.Count];
        ForwardChunks(theta, prompts, maxDegreeOfParallelism, (ws, start, count) =>
        {
            for (int p = 0; p < count; p++) result[start + p] = new Probing.StreamReadout(new double[L + 1][], new double[L + 1][]);
            GptPass<T>.Forward(_config, _weights, ws, prompts.Skip(start).Take(count).ToArray(), l =>
            {
                for (int p = 0; p < count; p++)
                {
                    int r0 = ws.RowStart[p], n = ws.Tokens[p] - 1;
                    var q = new double[D];
                    var mean = new double[D];
                    for (int c = 0; c < D; c++) q[c] = double.CreateTruncating(ws.H[(r0 + n) * D + c]);
                    for (int i = 0; i < n; i++)
                        for (int c = 0; c < D; c++) mean[c] += double.CreateTruncating(ws.H[(r0 + i) * D + c]);
                    for (int c = 0; c < D; c++) mean[c] /= n;
                    result[start + p].Query[l] = q;
                    result[start + p].ExampleMean[l] = mean;
                }
            });
        });
        return result;
    }

    /// <summary>Loads θ, checks the prompts, and runs <paramref name="chunk"/>(workspace, start, count) on each chunk of <see cref="ChunkSize"/> prompts in parallel.</summary>
    private void ForwardChunks(double[] theta, IReadOnlyList<(RegressionData Examples, double[] Query)> prompts, int maxDegreeOfParallelism, Action<GptWorkspace<T>, int, int> chunk)
    {
        int b = prompts.Count;
        if (b == 0) return;
        lock (_gate)
        {
            _weights.Load(theta, maxDegreeOfParallelism);
            GptPass<T>.Validate(_config, prompts);
            int chunks = (b + ChunkSize - 1) / ChunkSize;
            Parallel.For(0, chunks, Numerics.Parallelism.Options(maxDegreeOfParallelism), ch =>
            {
                int start = ch * ChunkSize;
                var ws = Rent();
                try { chunk(ws, start, Math.Min(ChunkSize, b - start)); }
                finally { Return(ws); }
            });
        }
    }

    public double[] InputGradient(double[] theta, RegressionData examples, double[] query)
    {
        lock (_gate)
        {
            _weights.Load(theta);
            var ws = Rent();
            try
            {
                GptPass<T>.Forward(_config, _weights, ws, new[] { (examples, query) });
                var scratch = new T[_layout.Count];
                var result = new double[_config.InputDimension];
                GptPass<T>.Backward(_config, _layout, _weights, ws, stackalloc double[] { 1.0 }, scratch, result);
                return result;
            }
            finally { Return(ws); }
        }
    }
}
