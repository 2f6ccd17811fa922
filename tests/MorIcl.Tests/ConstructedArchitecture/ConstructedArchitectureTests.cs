using System.Text.Json.Nodes;
using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Mixture;
using MorIcl.Runtime;
using MorIcl.Tests.Support;
using MorIcl.Training;
using MorIcl.Training.Constructed;
using Xunit.Abstractions;

namespace MorIcl.Tests.ConstructedArchitecture;

public class ConstructedArchitectureTests(ITestOutputHelper output)
{
    internal static readonly ConstructionSpec TimingSpec = new(2, 2, 0.3, null, 2, 1, 0.5, maxPromptLength: 100);

    private static Prompt[] Batch(int count, int n, int seed, int d = 2, int k = 2) =>
        Enumerable.Range(0, count).Select(b => PromptSampler.Sample(Fixtures.Spec(d, k, 0.3, 5), n, seed, b)).ToArray();

    public static TheoryData<string> Specs => new() { "K2", "K3-d3-T2", "K3-estimate-mixing" };

    private static ConstructionSpec SpecNamed(string name) => name switch
    {
        "K2" => new ConstructionSpec(2, 2, 0.3, null, 2, 1, 0.5),
        // (Not the symmetric program: its prediction Σ_k π_k⟨β̂_k, x⟩ is 0 by symmetry, so a relative comparison says nothing.)
        "K3-d3-T2" => new ConstructionSpec(3, 3, 0.5, null, 2, 2, 0.4),
        "K3-estimate-mixing" => new ConstructionSpec(2, 3, 0.4, null, 1, 1, 0.5, estimateMixing: true),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Specs))]
    public void ZeroNoiseReproducesTheExecutor(string name)
    {
        var spec = SpecNamed(name);
        var template = Compiler.Compile(spec);
        var model = ConstructedArchitectureModel.FromConstruction(template, 0, seed: 1);
        var executor = new ModelExecutor<double>(template);
        var prompts = new[] { 10, 10, 25, 60 }.Select((n, b) => PromptSampler.Sample(Fixtures.Spec(spec.Dimension, spec.Components, 0.3, 8), n, 31, b)).ToArray();
        var predicted = model.Predict(prompts.Select(p => (p.Examples, p.Query)).ToArray());
        double worst = 0;
        for (int b = 0; b < prompts.Length; b++)
        {
            double reference = executor.Forward(prompts[b].Examples, prompts[b].Query).Prediction;
            double rel = Math.Abs(predicted[b] - reference) / Math.Abs(reference);
            worst = Math.Max(worst, rel);
            Assert.True(rel <= 1e-10, $"{name}, prompt {b} (n = {prompts[b].N}): ŷ = {predicted[b]:R}, executor {reference:R}");
        }
        output.WriteLine($"{name}: {model.Parameters.Length} parameters, worst relative difference from ModelExecutor<double> {worst:E2}");
    }

    [Fact]
    public void BlocksTileTheParametersAndNameEveryWeight()
    {
        var template = Compiler.Compile(TimingSpec);
        var model = ConstructedArchitectureModel.FromConstruction(template, 0, seed: 1);
        int next = 0;
        foreach (var (_, offset, length) in model.Blocks) { Assert.Equal(next, offset); next += length; }
        Assert.Equal(model.Parameters.Length, next);
        int D = template.Dimension;
        for (int l = 0; l < template.Layers.Count; l++)
        {
            switch (template.Layers[l])
            {
                case AttentionLayer att:
                    for (int h = 0; h < att.Heads.Length; h++)
                    {
                        int dk = att.Heads[h].HeadDimension;
                        Assert.Contains(model.Blocks, b => b.Name == $"layer{l:D2}.head{h}.Q" && b.Length == dk * D);
                        Assert.Contains(model.Blocks, b => b.Name == $"layer{l:D2}.head{h}.K" && b.Length == dk * D);
                        Assert.Contains(model.Blocks, b => b.Name == $"layer{l:D2}.head{h}.V" && b.Length == D * D);
                    }
                    break;
                case MlpLayer mlp:
                    Assert.Contains(model.Blocks, b => b.Name == $"layer{l:D2}.mlp.W1" && b.Length == mlp.Hidden * D);
                    Assert.Contains(model.Blocks, b => b.Name == $"layer{l:D2}.mlp.b1" && b.Length == mlp.Hidden);
                    Assert.Contains(model.Blocks, b => b.Name == $"layer{l:D2}.mlp.W2" && b.Length == D * mlp.Hidden);
                    Assert.Contains(model.Blocks, b => b.Name == $"layer{l:D2}.mlp.b2" && b.Length == D);
                    break;
            }
        }
        // The construction's weights sit where the blocks say: e.g. a head's V entry (r, c) at offset + r·D + c.
        var att0 = template.Layers.Select((layer, i) => (layer, i)).First(t => t.layer is AttentionLayer);
        var v = ((AttentionLayer)att0.layer).Heads[0].Value;
        var vBlock = model.Blocks.Single(b => b.Name == $"layer{att0.i:D2}.head0.V");
        for (int e = 0; e < v.NonZeros; e++) Assert.Equal(v.Values[e], model.Parameters[vBlock.Offset + v.RowIndex[e] * D + v.ColIndex[e]]);
        Assert.Equal(v.NonZeros, model.Parameters.Skip(vBlock.Offset).Take(vBlock.Length).Count(x => x != 0));

        var d = model.Descriptor;
        Assert.Equal("constructed", d.Family);
        Assert.Equal(Precision.Double, d.Precision);
        var config = JsonNode.Parse(d.Configuration)!;
        Assert.Equal(2, (int)config["spec"]!["dimension"]!);
        Assert.Equal(2, (int)config["spec"]!["emIterations"]!);
        Assert.Equal(100, (int)config["spec"]!["maxPromptLength"]!);
        Assert.Equal("construction", (string)config["init"]!["kind"]!);
        Assert.Equal("dense", (string)config["valueMatrix"]!);
        Assert.Equal(d.Configuration, ConstructedArchitectureModel.FromConstruction(Compiler.Compile(TimingSpec), 0, seed: 9).Descriptor.Configuration);
        var random = ConstructedArchitectureModel.Random(template, 0.01, seed: 1);
        Assert.Equal("random", (string)JsonNode.Parse(random.Descriptor.Configuration)!["init"]!["kind"]!);
        Assert.NotEqual(d.Configuration, random.Descriptor.Configuration);
        // Random: weights N(0, s²), biases exactly 0.
        foreach (var b in random.Blocks.Where(b => b.Name.EndsWith(".b1") || b.Name.EndsWith(".b2")))
            Assert.All(random.Parameters.Skip(b.Offset).Take(b.Length), x => Assert.Equal(0.0, x));
        var weights = random.Blocks.Where(b => !b.Name.EndsWith(".b1") && !b.Name.EndsWith(".b2")).SelectMany(b => random.Parameters.Skip(b.Offset).Take(b.Length)).ToArray();
        double sd = Math.Sqrt(weights.Average(x => x * x));
        Assert.InRange(sd, 0.0099, 0.0101);
    }

    [Fact]
    public void ResultsAreBitIdenticalForAnyThreadCount()
    {
        var model = ConstructedArchitectureModel.Random(Compiler.Compile(ConstructedArchitectureGradientTests.SmallSpec), 0.01, seed: 2);
        var batch = Batch(11, 8, 41); // three chunks of 4, the last one partial
        double[]? firstGradient = null, firstPredictions = null;
        double firstLoss = 0;
        foreach (int threads in new[] { 1, 2, 3, 5, 16 })
        {
            model.MaxDegreeOfParallelism = threads;
            var g = new double[model.Parameters.Length];
            Array.Fill(g, double.NaN); // overwritten, not accumulated
            double loss = model.LossAndGradient(batch, g);
            var pred = model.Predict(batch.Select(p => (p.Examples, p.Query)).ToArray());
            if (firstGradient is null) { firstGradient = g; firstLoss = loss; firstPredictions = pred; continue; }
            Assert.Equal(BitConverter.DoubleToInt64Bits(firstLoss), BitConverter.DoubleToInt64Bits(loss));
            Assert.True(firstGradient.AsSpan().SequenceEqual(g), $"gradient differs with {threads} threads");
            Assert.True(firstPredictions!.AsSpan().SequenceEqual(pred), $"predictions differ with {threads} threads");
        }
        Assert.All(firstGradient!, x => Assert.True(double.IsFinite(x)));
        // The loss is the mean of (ŷ − y)² over the batch.
        Assert.Equal(batch.Select((p, b) => (firstPredictions![b] - p.QueryLabel) * (firstPredictions[b] - p.QueryLabel)).Average(), firstLoss, 12);
        Assert.Throws<SpecificationException>(() => model.MaxDegreeOfParallelism = 0);
    }

    [Fact]
    public void BadInputNamesTheProblem()
    {
        var model = ConstructedArchitectureModel.Random(Compiler.Compile(ConstructedArchitectureGradientTests.SmallSpec), 0.01, seed: 2);
        var g = new double[model.Parameters.Length];
        var good = Batch(3, 6, 5);
        var wrongD = Batch(1, 6, 5, d: 3)[0];
        var e = Assert.Throws<SpecificationException>(() => model.LossAndGradient(new[] { good[0], good[1], wrongD }, g));
        Assert.Contains("prompt 2", e.Message);
        Assert.Contains("d = 2", e.Message);
        Assert.Contains("d = 3", e.Message);
        e = Assert.Throws<SpecificationException>(() => model.Predict(new[] { (wrongD.Examples, wrongD.Query) }));
        Assert.Contains("d = 3", e.Message);
        e = Assert.Throws<SpecificationException>(() => model.InputGradient(wrongD.Examples, wrongD.Query));
        Assert.Contains("d = 3", e.Message);
        e = Assert.Throws<SpecificationException>(() => model.InputGradient(good[0].Examples, new[] { 1.0, 2, 3 }));
        Assert.Contains("query has 3 numbers", e.Message);

        var tooLong = Batch(1, 21, 5)[0]; // the spec allows n ≤ 20
        e = Assert.Throws<SpecificationException>(() => model.LossAndGradient(new[] { good[0], tooLong }, g));
        Assert.Contains("n = 21", e.Message);
        Assert.Contains("maximum prompt length 20", e.Message);
        e = Assert.Throws<SpecificationException>(() => model.Predict(new[] { (tooLong.Examples, tooLong.Query) }));
        Assert.Contains("maximum prompt length 20", e.Message);

        Assert.Contains("empty", Assert.Throws<SpecificationException>(() => model.LossAndGradient(Array.Empty<Prompt>(), g)).Message);
        Assert.Contains("gradient has length 5", Assert.Throws<SpecificationException>(() => model.LossAndGradient(good, new double[5])).Message);
        Assert.Contains("parameter vector has length 3", Assert.Throws<SpecificationException>(() =>
            new ConstructedArchitectureModel(model.Template, new double[3], ConstructedInitialisation.Random, 0.01)).Message);
        Assert.Throws<SpecificationException>(() => ConstructedArchitectureModel.Random(model.Template, 0, seed: 1));
        Assert.Throws<SpecificationException>(() => ConstructedArchitectureModel.FromConstruction(model.Template, double.NaN, seed: 1));
    }
}
