using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Mixture;
using MorIcl.Runtime;
using MorIcl.Tests.Support;
using Xunit.Abstractions;
using Kind = MorIcl.Tests.Support.LinearHeads.Kind;

namespace MorIcl.Tests.LinearAttention;

/// <summary>
/// Linear-attention heads (<see cref="Activation.Linear"/>) in the executors: on random models made of
/// linear heads (and, mixed in, a ReLU head over all tokens) the fast executor in double equals the
/// scalar reference executor to 1e-12 and in float to 1e-5 (relative to the largest entry of the
/// layer's output), and both equal h_i += (1/N) Σ_j ⟨Q h_i, K h_j⟩ V h_j computed here directly.
/// Linear scores take both signs, so a ReLU-style sparse sum over positive scores would fail this.
/// </summary>
public class LinearAttentionExecutorTests(ITestOutputHelper output)
{
    internal static readonly ConstructionSpec Spec = new(2, 2, 0.3, null, 1, 1, 0.5, maxPromptLength: 100);

    internal static readonly Kind[][] Architecture =
    {
        new[] { Kind.Linear, Kind.Linear },
        new[] { Kind.Linear, Kind.Relu },
        new[] { Kind.Linear },
    };

    internal static TransformerModel Model(int seed) => LinearHeads.Random(Compiler.Compile(Spec), Architecture, dk: 3, scale: 0.02, seed);

    private static Prompt Prompt(int n, int seed) => PromptSampler.Sample(Fixtures.Spec(2, 2, 0.3, 5), n, seed, 0);

    /// <summary>The layers' definitions, written out: token-major states after every layer (the input first).</summary>
    private static double[][] Direct(TransformerModel model, Prompt p, out int negativeScores)
    {
        var h = PromptTokens.Embed(model, p.Examples, p.Query);
        int N = model.Embedding.TokenCount(p.Examples.N), D = model.Dimension;
        var states = new List<double[]> { (double[])h.Clone() };
        negativeScores = 0;
        foreach (AttentionLayer layer in model.Layers)
        {
            var next = (double[])h.Clone();
            foreach (var head in layer.Heads)
            {
                double[,] q = head.Query.ToDense(), k = head.Key.ToDense(), v = head.Value.ToDense();
                double Dot(double[,] m, int row, int token) { double s = 0; for (int c = 0; c < D; c++) s += m[row, c] * h[token * D + c]; return s; }
                for (int i = 0; i < N; i++)
                    for (int j = 0; j < N; j++)
                    {
                        double s = 0;
                        for (int a = 0; a < head.HeadDimension; a++) s += Dot(q, a, i) * Dot(k, a, j);
                        if (s < 0) negativeScores++;
                        double w = head.Activation == Activation.Linear ? s / N : Math.Max(s, 0) / N;
                        for (int r = 0; r < D; r++) next[i * D + r] += w * Dot(v, r, j);
                    }
            }
            h = next;
            states.Add((double[])h.Clone());
        }
        return states.ToArray();
    }

    private static double RelativeError(double[] actual, double[] expected) =>
        actual.Zip(expected, (a, e) => Math.Abs(a - e)).Max() / Math.Max(1, expected.Max(Math.Abs));

    [Theory]
    [InlineData(1, 1)]
    [InlineData(6, 2)]
    [InlineData(13, 3)]
    [InlineData(40, 4)]
    [InlineData(77, 5)]
    public void FastExecutorEqualsScalarExecutorAndTheFormula(int n, int seed)
    {
        var model = Model(seed);
        var p = Prompt(n, 100 + seed);
        var direct = Direct(model, p, out int negative);
        var slow = ScalarExecutor.Forward(model, p.Examples, p.Query, trace: true);
        var fast = new ModelExecutor<double>(model).Forward(p.Examples, p.Query, trace: true);
        var single = new ModelExecutor<float>(model).Forward(p.Examples, p.Query, trace: true);
        Assert.True(negative > 0, "the test needs negative linear scores");
        double worstSlow = 0, worstFast = 0, worstFloat = 0;
        for (int l = 0; l < direct.Length; l++)
        {
            worstSlow = Math.Max(worstSlow, RelativeError(slow.Trace![l], direct[l]));
            worstFast = Math.Max(worstFast, RelativeError(fast.Trace![l], slow.Trace[l]));
            worstFloat = Math.Max(worstFloat, RelativeError(single.Trace![l], slow.Trace[l]));
        }
        output.WriteLine($"n = {n}: scalar vs formula {worstSlow:E2}, fast double vs scalar {worstFast:E2}, float vs scalar {worstFloat:E2}; "
            + $"|h| ≤ {direct[^1].Max(Math.Abs):G3}, {negative} negative scores");
        Assert.True(worstSlow <= 1e-12, $"scalar executor vs formula: {worstSlow:E3}");
        Assert.True(worstFast <= 1e-12, $"fast executor (double) vs scalar: {worstFast:E3}");
        Assert.True(worstFloat <= 1e-5, $"fast executor (float) vs scalar: {worstFloat:E3}");
        int q = p.Examples.N * model.Dimension + model.ReadOut.Prediction;
        Assert.Equal(direct[^1][q], slow.Prediction, 1e-12 * Math.Max(1, Math.Abs(slow.Prediction)));
        Assert.Equal(slow.Prediction, fast.Prediction, 1e-12 * Math.Max(1, Math.Abs(slow.Prediction)));
        foreach (var cert in new[] { slow.Certificate, fast.Certificate, single.Certificate })
        {
            Assert.True(cert.InDomain);
            Assert.All(cert.Layers, c => { Assert.Equal(double.PositiveInfinity, c.MinMargin); Assert.Equal(0, c.MaxLeakage); Assert.True(c.Finite); });
        }
    }

    [Fact]
    public void LinearHeadsAreNotReluHeads()
    {
        // The same weights as ReLU heads give a different answer: the negative scores carry weight.
        var linear = Model(2);
        var relu = LinearHeads.Random(Compiler.Compile(Spec), Architecture.Select(l => l.Select(_ => Kind.Relu).ToArray()).ToArray(), dk: 3, scale: 0.02, 2);
        var p = Prompt(13, 102);
        double a = new ModelExecutor<double>(linear).Forward(p.Examples, p.Query).Prediction, b = new ModelExecutor<double>(relu).Forward(p.Examples, p.Query).Prediction;
        Assert.True(Math.Abs(a - b) > 1e-6 * Math.Max(1, Math.Abs(a)), $"{a} vs {b}");
    }

    [Fact]
    public void NonFiniteOutputLeavesTheDomain()
    {
        // Linear heads have no margin and no leakage; their only domain condition is finiteness.
        var model = Model(3);
        var p = Prompt(6, 103);
        p.Query[0] = double.PositiveInfinity;
        foreach (var cert in new[] { ScalarExecutor.Forward(model, p.Examples, p.Query).Certificate, new ModelExecutor<double>(model).Forward(p.Examples, p.Query).Certificate })
        {
            Assert.False(cert.InDomain);
            Assert.False(cert.Layers[^1].Finite);
        }
    }

    [Fact]
    public void ReplacedLayersRunInBothExecutors()
    {
        // A compiled model whose first attention layer has become linear (same Q, K, V): the executors agree.
        var template = Compiler.Compile(Spec);
        int first = LinearHeads.AttentionLayers(template)[0];
        var model = LinearHeads.Replace(template, l => l == first);
        Assert.All(((AttentionLayer)model.Layers[first]).Heads, h => Assert.Equal(Activation.Linear, h.Activation));
        var p = Prompt(9, 104);
        var slow = ScalarExecutor.Forward(model, p.Examples, p.Query, trace: true);
        var fast = new ModelExecutor<double>(model).Forward(p.Examples, p.Query, trace: true);
        for (int l = 0; l < slow.Trace!.Length; l++) Assert.True(RelativeError(fast.Trace![l], slow.Trace[l]) <= 1e-12, $"layer {l}");
        Assert.Equal(slow.Certificate.InDomain, fast.Certificate.InDomain);
    }
}
