using System.CommandLine;
using MorIcl.Cli.Hosting;
using System.Globalization;
using System.Text;
using MorIcl.Comparison;
using MorIcl.Construction;
using MorIcl.IO;
using MorIcl.Mixture;
using MorIcl.Training;

namespace MorIcl.Cli.Commands;

/// <summary>
/// <c>mor-icl seed000 from-construction --out DIR</c>: trains the constructed architecture from the
/// construction's own weights (<see cref="ConstructionFineTuning"/>) for each peak learning rate, and
/// reports over training the distance from the construction and the SPD against gradient EM.
/// Writes from-construction.csv and from-construction.png.
/// </summary>
internal static class FromConstructionCommand
{
    public static Command Create(CliContext ctx)
    {
        var output = new Option<string>("--out") { Description = "Folder for from-construction.csv and .png.", Required = true };
        var lrs = new Option<string>("--lrs") { Description = "Peak learning rates, comma-separated (one run each).", DefaultValueFactory = _ => "1e-6,1e-5,1e-4,1e-3" };
        var steps = new Option<int>("--steps") { Description = "Training steps per run.", DefaultValueFactory = _ => 200 };
        var warmup = new Option<int>("--warmup") { Description = "Steps of the geometric warm-up (from 1e-4 × the peak).", DefaultValueFactory = _ => 20 };
        var batch = new Option<int>("--batch") { Description = "Prompts per step.", DefaultValueFactory = _ => 16 };
        var every = new Option<int>("--every") { Description = "Steps between measurements.", DefaultValueFactory = _ => 10 };
        var prompts = new Option<int>("--prompts") { Description = "Evaluation prompts.", DefaultValueFactory = _ => 100 };
        var dim = new Option<int>("--dim") { Description = "Dimension d.", DefaultValueFactory = _ => 2 };
        var comps = new Option<int>("--components") { Description = "Components K.", DefaultValueFactory = _ => 2 };
        var sigma = new Option<double>("--sigma") { Description = "Noise level σ.", DefaultValueFactory = _ => 0.5 };
        var n = new Option<int>("--prompt-length") { Description = "Examples n per prompt.", DefaultValueFactory = _ => 20 };
        var emIt = new Option<int>("--em-iterations") { Description = "Outer EM iterations S of the construction.", DefaultValueFactory = _ => 2 };
        var gd = new Option<int>("--gd-steps") { Description = "Inner steps T of the construction.", DefaultValueFactory = _ => 1 };
        var alpha = new Option<double>("--step-size") { Description = "Step size α of the construction.", DefaultValueFactory = _ => 0.5 };
        var seed = new Option<int>("--seed") { Description = "Seed of β, the batches and the evaluation prompts.", DefaultValueFactory = _ => 1 };
        var cmd = new Command("from-construction", "Train the constructed architecture from the construction's weights (warm-up, cosine decay, backoff); distance from the construction and SPD against gradient EM over training.")
        { output, lrs, steps, warmup, batch, every, prompts, dim, comps, sigma, n, emIt, gd, alpha, seed };
        ThreadsOption.AddTo(cmd);
        cmd.SetAction(r => MorIclCli.Guard(ctx, "seed000 from-construction", () =>
        {
            var peaks = OptionParsing.Numbers(r.GetValue(lrs)!, "--lrs");
            if (peaks.Any(v => !(v > 0))) throw new SpecificationException("--lrs: every learning rate must be > 0");
            int total = r.GetValue(steps), warm = r.GetValue(warmup);
            if (total < 1) throw new SpecificationException($"--steps must be at least 1, got {total}");
            if (warm < 0 || warm > total) throw new SpecificationException($"--warmup must lie in [0, --steps], got {warm}");
            int k = r.GetValue(comps), length = r.GetValue(n), s = r.GetValue(seed);
            var task = new TrainingTask(r.GetValue(dim), k, r.GetValue(sigma), Enumerable.Repeat(1.0 / k, k).ToArray(), MixtureMode.PerSample, length, s);
            task.Validate();
            var spec = new ConstructionSpec(task.D, k, task.Sigma, task.Mixing, r.GetValue(emIt), r.GetValue(gd), r.GetValue(alpha), maxPromptLength: Math.Max(31, length));
            var shown = r.GetValue(output)!;
            using var outputs = new StagedOutputs();
            var folder = outputs.Folder(shown);
            var all = new List<FineTuningPoint>();
            foreach (var lr in peaks)
                all.AddRange(ConstructionFineTuning.Run(spec, task, new FineTuningSchedule(lr, total, warm), r.GetValue(batch), r.GetValue(every), r.GetValue(prompts), s, ctx.Out.WriteLine));
            var inv = CultureInfo.InvariantCulture;
            var sb = new StringBuilder("peak_lr,step,lr,loss,distance,relative_distance,max_weight_change,spd_gradient_em,excess_mse,gradient_em_excess_mse,backoffs,gradient_norm\n");
            foreach (var p in all)
                sb.Append(string.Join(",", new[] { p.PeakLearningRate, p.Step, p.LearningRate, p.Loss, p.Distance, p.RelativeDistance, p.MaxChange, p.SpdGradientEm, p.ExcessMse, p.GradientEmExcessMse, p.Backoffs, p.GradientNorm }
                    .Select(v => v.ToString("R", inv)))).Append('\n');
            AtomicFile.WriteAllText(Path.Combine(folder, "from-construction.csv"), sb.ToString());
            var panels = new List<BandPlot.Panel>();
            BandPlot.Band[] Curves(Func<FineTuningPoint, double> f) => all.GroupBy(p => p.PeakLearningRate).Select((g, i) =>
                new BandPlot.Band($"peak lr {g.Key.ToString("G3", inv)}", g.Select(p => (double)p.Step).ToArray(), g.Select(f).ToArray(), null, null, i, i)).ToArray();
            panels.Add(new BandPlot.Panel("SPD against gradient EM (per d)", Curves(p => p.SpdGradientEm)));
            panels.Add(new BandPlot.Panel("distance from the construction ‖θ − θ₀‖ / ‖θ₀‖", Curves(p => p.RelativeDistance)));
            panels.Add(new BandPlot.Panel($"excess MSE (gradient EM: {all[0].GradientEmExcessMse.ToString("G3", inv)})", Curves(p => p.ExcessMse)));
            panels.Add(new BandPlot.Panel("training loss", Curves(p => p.Loss)));
            BandPlot.WritePanels(Path.Combine(folder, "from-construction.png"),
                $"Training from the construction (d = {task.D}, K = {k}, S = {spec.EmIterations}, T = {spec.GradientSteps}): Adam, geometric warm-up {warm} steps, cosine decay, backoff", "step", "", panels, logX: false);
            outputs.Commit(ctx.Interrupt);
            ctx.Out.WriteLine($"wrote from-construction.csv and from-construction.png to {shown}");
            return ExitCodes.Ok;
        }));
        return cmd;
    }
}
