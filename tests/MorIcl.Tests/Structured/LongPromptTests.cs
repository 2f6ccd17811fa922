using System.Text.Json.Nodes;
using MorIcl.Construction;
using MorIcl.IO;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Runtime;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Structured;

/// <summary>
/// Long prompts (docs/math.md §9): the positional scheme with three or four base-32 digits stays exact while
/// R·max(G, 2)·31² ≤ 2^24; a prompt of 20 000 examples runs in O(N) per head and equals an independent
/// gradient EM; the maximum prompt length is the one asked for; and <c>run</c> reports its timing and
/// executor. (That the structured path gives the same bits on every SIMD width is checked by
/// <c>SimdWidthTests</c> in child processes, whose cases run the structured executor.)
/// </summary>
public class LongPromptTests
{
    private static Prompt Sample(int d, int k, int n, int seed) =>
        PromptSampler.Sample(new MixtureSpec(RegressionVectors.DrawNormalised(d, k, SeedSequence.Create(seed, 0, 3)), Enumerable.Repeat(1.0 / k, k).ToArray(), 0.3), n, seed, 1);

    [Fact]
    public void TwentyThousandExamplesEqualAnIndependentGradientEm()
    {
        const int d = 10, K = 3, n = 20000;
        var beta0 = ConstructionSpec.DefaultInitialBeta(d, K, false);
        var pi = new[] { 0.2, 0.3, 0.5 };
        // The scale: S = 10 EM iterations of T = 5 gradient steps (194 layers).
        var spec = new ConstructionSpec(d, K, 0.3, pi, 10, 5, 0.5, beta0, maxPromptLength: n);
        Assert.Equal(3, spec.PositionDigits);
        var prompt = Sample(d, K, n, 41);
        var r = new ModelExecutor<double>(Compiler.Compile(spec)).Forward(prompt.Examples, prompt.Query);
        Assert.True(r.Certificate.InDomain, r.Certificate.Summary());
        var (beta, prediction) = NaiveGradientEm.Run(prompt.Examples, prompt.Query, beta0, pi, 0.3, 10, 5, 0.5);
        double err = ConstructionReference.RelativeError(r.Beta, beta);
        Assert.True(err <= 1e-10, $"β̂ differs from gradient EM by {err:G3}");
        Assert.True(Math.Abs(r.Prediction - prediction) <= 1e-10 * Math.Max(1, Math.Abs(prediction)), $"prediction {r.Prediction:R} vs {prediction:R}");
    }

    [Fact]
    public void TheMarginRuleFollowsTheDigitCount()
    {
        Assert.Equal(8192, ConstructionSpec.MaxExactMargin(2));
        Assert.Equal(4364, ConstructionSpec.MaxExactMargin(4));
        // 4364·4·31² ≤ 2^24 < 4365·4·31²: the rule is tight.
        Assert.True(4364.0 * 4 * 961 <= 16777216 && 4365.0 * 4 * 961 > 16777216);
        var e = Assert.Throws<ConstructionException>(() => new ConstructionSpec(2, 2, 0.5, null, 1, 1, 0.5, margin: 8192, maxPromptLength: 100000));
        Assert.Contains("4364", e.Message);
        Assert.Equal(4, new ConstructionSpec(2, 2, 0.5, null, 1, 1, 0.5, margin: 4096, maxPromptLength: 100000).PositionDigits);
    }

    [Fact]
    public void TheMaximumPromptLengthIsTheOneAskedFor()
    {
        var model = Compiler.Compile(new ConstructionSpec(2, 2, 0.5, null, 1, 1, 0.5, maxPromptLength: 50));
        Assert.Equal(50, model.MaxPromptLength);
        Assert.True(new ModelExecutor<double>(model).Forward(Sample(2, 2, 50, 3).Examples, Sample(2, 2, 50, 3).Query).Certificate.InDomain);
        var p = Sample(2, 2, 99, 3);
        var c = new ModelExecutor<double>(model).Forward(p.Examples, p.Query).Certificate;
        Assert.False(c.PositionsInRange);
        Assert.False(c.InDomain);
        Assert.Contains("99", c.Summary());

        using var cli = new CliRunner();
        var built = cli.Run("construct", "--dim", "2", "--components", "2", "--em-iterations", "1", "--gd-steps", "1", "--step-size", "0.5", "--sigma", "0.5",
            "--max-prompt-length", "50", "--out", cli.PathOf("m.json"));
        Assert.True(built.ExitCode == 0, built.Err);
        Assert.Contains("prompts up to n = 50", built.Out);
        RegressionCsv.Write(cli.PathOf("p.csv"), Sample(2, 2, 100, 4).Examples);    // 99 examples and the query
        var run = cli.Run("run", "--model", cli.PathOf("m.json"), "--data", cli.PathOf("p.csv"), "--json");
        Assert.Equal(3, run.ExitCode);
        Assert.False(JsonNode.Parse(run.Out)!["certificate"]!["positionsInRange"]!.GetValue<bool>());
    }

    [Fact]
    public void RunReportsItsTimingAndExecutor()
    {
        using var cli = new CliRunner();
        ModelJson.Write(cli.PathOf("m.json"), Compiler.Compile(new ConstructionSpec(3, 2, 0.5, null, 2, 2, 0.5)));
        RegressionCsv.Write(cli.PathOf("p.csv"), Sample(3, 2, 80, 5).Examples);
        JsonNode Run(params string[] extra)
        {
            var r = cli.Run(new[] { "run", "--model", cli.PathOf("m.json"), "--data", cli.PathOf("p.csv"), "--json" }.Concat(extra).ToArray());
            Assert.True(r.ExitCode == 0, r.Err);
            return JsonNode.Parse(r.Out)!;
        }
        var structured = Run();
        Assert.True(structured["timing"]!["forwardSeconds"]!.GetValue<double>() > 0);
        Assert.True(structured["timing"]!["referenceSeconds"]!.GetValue<double>() > 0);
        foreach (var passes in new[] { "forwardPasses", "referencePasses" })   // the least of 3 to MaxPasses, after an untimed pass
            Assert.InRange(structured["timing"]![passes]!.GetValue<int>(), 3, MorIcl.Cli.Commands.RunCommand.MaxPasses);
        Assert.True(structured["timing"]!["firstForwardSeconds"]!.GetValue<double>() > 0 && structured["timing"]!["firstReferenceSeconds"]!.GetValue<double>() > 0);
        // What the numbers were measured on: the kernels' SIMD width and the cores; whether the warm-up ended with the JIT quiet.
        Assert.Equal((int)MorIcl.Numerics.Simd.SimdSpan.Width, structured["timing"]!["simdWidth"]!.GetValue<int>());
        Assert.Equal(Environment.ProcessorCount, structured["timing"]!["processorCount"]!.GetValue<int>());
        Assert.Contains(structured["timing"]!["jitQuiet"]!.GetValueKind(), new[] { System.Text.Json.JsonValueKind.True, System.Text.Json.JsonValueKind.False });
        Assert.InRange(structured["timing"]!["methodsCompiledWhileTiming"]!.GetValue<long>(), 0, long.MaxValue);
        var traced = Run("--trace", cli.PathOf("t.csv"))["timing"]!;
        Assert.Equal(1, traced["forwardPasses"]!.GetValue<int>());
        Assert.Null(traced["methodsCompiledWhileTiming"]);   // timed once, not in rounds
        Assert.Equal("structured", structured["executor"]!["kind"]!.GetValue<string>());
        Assert.Equal(0, structured["executor"]!["denseHeads"]!.GetValue<int>());
        var dense = Run("--executor", "dense");
        Assert.Equal("dense", dense["executor"]!["kind"]!.GetValue<string>());
        Assert.Equal(0, dense["executor"]!["structuredHeads"]!.GetValue<int>());
        Assert.Equal(dense["prediction"]!.GetValue<double>(), structured["prediction"]!.GetValue<double>(), 12);
        var bad = cli.Run("run", "--model", cli.PathOf("m.json"), "--data", cli.PathOf("p.csv"), "--executor", "magic");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--executor", bad.Err);
    }
}
