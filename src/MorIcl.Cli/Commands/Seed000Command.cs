using System.CommandLine;
using MorIcl.Cli.Hosting;
using System.Globalization;
using MorIcl.Comparison;
using MorIcl.IO;
using MorIcl.Training;
using MorIcl.Training.Gpt;

namespace MorIcl.Cli.Commands;

/// <summary>
/// <c>mor-icl seed000 figure1|figure2a|figure2b|figure2c --out dir</c>: seed 000's Figure 1 and
/// Figure 2(a–c) at a reduced scale (<see cref="Seed000Figures"/>): one GPT-2-style model (3 blocks,
/// 2 heads, width 64 unless the figure varies it; float) trained per point, with exact EM and OLS on
/// the same evaluation prompts.
/// </summary>
internal static class Seed000Command
{
    public static Command Create(CliContext ctx)
    {
        var cmd = new Command("seed000", "Seed 000's simulation figures (excess MSE of trained transformers against n, B, D, d) at a reduced scale.");
        foreach (var f in Seed000Figures.Figures)
        {
            var output = new Option<string>("--out") { Description = "Folder for the CSV and PNG.", Required = true };
            var seed = new Option<int>("--seed") { Description = "Root seed (β, initialisation, batches, evaluation).", DefaultValueFactory = _ => 1 };
            var steps = new Option<int?>("--steps") { Description = "Training steps per point (default 1500)." };
            var smoke = new Option<bool>("--smoke") { Description = "A seconds-long smoke run (5 steps per point), to try the command." };
            var mode = new Option<string>("--mode") { Description = "per-sample (seed 000's setting) or per-prompt (one component per prompt: the context matters).", DefaultValueFactory = _ => "per-sample" };
            var figure = f;
            var sub = new Command($"figure{f}", Describe(f)) { output, seed, steps, smoke, mode };
            ThreadsOption.AddTo(sub);
            sub.SetAction(r => MorIclCli.Guard(ctx, $"seed000 figure{figure}", () =>
            {
                var scale = r.GetValue(smoke) ? Seed000Figures.Scale.Smoke : Seed000Figures.Scale.Reduced;
                if (r.GetValue(steps) is int s) scale = s >= 1 ? scale with { Steps = s } : throw new SpecificationException($"--steps must be at least 1, got {s}");
                var m = OptionParsing.Mode(r.GetValue(mode)!);
                var folder = r.GetValue(output)!;
                using var outputs = new StagedOutputs();
                var stage = outputs.Folder(folder);
                var points = Seed000Figures.Run(figure, scale, (task, width, sd) => new GptModel(new GptConfig(task.D, 3, width, 2), sd, Precision.Float), r.GetValue(seed), ctx.Out.WriteLine, m);
                string name = m == Mixture.MixtureMode.PerSample ? $"figure{figure}" : $"figure{figure}-per-prompt";
                Write(stage, name, figure, points);
                outputs.Commit(ctx.Interrupt);
                ctx.Out.WriteLine($"wrote {name}.csv and {name}.png to {folder}");
                return ExitCodes.Ok;
            }));
            cmd.Add(sub);
        }
        return cmd;
    }

    private static string Describe(string f) => f switch
    {
        "1" => "Figure 1: excess MSE against prompt length n, per K and σ.",
        "2a" => "Figure 2(a): excess MSE against the number of training prompts B (fixed pool).",
        "2b" => "Figure 2(b): excess MSE against the hidden width D.",
        _ => "Figure 2(c): excess MSE against the dimension d.",
    };

    private static string XName(string f) => f switch { "1" => "n", "2a" => "B", "2b" => "D", _ => "d" };

    private static void Write(string folder, string name, string figure, List<FigurePoint> points)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new System.Text.StringBuilder($"series,{XName(figure)},trained_excess_mse,em_excess_mse,ols_excess_mse,final_training_loss,steps\n");
        foreach (var p in points)
            sb.Append('"').Append(p.Series).Append("\",").Append(p.X.ToString("R", inv)).Append(',').Append(p.TrainedExcessMse.ToString("R", inv)).Append(',')
              .Append(p.EmExcessMse.ToString("R", inv)).Append(',').Append(p.OlsExcessMse.ToString("R", inv)).Append(',').Append(p.FinalTrainingLoss.ToString("R", inv)).Append(',').Append(p.Steps).Append('\n');
        AtomicFile.WriteAllText(Path.Combine(folder, $"{name}.csv"), sb.ToString());
        var curves = new List<CurvePlot.Curve>();
        foreach (var g in points.GroupBy(p => p.Series))
        {
            var x = g.Select(p => p.X).ToArray();
            // Excess MSE can be slightly negative from Monte-Carlo noise; the plot floors it at 1e−4 (the CSV keeps it).
            curves.Add(new CurvePlot.Curve($"trained, {g.Key}", x, g.Select(p => Math.Max(p.TrainedExcessMse, 1e-4)).ToArray()));
            curves.Add(new CurvePlot.Curve($"EM, {g.Key}", x, g.Select(p => Math.Max(p.EmExcessMse, 1e-4)).ToArray()));
        }
        CurvePlot.WritePng(Path.Combine(folder, $"{name}.png"), $"Seed 000 Figure {figure} (reduced{(name.EndsWith("per-prompt") ? ", per-prompt" : "")}): excess MSE against {XName(figure)}", XName(figure), "excess MSE", curves, logX: true);
    }
}
