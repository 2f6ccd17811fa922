using System.Text.Json.Nodes;
using MorIcl.IO;
using MorIcl.Mixture;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Export;

/// <summary>
/// tools/moricl_torch.py as a user runs it: a constructed model exported by <c>mor-icl export</c>
/// gives in PyTorch what <c>mor-icl run</c> gives (1e-12 relative in double); bad input gets a message
/// and exit code 2; a trained gpt2 run goes export → PyTorch (which writes the weights back) →
/// <c>mor-icl import</c> and predicts what PyTorch predicts (1e-5 in float), and compare and probe take it.
/// </summary>
public class PyTorchModuleTests
{
    /// <summary>A prompt CSV whose last row is the query (its y is not used).</summary>
    internal static string WritePrompt(CliRunner cli, string name, Prompt p)
    {
        var rows = Enumerable.Range(0, p.N).Select(i => p.Examples.Row(i)).Append(p.Query).ToArray();
        var data = RegressionData.FromRows(rows, p.Examples.Y.Append(0).ToArray());
        var path = cli.PathOf(name);
        RegressionCsv.Write(path, data);
        return path;
    }

    private static JsonObject RunJson(CliRunner cli, params string[] args)
    {
        var r = cli.Run(args);
        Assert.True(r.ExitCode == 0, r.Err);
        return JsonNode.Parse(r.Out)!.AsObject();
    }

    private static double Relative(double got, double want) => Math.Abs(got - want) / Math.Max(Math.Abs(want), 1e-300);

    [PythonFact("torch,numpy")]
    public void ConstructedModelAgreesWithRunToRounding()
    {
        using var cli = new CliRunner();
        var model = cli.PathOf("model.json");
        Assert.Equal(0, cli.Run("construct", "--dim", "3", "--components", "3", "--em-iterations", "2", "--gd-steps", "1", "--step-size", "0.6", "--sigma", "0.4",
            "--mixing", "0.5,0.3,0.2", "--max-prompt-length", "100", "--out", model).ExitCode);
        var r = cli.Run("export", "--model", model, "--safetensors", cli.PathOf("m.safetensors"));
        Assert.True(r.ExitCode == 0, r.Err);
        var truth = Fixtures.Spec(3, 3, 0.4, 9);
        var prompts = new[] { 5, 100 }.Select(n => WritePrompt(cli, $"p{n}.csv", PromptSampler.Sample(truth, n, 17, n))).ToArray();
        var py = PythonTool.Run(new[] { PythonTool.Script("moricl_torch.py"), cli.PathOf("m.safetensors") }.Concat(prompts).Append("--json").ToArray());
        Assert.True(py.Exit == 0, py.Err);
        var lines = py.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(prompts.Length, lines.Length);
        double worst = 0;
        for (int i = 0; i < prompts.Length; i++)
        {
            var torch = JsonNode.Parse(lines[i])!.AsObject();
            var run = RunJson(cli, "run", "--model", model, "--data", prompts[i], "--json");
            worst = Math.Max(worst, Relative((double)torch["prediction"]!, (double)run["prediction"]!));
            var tb = torch["beta"]!.AsArray().SelectMany(b => b!.AsArray().Select(v => (double)v!)).ToArray();
            var rb = run["beta"]!.AsArray().SelectMany(b => b!.AsArray().Select(v => (double)v!)).ToArray();
            worst = Math.Max(worst, TraceDecoderRelative(tb, rb));
            Assert.True((bool)torch["positions_in_range"]!);
            Assert.Equal(3, torch["responsibilities"]!.AsArray()[0]!.AsArray().Count);
        }
        Assert.True(worst <= 1e-12, $"PyTorch differs from mor-icl run by {worst:G3} (relative)");
    }

    private static double TraceDecoderRelative(double[] got, double[] want) => MorIcl.Runtime.TraceDecoder.RelativeError(new[] { got }, new[] { want });

    [PythonFact("numpy")]
    public void BadInputGetsAMessageAndExitCodeTwo()
    {
        using var cli = new CliRunner();
        var model = cli.PathOf("model.json");
        Assert.Equal(0, cli.Run("construct", "--dim", "2", "--components", "2", "--em-iterations", "1", "--gd-steps", "1", "--step-size", "0.5", "--sigma", "0.5",
            "--max-prompt-length", "31", "--out", model).ExitCode);
        var st = cli.PathOf("m.safetensors");
        Assert.Equal(0, cli.Run("export", "--model", model, "--safetensors", st).ExitCode);
        var truth = Fixtures.Spec(2, 2, 0.5, 1);
        var ok = WritePrompt(cli, "ok.csv", PromptSampler.Sample(truth, 10, 1, 0));
        var longer = WritePrompt(cli, "long.csv", PromptSampler.Sample(truth, 40, 1, 0));
        var wrongD = WritePrompt(cli, "d3.csv", PromptSampler.Sample(Fixtures.Spec(3, 2, 0.5, 1), 10, 1, 0));
        void Rejects(string expected, params string[] args)
        {
            var r = PythonTool.Run(new[] { PythonTool.Script("moricl_torch.py") }.Concat(args).ToArray());
            Assert.True(r.Exit == 2, $"exit {r.Exit} for {string.Join(" ", args)}: {r.Out}{r.Err}");
            Assert.Contains(expected, r.Err);
            Assert.DoesNotContain("Traceback", r.Err);
            Assert.Equal("", r.Out);
        }
        Rejects("the model takes d = 2", st, wrongD);
        Rejects("past the model's positional scheme (n <= 31)", st, longer);
        Rejects("nothing.csv: file not found", st, cli.PathOf("nothing.csv"));
        Rejects("none.safetensors: file not found", cli.PathOf("none.safetensors"), ok);
        Rejects("not a safetensors file", model, ok);
        Rejects("usage:", st);
    }

    [PythonFact("torch,numpy")]
    public void TrainedGptRoundTripsThroughPyTorch()
    {
        using var cli = new CliRunner();
        string run = cli.PathOf("run"), imported = cli.PathOf("imported");
        var r = cli.Run("train", "--family", "gpt2", "--layers", "2", "--width", "8", "--heads", "2", "--dim", "2", "--components", "2", "--sigma", "0.3",
            "--prompt-length", "8", "--batch", "8", "--lr", "0.01", "--steps", "6", "--out", run);
        Assert.True(r.ExitCode == 0, r.Err);
        r = cli.Run("export", "--model", run, "--safetensors", cli.PathOf("gpt.safetensors"));
        Assert.True(r.ExitCode == 0, r.Err);
        var truth = Fixtures.Spec(2, 2, 0.3, 5);
        var prompts = new[] { 3, 30 }.Select(n => WritePrompt(cli, $"p{n}.csv", PromptSampler.Sample(truth, n, 2, n))).ToArray();
        // PyTorch predicts and writes its parameters back, as a model trained there would be saved.
        var py = PythonTool.Run(new[] { PythonTool.Script("moricl_torch.py"), cli.PathOf("gpt.safetensors") }.Concat(prompts)
            .Concat(new[] { "--json", "--save", cli.PathOf("from-torch.safetensors") }).ToArray());
        Assert.True(py.Exit == 0, py.Err);
        var torch = py.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith('{')).Select(l => (double)JsonNode.Parse(l)!["prediction"]!).ToArray();
        r = cli.Run("import", "--safetensors", cli.PathOf("from-torch.safetensors"), "--family", "gpt2", "--out", imported);
        Assert.True(r.ExitCode == 0, r.Err);
        for (int i = 0; i < prompts.Length; i++)
        {
            double native = (double)RunJson(cli, "run", "--model", run, "--data", prompts[i], "--json")["prediction"]!;
            double back = (double)RunJson(cli, "run", "--model", imported, "--data", prompts[i], "--json")["prediction"]!;
            Assert.True(Relative(torch[i], native) <= 1e-5, $"prompt {i}: PyTorch {torch[i]} vs run {native}");
            Assert.Equal(native, back);   // the same float parameters, the same float pass
        }
        r = cli.Run("compare", "--trained", imported, "--trained", run, "--prompts", "4", "--prompt-lengths", "4", "--em-restarts", "1", "--out", cli.PathOf("cmp"));
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains("trained (imported)", r.Out);
        r = cli.Run("probe", "--model", imported, "--out", cli.PathOf("probe"), "--train-prompts", "20", "--test-prompts", "10", "--em-iterations", "1");
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.True(File.Exists(Path.Combine(cli.PathOf("probe"), "probe.json")));
    }
}
