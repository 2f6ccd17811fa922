using Google.Protobuf;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Export;

/// <summary>
/// The ONNX files <c>mor-icl export</c> writes pass the onnx package's checker with full shape
/// inference (python3-onnx), for constructed models (K-component and symmetric, double and float)
/// and a gpt2 training run; damaged files — a node reading a tensor nothing defines, an
/// operator that does not exist — are rejected by the same checker.
/// </summary>
public class OnnxCheckerTests
{
    private const string Checker = """
        import sys, onnx
        for path in sys.argv[1:]:
            try:
                onnx.checker.check_model(onnx.load(path), full_check=True)
                print("ok", path)
            except Exception as e:
                print("rejected", path, type(e).__name__, str(e).splitlines()[0] if str(e) else "")
        """;

    [PythonFact("onnx")]
    public void ExportsPassTheCheckerAndDamagedFilesDoNot()
    {
        using var cli = new CliRunner();
        var files = new List<string>();
        void Export(string model, string name, params string[] extra)
        {
            var r = cli.Run(new[] { "export", "--model", model, "--onnx", cli.PathOf(name) }.Concat(extra).ToArray());
            Assert.True(r.ExitCode == 0, r.Err);
            files.Add(cli.PathOf(name));
        }
        Assert.Equal(0, cli.Run("construct", "--dim", "4", "--components", "3", "--em-iterations", "2", "--gd-steps", "2", "--step-size", "0.4", "--sigma", "0.7",
            "--mixing", "0.2,0.3,0.5", "--margin", "2048", "--max-prompt-length", "200", "--out", cli.PathOf("k3.json")).ExitCode);
        Assert.Equal(0, cli.Run("construct", "--dim", "2", "--components", "2", "--em-iterations", "1", "--gd-steps", "1", "--step-size", "0.5", "--sigma", "0.5",
            "--symmetric", "--out", cli.PathOf("sym.json")).ExitCode);
        Export(cli.PathOf("k3.json"), "k3.onnx");
        Export(cli.PathOf("k3.json"), "k3-float.onnx", "--precision", "float");
        Export(cli.PathOf("sym.json"), "sym.onnx");
        var run = cli.PathOf("gpt2");
        var r = cli.Run("train", "--family", "gpt2", "--layers", "1", "--width", "8", "--heads", "2", "--dim", "2", "--components", "2", "--sigma", "0.3",
            "--prompt-length", "6", "--batch", "4", "--steps", "2", "--out", run);
        Assert.True(r.ExitCode == 0, r.Err);
        Export(run, "gpt2-run.onnx");
        // Damage: a node reads an undefined tensor; a node has an operator ONNX does not have.
        var model = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(cli.PathOf("sym.onnx")));
        model.Graph.Node[5].Input[0] = "defined_nowhere";
        File.WriteAllBytes(cli.PathOf("undefined-input.onnx"), model.ToByteArray());
        model = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(cli.PathOf("sym.onnx")));
        model.Graph.Node[5].OpType = "NotAnOperator";
        File.WriteAllBytes(cli.PathOf("unknown-operator.onnx"), model.ToByteArray());

        var script = cli.Write("check.py", Checker);
        var py = PythonTool.Run(new[] { script }.Concat(files).Append(cli.PathOf("undefined-input.onnx")).Append(cli.PathOf("unknown-operator.onnx")).ToArray());
        Assert.True(py.Exit == 0, py.Err);
        var lines = py.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var f in files) Assert.Contains($"ok {f}", lines);
        Assert.Contains(lines, l => l.StartsWith($"rejected {cli.PathOf("undefined-input.onnx")}"));
        Assert.Contains(lines, l => l.StartsWith($"rejected {cli.PathOf("unknown-operator.onnx")}"));
    }
}
