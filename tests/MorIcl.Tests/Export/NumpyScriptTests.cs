using System.Globalization;
using System.Text.Json.Nodes;
using MorIcl.Mixture;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Export;

/// <summary>
/// tools/run_npz.py on a model written by <c>construct --npz</c>: it sums positional dimensions first
/// and agrees with <c>mor-icl run</c> to rounding (1e-12 relative); bad input gets a message and exit
/// code 2, never a traceback or a number.
/// </summary>
public class NumpyScriptTests
{
    [PythonFact("numpy")]
    public void RunNpzAgreesWithRunAndRejectsBadInput()
    {
        using var cli = new CliRunner();
        string model = cli.PathOf("model.json"), npz = cli.PathOf("model.npz");
        Assert.Equal(0, cli.Run("construct", "--dim", "3", "--components", "2", "--em-iterations", "2", "--gd-steps", "2", "--step-size", "0.5", "--sigma", "0.5",
            "--margin", "8192", "--max-prompt-length", "31", "--out", model, "--npz", npz).ExitCode);
        var truth = Fixtures.Spec(3, 2, 0.5, 3);
        var prompt = PyTorchModuleTests.WritePrompt(cli, "p.csv", PromptSampler.Sample(truth, 31, 4, 0));
        var py = PythonTool.Run(PythonTool.Script("run_npz.py"), npz, prompt);
        Assert.True(py.Exit == 0, py.Err);
        var numbers = py.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).SelectMany(l => l.Split(' ').Skip(1)).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var run = JsonNode.Parse(cli.Run("run", "--model", model, "--data", prompt, "--json").Out)!;
        var want = new[] { (double)run["prediction"]! }.Concat(run["beta"]!.AsArray().SelectMany(b => b!.AsArray().Select(v => (double)v!))).ToArray();
        double worst = MorIcl.Runtime.TraceDecoder.RelativeError(new[] { numbers }, new[] { want });
        Assert.True(worst <= 1e-12, $"run_npz.py differs from mor-icl run by {worst:G3}");

        void Rejects(string expected, params string[] args)
        {
            var r = PythonTool.Run(new[] { PythonTool.Script("run_npz.py") }.Concat(args).ToArray());
            Assert.True(r.Exit == 2, $"exit {r.Exit}: {r.Out}{r.Err}");
            Assert.Contains(expected, r.Err);
            Assert.Equal("", r.Out);
        }
        Rejects("the model takes d = 3", npz, PyTorchModuleTests.WritePrompt(cli, "d2.csv", PromptSampler.Sample(Fixtures.Spec(2, 2, 0.5, 3), 5, 4, 0)));
        Rejects("past the model's positional scheme (n <= 31)", npz, PyTorchModuleTests.WritePrompt(cli, "long.csv", PromptSampler.Sample(truth, 32, 4, 0)));
        Rejects("missing.csv: file not found", npz, cli.PathOf("missing.csv"));
        Rejects("not a .npz archive", model, prompt);
        Rejects("usage", npz);
    }
}
