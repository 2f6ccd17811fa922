using System.Text.Json.Nodes;
using MorIcl.Export;
using MorIcl.IO;
using MorIcl.Mixture;
using MorIcl.Tests.Export;
using MorIcl.Tests.Support;
using MorIcl.Training;
using MorIcl.Training.Gpt;

namespace MorIcl.Tests.Cli;

/// <summary>
/// <c>mor-icl export</c>, <c>import</c>, <c>run --model RUNDIR</c> and <c>run --model F.onnx</c> from the command line: bad input
/// gets exit code 2 with a message and writes nothing; a gpt2 model written elsewhere in the documented
/// layout (plain safetensors, no MorIcl metadata) imports with its heads and task given, and the run
/// predicts what the same parameters predict in MorIcl.
/// </summary>
public class ExportImportCommandTests
{
    [Fact]
    public void ExportRejectsBadInputAndWritesNothing()
    {
        using var cli = new CliRunner();
        var model = cli.PathOf("model.json");
        Assert.Equal(0, cli.Run("construct", "--dim", "2", "--components", "2", "--em-iterations", "1", "--gd-steps", "1", "--step-size", "0.5", "--sigma", "0.5", "--out", model).ExitCode);
        void Fails(string expected, params string[] args)
        {
            var r = cli.Run(new[] { "export" }.Concat(args).ToArray());
            Assert.Equal(2, r.ExitCode);
            Assert.Contains(expected, r.Err);
        }
        Fails("give --onnx F.onnx and/or --safetensors", "--model", model);
        Fails("file not found", "--model", cli.PathOf("none.json"), "--onnx", cli.PathOf("a.onnx"));
        Fails("'half' is not a precision", "--model", model, "--onnx", cli.PathOf("a.onnx"), "--precision", "half");
        Fails("does not exist", "--model", model, "--onnx", cli.PathOf("a.onnx"), "--safetensors", cli.PathOf("no/such/dir/a.safetensors"));
        Fails("not a training run", "--model", cli.Dir, "--onnx", cli.PathOf("a.onnx"));
        Assert.False(File.Exists(cli.PathOf("a.onnx")));
        Assert.Empty(Directory.GetFiles(cli.Dir, "*.tmp"));
    }

    [Fact]
    public void RunTakesAnOnnxExportAndGivesWhatTheModelGives()
    {
        using var cli = new CliRunner();
        string model = cli.PathOf("model.json"), onnx = cli.PathOf("model.onnx");
        Assert.Equal(0, cli.Run("construct", "--dim", "2", "--components", "2", "--em-iterations", "2", "--gd-steps", "1", "--step-size", "0.5", "--sigma", "0.5", "--out", model).ExitCode);
        Assert.Equal(0, cli.Run("export", "--model", model, "--onnx", onnx).ExitCode);
        var csv = PyTorchModuleTests.WritePrompt(cli, "p.csv", PromptSampler.Sample(Fixtures.Spec(2, 2, 0.5, 2), 30, 1, 0));
        var want = JsonNode.Parse(cli.Run("run", "--model", model, "--data", csv, "--json").Out)!;
        var r = cli.Run("run", "--model", onnx, "--data", csv, "--json");
        Assert.True(r.ExitCode == 0, r.Err);
        var got = JsonNode.Parse(r.Out)!;
        Assert.Equal("onnxruntime", (string)got["engine"]!);
        Assert.True((bool)got["positions_in_range"]!);
        double w = (double)want["prediction"]!, g = (double)got["prediction"]!;
        Assert.True(Math.Abs(g - w) <= 1e-12 * Math.Abs(w), $"{g} vs {w}");
        File.WriteAllText(cli.PathOf("bad.onnx"), "not a model");
        r = cli.Run("run", "--model", cli.PathOf("bad.onnx"), "--data", csv);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("ONNX Runtime cannot load it", r.Err);
        r = cli.Run("run", "--model", onnx, "--data", PyTorchModuleTests.WritePrompt(cli, "d3.csv", PromptSampler.Sample(Fixtures.Spec(3, 2, 0.5, 2), 5, 1, 0)));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("takes d = 2", r.Err);
    }

    [Fact]
    public void AGptWrittenElsewhereImportsAndRuns()
    {
        using var cli = new CliRunner();
        // "Trained elsewhere": parameters in the documented gpt2 layout, written without any MorIcl metadata.
        var gpt = new GptModel(new GptConfig(2, 2, 8, 2), 11, Precision.Double);
        var foreign = cli.PathOf("foreign.safetensors");
        SafeTensorsFile.Write(foreign, GptTensors.ToTensors(gpt, ExportPrecision.Double), new Dictionary<string, string>());
        var run = cli.PathOf("run");
        void Fails(string expected, params string[] args)
        {
            var r = cli.Run(new[] { "import", "--safetensors", foreign, "--out", run }.Concat(args).ToArray());
            Assert.Equal(2, r.ExitCode);
            Assert.Contains(expected, r.Err);
            Assert.False(Directory.Exists(run));
        }
        Fails("give --heads", "--family", "gpt2");
        Fails("carries no task", "--family", "gpt2", "--heads", "2");
        Fails("cannot be imported; import takes gpt2", "--family", "constructed");
        Fails("not divisible by the number of heads", "--family", "gpt2", "--heads", "3", "--components", "2", "--sigma", "0.3");
        var r = cli.Run("import", "--safetensors", foreign, "--out", run, "--family", "gpt2", "--heads", "2", "--components", "2", "--sigma", "0.3", "--precision", "double");
        Assert.True(r.ExitCode == 0, r.Err);
        var loaded = TrainedRun.Load(run);
        Assert.Equal(gpt.Parameters, loaded.Model.Parameters);
        Assert.Equal(0, loaded.Steps);
        Assert.True(File.Exists(Path.Combine(run, ImportedRun.ProvenanceFile)));

        var p = PromptSampler.Sample(Fixtures.Spec(2, 2, 0.3, 1), 6, 3, 0);
        var csv = PyTorchModuleTests.WritePrompt(cli, "p.csv", p);
        r = cli.Run("run", "--model", run, "--data", csv, "--json");
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Equal(gpt.Predict(new[] { (p.Examples, p.Query) })[0], (double)JsonNode.Parse(r.Out)!["prediction"]!);
        r = cli.Run("run", "--model", run, "--data", PyTorchModuleTests.WritePrompt(cli, "d3.csv", PromptSampler.Sample(Fixtures.Spec(3, 2, 0.3, 1), 6, 3, 0)));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("takes d = 2", r.Err);

        // An existing run is not overwritten; a file missing a tensor or with a stray one is named.
        var before = File.ReadAllBytes(Path.Combine(run, Trainer.CheckpointFile));
        r = cli.Run("import", "--safetensors", foreign, "--out", run, "--family", "gpt2", "--heads", "2", "--components", "2", "--sigma", "0.3");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("already holds files", r.Err);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(run, Trainer.CheckpointFile)));
        var tensors = GptTensors.ToTensors(gpt, ExportPrecision.Double);
        SafeTensorsFile.Write(foreign, tensors.Where(t => t.Name != "block1.attn.Wk").ToList(), new Dictionary<string, string>());
        r = cli.Run("import", "--safetensors", foreign, "--out", cli.PathOf("r2"), "--family", "gpt2", "--heads", "2", "--components", "2", "--sigma", "0.3");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("tensor 'block1.attn.Wk' is missing", r.Err);
        SafeTensorsFile.Write(foreign, tensors.Append(new SafeTensor("block1.attn.rotary", "F64", new long[] { 1 }, new[] { 0.0 })).ToList(), new Dictionary<string, string>());
        r = cli.Run("import", "--safetensors", foreign, "--out", cli.PathOf("r2"), "--family", "gpt2", "--heads", "2", "--components", "2", "--sigma", "0.3");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("tensor 'block1.attn.rotary' is not part of a gpt2 model", r.Err);
        Assert.False(Directory.Exists(cli.PathOf("r2")));
    }
}
