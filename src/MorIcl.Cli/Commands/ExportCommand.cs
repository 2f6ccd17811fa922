using System.CommandLine;
using MorIcl.Export;
using MorIcl.IO;

namespace MorIcl.Cli.Commands;

/// <summary>
/// <c>mor-icl export --model M [--onnx F.onnx] [--safetensors F.safetensors] [--precision double|float]</c>:
/// writes a model file or a training run as ONNX (the raw prompt in, prediction and β̂ out, the
/// embedding inside the graph) and/or safetensors (named tensors and a MorIcl document; docs/export.md).
/// </summary>
internal static class ExportCommand
{
    public static Command Create(CliContext ctx)
    {
        var modelOpt = new Option<string>("--model") { Description = "A model JSON (mor-icl construct, or hand-built) or a training run folder.", Required = true };
        var onnx = new Option<string?>("--onnx") { Description = "Write an ONNX model (opset 17): inputs x (n × d), y (n), query (d)." };
        var safetensors = new Option<string?>("--safetensors") { Description = "Write the weights as safetensors with the MorIcl document in __metadata__." };
        var precision = new Option<string?>("--precision") { Description = "double or float (default: the model's own; model files: double)." };
        var cmd = new Command("export", "Export a model or a training run as ONNX and/or safetensors, for ONNX Runtime, PyTorch (tools/moricl_torch.py) and others.")
        { modelOpt, onnx, safetensors, precision };
        cmd.SetAction(r => MorIclCli.Guard(ctx, "export", () =>
        {
            string? onnxPath = r.GetValue(onnx), stPath = r.GetValue(safetensors);
            if (onnxPath is null && stPath is null) throw new SpecificationException("give --onnx F.onnx and/or --safetensors F.safetensors");
            using var outputs = new StagedOutputs();
            var onnxStage = onnxPath is null ? null : outputs.File(onnxPath);
            var stStage = stPath is null ? null : outputs.File(stPath);
            var source = ExportSource.Load(r.GetValue(modelOpt)!);
            var p = r.GetValue(precision) switch
            {
                null => source.NativePrecision,
                "double" => ExportPrecision.Double,
                "float" => ExportPrecision.Float,
                var other => throw new SpecificationException($"--precision: '{other}' is not a precision; use double or float"),
            };
            // Both files are built before either is written.
            var onnxBytes = onnxPath is null ? null : ModelExport.Onnx(source, p);
            var stBytes = stPath is null ? null : ModelExport.Safetensors(source, p);
            if (onnxBytes is not null) AtomicFile.WriteAllBytes(onnxStage!, onnxBytes);
            if (stBytes is not null) AtomicFile.WriteAllBytes(stStage!, stBytes);
            outputs.Commit(ctx.Interrupt);
            string what = source.Run is null ? $"model {source.Path}" : $"{source.Family} run {source.Path} ({source.Run.Steps} steps)";
            var files = new[] { onnxPath is null ? null : $"{onnxPath} (ONNX, opset {OnnxExport.Opset})", stPath is null ? null : $"{stPath} (safetensors)" }.Where(f => f is not null);
            ctx.Out.WriteLine($"exported {what} in {(p == ExportPrecision.Double ? "double" : "float")} → {string.Join(", ", files)}");
            return ExitCodes.Ok;
        }));
        return cmd;
    }
}
