using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Em;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Numerics.Simd;
using MorIcl.Runtime;
using MorIcl.Runtime.Structured;
using MorIcl.Training;
using MorIcl.Training.Constructed;
using MorIcl.Training.Gpt;

namespace MorIcl.Tests.Simd;

/// <summary>
/// The fixed set of computations whose bits must not depend on the SIMD width: forward passes of
/// constructed models (double and float, structured plan and dense; gradient EM with softmax E-steps, estimated mixing through the
/// MLP log interpolant, the symmetric tanh program), reference gradient EM, exact and gradient EM fits,
/// and a loss-and-gradient step of both trainable families (gpt2 in float and double, the constructed
/// architecture). Each case prints one line "name: SHA-256 of every number's bits" (and its first
/// number in hex, for a reader); <see cref="SimdWidthTests"/> compares these lines across processes.
/// </summary>
internal static class WidthCases
{
    public static IEnumerable<string> Lines()
    {
        yield return $"width: {SimdSpan.Width}";
        var truth = new MixtureSpec(RegressionVectors.DrawNormalised(3, 2, SeedSequence.Create(41)), new[] { 0.4, 0.6 }, 0.5);
        var prompts = new[] { PromptSampler.Sample(truth, 37, 5, 0), PromptSampler.Sample(truth, 64, 5, 1) };
        // Untraced only: one example, fewer than the lanes, and sums ahead over three blocks (docs/math.md §9.6).
        var untraced = new[] { PromptSampler.Sample(truth, 1, 5, 2), PromptSampler.Sample(truth, 9, 5, 3), PromptSampler.Sample(truth, 4116, 5, 4) };
        var specs = new (string Name, ConstructionSpec Spec)[]
        {
            ("gd", new ConstructionSpec(3, 2, 0.5, new[] { 0.4, 0.6 }, 2, 2, 0.5)),
            ("mixing", new ConstructionSpec(3, 2, 0.5, new[] { 0.5, 0.5 }, 2, 1, 0.5, estimateMixing: true)),
            ("symmetric", new ConstructionSpec(3, 2, 0.5, new[] { 0.5, 0.5 }, 2, 2, 0.5, symmetric: true)),
        };
        foreach (var (name, spec) in specs)
        {
            var model = Compiler.Compile(spec);
            var d = new ModelExecutor<double>(model);
            var f = new ModelExecutor<float>(model);
            var dense = new ModelExecutor<double>(model, ExecutorKind.Dense);
            foreach (var p in prompts)
            {
                yield return Line($"forward/double/{name}/n={p.Examples.N}", Numbers(d.Forward(p.Examples, p.Query, trace: true)));
                yield return Line($"forward/float/{name}/n={p.Examples.N}", Numbers(f.Forward(p.Examples, p.Query, trace: true)));
                yield return Line($"forward/double/dense/{name}/n={p.Examples.N}", Numbers(dense.Forward(p.Examples, p.Query, trace: true)));
                // The block schedule (docs/math.md §9.6), blocks of 16: its reductions' lanes and tails on every width.
                yield return Line($"forward/blocks/double/{name}/n={p.Examples.N}", Blocks<double>(model, p));
                yield return Line($"forward/blocks/float/{name}/n={p.Examples.N}", Blocks<float>(model, p));
                // Without a trace: replicated rows and resets kept per role, fused rows with their sums ahead (docs/math.md §9.6).
                yield return Line($"forward/untraced/double/{name}/n={p.Examples.N}", Blocks<double>(model, p, fuse: false));
                yield return Line($"forward/untraced/float/{name}/n={p.Examples.N}", Blocks<float>(model, p, fuse: false));
                var reference = ReferenceRun.Of(spec, p.Examples, p.Query);
                yield return Line($"reference/{name}/n={p.Examples.N}", reference.Beta.SelectMany(b => b).Append(reference.Prediction));
            }
            var longer = Compiler.Compile(new ConstructionSpec(spec.Dimension, spec.Components, spec.Sigma, spec.Mixing, spec.EmIterations, spec.GradientSteps,
                spec.StepSize, symmetric: spec.Symmetric, estimateMixing: spec.EstimateMixing, maxPromptLength: 5000));
            foreach (var p in untraced)
            {
                yield return Line($"forward/untraced/double/{name}/n={p.Examples.N}", Blocks<double>(longer, p, fuse: false));
                yield return Line($"forward/untraced/float/{name}/n={p.Examples.N}", Blocks<float>(longer, p, fuse: false));
            }
        }

        var em = new MixtureSpec(RegressionVectors.DrawNormalised(5, 3, SeedSequence.Create(42)), new[] { 0.2, 0.3, 0.5 }, 0.3);
        var data = PromptSampler.Sample(em, 1001, 6, 0).Examples;
        var init = Initialisation.RandomGaussian(data, 3, 7);
        foreach (var algorithm in new[] { EmAlgorithm.Exact, EmAlgorithm.Gradient })
        {
            var fit = ExpectationMaximisation.Fit(data, init, new EmOptions { Algorithm = algorithm, MaxIterations = 4, Tolerance = 0, InnerSteps = 2 });
            yield return Line($"em/{algorithm}", Parameters(fit.Parameters).Concat(fit.LogLikelihoodTrace));
        }

        var batch = PromptSampler.SampleBatch(truth, 11, 3, seed: 8);
        foreach (var precision in new[] { Precision.Float, Precision.Double })
        {
            var gpt = new GptModel(GptConfig.Tiny(3), seed: 9, precision);
            var g = new double[gpt.Parameters.Length];
            double loss = gpt.LossAndGradient(batch, g);
            yield return Line($"train/gpt2/{precision}", g.Prepend(loss));
        }
        var constructed = ConstructedArchitectureModel.FromConstruction(Compiler.Compile(new ConstructionSpec(3, 2, 0.5, null, 1, 1, 0.5)), 1e-3, seed: 10);
        var gc = new double[constructed.Parameters.Length];
        double lc = constructed.LossAndGradient(batch, gc);
        yield return Line("train/constructed", gc.Prepend(lc));
    }

    private static IEnumerable<double> Numbers(ForwardResult r)
    {
        var c = r.Certificate;
        var values = new List<double> { r.Prediction, c.MinMargin, c.MaxLeakage };
        values.AddRange(r.Beta.SelectMany(b => b));
        if (r.Mixing is { } pi) values.AddRange(pi);
        values.AddRange(c.Layers.SelectMany(l => new[] { l.MinMargin, l.MaxLeakage }));
        foreach (var t in r.Trace!) values.AddRange(t);
        return values;
    }

    /// <summary>A pass without trace (by the block schedule unless not <paramref name="fuse"/>): its numbers and the final stream.</summary>
    private static IEnumerable<double> Blocks<T>(TransformerModel model, Prompt p, bool fuse = true) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        double[]? final = null;
        var r = new ModelExecutor<T>(model) { FuseBlocks = fuse, BlockTokens = 16 }.Forward(p.Examples, p.Query, false, h => final = h);
        var c = r.Certificate;
        return new[] { r.Prediction, c.MinMargin, c.MaxLeakage }.Concat(r.Beta.SelectMany(b => b)).Concat(r.Mixing ?? Array.Empty<double>())
            .Concat(c.Layers.SelectMany(l => new[] { l.MinMargin, l.MaxLeakage })).Concat(final!);
    }

    private static IEnumerable<double> Parameters(MixtureParameters p) => p.Beta.SelectMany(b => b).Concat(p.Mixing).Concat(p.Sigma);

    private static string Line(string name, IEnumerable<double> values)
    {
        var bytes = values.SelectMany(v => BitConverter.GetBytes(BitConverter.DoubleToInt64Bits(v))).ToArray();
        string first = bytes.Length >= 8 ? BitConverter.ToInt64(bytes, 0).ToString("x16", CultureInfo.InvariantCulture) : "-";
        return $"{name}: {Convert.ToHexString(SHA256.HashData(bytes))} (first {first}, {bytes.Length / 8} numbers)";
    }
}

/// <summary>
/// The test assembly's entry point (the test host never calls it): <c>dotnet MorIcl.Tests.dll
/// simd-width-cases</c> prints <see cref="WidthCases.Lines"/>, so a child process with instruction sets
/// switched off can run them.
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        if (args is not ["simd-width-cases"]) { Console.Error.WriteLine("usage: MorIcl.Tests simd-width-cases"); return 2; }
        var output = new StringBuilder();
        foreach (var line in WidthCases.Lines()) output.Append(line).Append('\n');
        Console.Out.Write(output.ToString());
        return 0;
    }
}
