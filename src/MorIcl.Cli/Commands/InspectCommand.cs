using System.CommandLine;
using System.Globalization;
using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.IO;
using MorIcl.Runtime;
using Spectre.Console;

namespace MorIcl.Cli.Commands;

/// <summary><c>mor-icl inspect</c>: a constructed model's layout and layers, or one layer's matrices.</summary>
internal static class InspectCommand
{
    public static Command Create(CliContext ctx)
    {
        var spec = new SpecOptions();
        var modelOpt = new Option<string?>("--model") { Description = "Model JSON (instead of the specification flags)." };
        var layerOpt = new Option<int?>("--layer") { Description = "Show this layer's matrices with named rows and columns." };
        var emit = new Option<bool>("--emit-csharp") { Description = "Print exactly what the source generator emits for this specification." };
        var className = new Option<string>("--class-name") { Description = "Class name for --emit-csharp.", DefaultValueFactory = _ => "ConstructedModel" };
        var heatmap = new Option<string?>("--heatmap") { Description = "Write a PNG of the --layer's matrices with named axes." };
        var cmd = new Command("inspect", "Show a constructed transformer: residual layout, layers with provenance, or one layer's weights.");
        cmd.Add(modelOpt);
        spec.AddTo(cmd, required: false);
        cmd.Add(layerOpt); cmd.Add(emit); cmd.Add(className); cmd.Add(heatmap);
        cmd.SetAction(r => MorIclCli.Guard(ctx, "inspect", () =>
        {
            var model = Load(r, spec, modelOpt, w => ctx.Err.WriteLine($"warning: {w}"));
            if (r.GetValue(modelOpt) is not null && !r.GetValue(emit))
                ctx.Out.WriteLine($"weights (sha256 {WeightsDigest.Of(model)}): {SpecificationMatch.Check(model).Detail}");
            if (r.GetValue(emit))
            {
                var name = r.GetValue(className)!;
                if (!Microsoft.CodeAnalysis.CSharp.SyntaxFacts.IsValidIdentifier(name)) throw new SpecificationException($"--class-name: '{name}' is not a C# identifier");
                ctx.Out.Write(GeneratorRunner.Emit(model.Spec, name));
                return ExitCodes.Ok;
            }
            if (r.GetValue(heatmap) is { } png)
            {
                if (r.GetValue(layerOpt) is not int hl) throw new SpecificationException("--heatmap needs --layer N");
                if (hl < 0 || hl >= model.Layers.Count) throw new SpecificationException($"--layer {hl}: the model has layers 0 … {model.Layers.Count - 1}");
                using var outputs = new StagedOutputs();
                LayerHeatmap.Save(outputs.File(png), model, hl);
                outputs.Commit(ctx.Interrupt);
                ctx.Out.WriteLine($"wrote layer {hl} ({model.Layers[hl].Provenance.Operator}) to {png}");
                return ExitCodes.Ok;
            }
            if (r.GetValue(layerOpt) is int l)
            {
                if (l < 0 || l >= model.Layers.Count) throw new SpecificationException($"--layer {l}: the model has layers 0 … {model.Layers.Count - 1}");
                WriteLayer(ctx, model, l);
            }
            else WriteSummary(ctx, model);
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    internal static TransformerModel Load(ParseResult r, SpecOptions spec, Option<string?> modelOpt, Action<string>? warn = null)
    {
        var path = r.GetValue(modelOpt);
        if (path is not null && spec.AnyGiven(r)) throw new SpecificationException("give either --model or the specification flags, not both");
        if (path is not null) return ModelJson.Read(path, warn);
        if (!spec.AnyGiven(r)) throw new SpecificationException("give --model model.json or a specification (--dim, --components, --em-iterations, --gd-steps, --step-size, --sigma)");
        var specification = spec.Build(r);
        ConstructionMemory.Require(specification);
        return Compiler.Compile(specification);
    }

    /// <summary>Declared margin of a layer, in words short enough for a table.</summary>
    internal static string DeclaredMargin(Layer layer) => layer switch
    {
        MlpLayer => "exact",
        AttentionLayer a when a.Heads.All(h => h.Admission.AdmitsAll) => "exact",
        AttentionLayer a when a.Heads.Any(h => h.Activation == Activation.Softmax) => "R (leak ≤ N·e^−R)",
        _ => "R − |score|",
    };

    internal static int NonZeros(Layer layer) => layer switch
    {
        AttentionLayer a => a.Heads.Sum(h => h.Query.NonZeros + h.Key.NonZeros + h.Value.NonZeros),
        MlpLayer m => m.W1.NonZeros + m.W2.NonZeros + m.B1.Count(v => v != 0) + m.B2.Count(v => v != 0),
        _ => 0,
    };

    private static void WriteSummary(CliContext ctx, TransformerModel model)
    {
        var s = model.Spec;
        ctx.Out.WriteLine($"{(s.Symmetric ? "symmetric two-component" : $"K = {s.Components}")} gradient EM, d = {s.Dimension}, σ = {F(s.Sigma)}, π = ({string.Join(", ", s.Mixing.Select(F))}), S = {s.EmIterations}, T = {s.GradientSteps}, α = {F(s.StepSize)}, R = {F(s.Margin)}");
        ctx.Out.WriteLine($"{model.Layers.Count} layers, D = {model.Dimension} residual rows, tokens: n examples, 1 query, {model.Embedding.AuxiliaryCount} auxiliary ({string.Join(", ", model.Embedding.AuxiliaryNames)}); prompts up to n = {model.MaxPromptLength}");
        var layout = new Table().AddColumn("rows").AddColumn("block").AddColumn("meaning");
        foreach (var b in model.Layout.Blocks)
            layout.AddRow(b.Width == 1 ? $"{b.Start}" : $"{b.Start}–{b.Start + b.Width - 1}", Markup.Escape(b.Name), Markup.Escape(b.Description));
        ctx.Console.Write(layout);
        var layers = new Table().AddColumn("layer").AddColumn("operator").AddColumn("s").AddColumn("t").AddColumn("heads").AddColumn("activation").AddColumn("non-zeros").AddColumn("margin").AddColumn("computes");
        for (int l = 0; l < model.Layers.Count; l++)
        {
            var layer = model.Layers[l];
            var p = layer.Provenance;
            string heads = layer is AttentionLayer a ? a.Heads.Length.ToString(CultureInfo.InvariantCulture) : "-";
            string act = layer is AttentionLayer at ? string.Join("/", at.Heads.Select(h => ActivationNames.Key(h.Activation)).Distinct()) : "mlp";
            layers.AddRow($"{l}", Markup.Escape(p.Operator), p.EmIteration == 0 ? "-" : $"{p.EmIteration}", p.InnerStep == 0 ? "-" : $"{p.InnerStep}",
                heads, act, $"{NonZeros(layer)}", Markup.Escape(DeclaredMargin(layer)), Markup.Escape(p.Description));
        }
        ctx.Console.Write(layers);
    }

    private static void WriteLayer(CliContext ctx, TransformerModel model, int l)
    {
        var layer = model.Layers[l];
        var p = layer.Provenance;
        ctx.Out.WriteLine($"layer {l}: {p.Operator}{(p.EmIteration > 0 ? $", EM iteration {p.EmIteration}" : "")}{(p.InnerStep > 0 ? $", inner step {p.InnerStep}" : "")} — {p.Description}");
        ctx.Out.WriteLine($"realises: {p.Statement}; domain: {layer.Domain}");
        var rows = model.Layout.RowNames();
        if (layer is AttentionLayer a)
        {
            for (int h = 0; h < a.Heads.Length; h++)
            {
                var head = a.Heads[h];
                ctx.Out.WriteLine($"head {h} ({head.Name}, {ActivationNames.Display(head.Activation)}): {head.Description}");
                WriteMatrix(ctx, $"Q ({head.HeadDimension}×{model.Dimension}; dims 0–{head.PositionalDims - 1} positional)", head.Query, i => $"dim{i}", c => rows[c]);
                WriteMatrix(ctx, "K", head.Key, i => $"dim{i}", c => rows[c]);
                WriteMatrix(ctx, "V (row ← column)", head.Value, i => rows[i], c => rows[c]);
            }
        }
        else if (layer is MlpLayer m)
        {
            WriteMatrix(ctx, $"W1 ({m.Hidden}×{model.Dimension})", m.W1, i => $"unit{i}", c => rows[c]);
            WriteMatrix(ctx, "W2 (row ← unit)", m.W2, i => rows[i], c => $"unit{c}");
            var bias = Enumerable.Range(0, m.B2.Length).Where(i => m.B2[i] != 0).ToArray();
            if (bias.Length > 0) ctx.Out.WriteLine("b2: " + string.Join(", ", bias.Select(i => $"{rows[i]} = {F(m.B2[i])}")));
        }
    }

    /// <summary>Only the non-zero rows and columns, named.</summary>
    private static void WriteMatrix(CliContext ctx, string title, SparseMatrix m, Func<int, string> rowName, Func<int, string> colName)
    {
        var rows = m.NonZeroRows(); var cols = m.NonZeroCols();
        ctx.Out.WriteLine($"  {title}: {m.NonZeros} non-zeros");
        if (m.NonZeros == 0) return;
        var table = new Table().AddColumn("");
        foreach (var c in cols) table.AddColumn(Markup.Escape(colName(c)));
        foreach (var r in rows)
            table.AddRow(new[] { Markup.Escape(rowName(r)) }.Concat(cols.Select(c => { double v = m[r, c]; return v == 0 ? "·" : F(v); })).ToArray());
        ctx.Console.Write(table);
    }

    private static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
}
