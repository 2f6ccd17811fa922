using System.CommandLine;
using MorIcl.Cli.Hosting;
using MorIcl.IO;
using MorIcl.Numerics;
using MorIcl.Seed003;
using Spectre.Console;

namespace MorIcl.Cli.Commands;

/// <summary>
/// <c>mor-icl seed003 theorem1|figure2|figure3|figure4 --out dir</c>: seed 003's experiments at a scale
/// this machine runs in minutes (or the paper's scale where it is closed form), each writing a CSV of
/// every number and a PNG.
/// </summary>
internal static class Seed003Command
{
    public static Command Create(CliContext ctx)
    {
        var cmd = new Command("seed003", "Seed 003 (one-layer multi-head softmax attention learning ridge regression): experiments and figures.");
        cmd.Add(Experiment(ctx, "theorem1", "Theorem 1: GD with the theorem's rates; the gap and the bound ρ^t Δ(0) at every step, and their ratio (the slack).", Theorem1));
        cmd.Add(Experiment(ctx, "figure2", "Figure 2: Adam on sampled batches; population training loss and inference loss (1/K)‖ŷ − ŷ*‖² in-domain and out-of-domain.", Figure2));
        cmd.Add(Experiment(ctx, "figure3", "Figure 3: the expected gap (1/K)‖ŷ* − ŷ_best‖² against N at m = 100, τ = 0.01 (closed form, the paper's scale).", Figure3));
        cmd.Add(Experiment(ctx, "figure4", "Figure 4: population training loss against iteration for several numbers of heads H.", Figure4));
        return cmd;
    }

    /// <summary>An experiment's run: it writes into <see cref="Folder"/> (staged) and names <see cref="Shown"/> (the --out given).</summary>
    private sealed record Run(string Folder, string Shown, int Seed, int Steps, CliContext Ctx);

    private static Command Experiment(CliContext ctx, string name, string description, Func<Run, string> body)
    {
        var output = new Option<string>("--out") { Description = "Folder for the CSV and PNG.", Required = true };
        var seed = new Option<int>("--seed") { Description = "Root seed.", DefaultValueFactory = _ => 1 };
        var steps = new Option<int?>("--steps") { Description = "Training steps (each experiment has its own default)." };
        var cmd = new Command(name, description) { output, seed, steps };
        ThreadsOption.AddTo(cmd);
        cmd.SetAction(r => MorIclCli.Guard(ctx, $"seed003 {name}", () =>
        {
            var folder = r.GetValue(output)!;
            if (r.GetValue(steps) is int s && s < 1) throw new SpecificationException($"--steps must be at least 1, got {s}");
            // Every experiment keeps a few curves (at most one per head count of Figure 4) of steps + 1 numbers.
            if (r.GetValue(steps) is int t) MemoryBudget.Require(8.0 * 12 * (t + 1.0) * 3, $"--steps {t}");
            using var outputs = new StagedOutputs();
            string summary = body(new Run(outputs.Folder(folder), folder, r.GetValue(seed), r.GetValue(steps) ?? 0, ctx));
            outputs.Commit(ctx.Interrupt);
            ctx.Out.WriteLine(summary);
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    private static T WithProgress<T>(CliContext ctx, string label, int steps, Func<Action<int, double>, T> work) =>
        ProgressBars.Run(ctx.Console, label, steps, report => work((t, loss) => report(t, $"{label}: loss {loss:G4}")));

    private static string Theorem1(Run run)
    {
        var setting = new Seed003Setting(12, 6, 4, 5, 0.1, 6);
        int steps = run.Steps > 0 ? run.Steps : 5000;
        var r = WithProgress(run.Ctx, "Theorem 1 GD", steps, _ => TheoremOneRun.Execute(setting, steps, run.Seed));
        var t = Enumerable.Range(0, steps + 1).Select(i => (double)i).ToArray();
        var curves = new[]
        {
            new CurvePlot.Curve("L(θ_t) − inf L", t, r.Gap),
            new CurvePlot.Curve("bound (1 − η_w ζ₀/2K)^t Δ(0)", t, r.Bound),
            new CurvePlot.Curve("slack: bound / gap", t, r.Bound.Zip(r.Gap, (b, g) => b / g).ToArray()),
        };
        CurvePlot.WriteCsv(Path.Combine(run.Folder, "theorem1.csv"), "step", "value", curves);
        CurvePlot.WritePng(Path.Combine(run.Folder, "theorem1.png"), "Seed 003 Theorem 1: gap, bound and slack", "GD step t", "value", curves, legend: ScottPlot.Alignment.LowerLeft);
        var c = r.Constants;
        double minSlack = curves[2].Y.Min();
        return $"Theorem 1 ({setting}): ζ₀ = {c.Zeta0:G4}, γ = {c.Gamma:G4}, η_Q = {c.EtaQ:G3}, η_w = {c.EtaW:G3}, ρ = 1 − {1 - c.Rate:G3}; " +
               $"bound/gap from {minSlack:G4} (min) to {curves[2].Y[^1]:G4} (step {steps}); {(minSlack >= 1 - 1e-9 ? "the bound holds at every step" : "THE BOUND IS VIOLATED")} → {run.Shown}/theorem1.csv, theorem1.png";
    }

    private static string Figure2(Run run)
    {
        // Reduced from the paper's N = 30, K = 200, d = 100, m = 20, H = 64, lr 1e−4: same roles, minutes here.
        var setting = new Seed003Setting(60, 20, 10, 8, 0.1, 16);
        int steps = run.Steps > 0 ? run.Steps : 300;
        const int batch = 256, testSize = 200, every = 5;
        var task = setting.Task(run.Seed);
        var loss = new PopulationLoss(task);
        var ridge = new RidgeReference(task);
        var model = SoftmaxAttentionModel.Initialise(task, setting.H, 1, run.Seed);
        var rng = SeedSequence.Create(run.Seed, 0, 0xF2);
        var inDomain = Enumerable.Range(0, testSize).Select(_ => task.Sample(rng)).ToArray();
        var ood = Enumerable.Range(0, testSize).Select(_ => task.Sample(rng, TaskPrior.OutOfDomain)).ToArray();
        var xs = new List<double>(); var train = new List<double>(); var inf = new List<double>(); var infOod = new List<double>();
        double Inference(RepresentationPrompt[] set)
        {
            var a = model.EffectiveWeights();
            return set.Average(p => SoftmaxAttentionModel.Predict(a, p.Labels).Zip(ridge.TransformerTarget(p.Labels), (x, y) => (x - y) * (x - y)).Sum() / task.K);
        }
        var trace = WithProgress(run.Ctx, "Figure 2 Adam", steps, report => Seed003Training.Adam(model, loss, 0.01, steps, batch, run.Seed, (t, l) =>
        {
            report(t, l);
            if (t % every != 0 && t != steps) return;
            xs.Add(t); train.Add(l); inf.Add(Inference(inDomain)); infOod.Add(Inference(ood));
        }));
        var x = xs.ToArray();
        var curves = new[]
        {
            new CurvePlot.Curve("training loss L(θ) (population)", x, train.ToArray()),
            new CurvePlot.Curve("inference loss (1/K)‖ŷ − ŷ*‖², in-domain", x, inf.ToArray()),
            new CurvePlot.Curve("inference loss, out-of-domain λ ~ N(1, 4I)", x, infOod.ToArray()),
        };
        CurvePlot.WriteCsv(Path.Combine(run.Folder, "figure2.csv"), "iteration", "loss", curves);
        CurvePlot.WritePng(Path.Combine(run.Folder, "figure2.png"), "Seed 003 Figure 2 (reduced): one-layer transformer", "iteration", "loss", curves);
        return $"Figure 2 ({setting}; Adam lr 0.01, batch {batch} fresh prompts, {steps} steps): training loss {trace[0]:G4} → {trace[^1]:G4} (inf L = {loss.Infimum:G4}); " +
               $"inference loss in-domain {inf[0]:G3} → {inf[^1]:G3}, out-of-domain {infOod[0]:G3} → {infOod[^1]:G3} → {run.Shown}/figure2.csv, figure2.png";
    }

    private static string Figure3(Run run)
    {
        // The paper's scale: m = 100, τ = 0.01, N from 50 to 150; K = 200, d = 100. Closed form (RidgeReference.ExpectedGap).
        var ns = Enumerable.Range(0, 21).Select(i => 50 + 5 * i).ToArray();
        var gaps = ns.Select(n => new RidgeReference(RepresentationTask.Random(100, 200, n, 0.01, new GaussianTableFeatures(100, run.Seed), run.Seed)).ExpectedGap()).ToArray();
        var curve = new CurvePlot.Curve("E (1/K)‖ŷ* − ŷ_best‖², m = 100", ns.Select(n => (double)n).ToArray(), gaps);
        CurvePlot.WriteCsv(Path.Combine(run.Folder, "figure3.csv"), "N", "gap", new[] { curve });
        CurvePlot.WritePng(Path.Combine(run.Folder, "figure3.png"), "Seed 003 Figure 3: gap to the best ridge against N", "N (examples in the prompt)", "gap", new[] { curve });
        int best = Array.IndexOf(gaps, gaps.Min());
        return $"Figure 3 (K = 200, d = 100, m = 100, τ = 0.01): gap {string.Join(", ", ns.Zip(gaps, (n, g) => $"N={n}: {g:G3}"))}; smallest at N = {ns[best]} → {run.Shown}/figure3.csv, figure3.png";
    }

    private static string Figure4(Run run)
    {
        // Reduced from the paper's N = 30 (H ∈ {1, 5, 10, 20, 30, 40, 50, 100, 400}) to N = 10, keeping H/N.
        int steps = run.Steps > 0 ? run.Steps : 600;
        var heads = new[] { 1, 2, 3, 7, 10, 13, 17, 33, 133 };
        var baseSetting = new Seed003Setting(60, 20, 10, 8, 0.1, 1);
        var task = baseSetting.Task(run.Seed);
        var loss = new PopulationLoss(task);
        var curves = new List<CurvePlot.Curve>();
        var finals = new List<string>();
        foreach (var h in heads)
        {
            var model = SoftmaxAttentionModel.Initialise(task, h, 1, run.Seed);
            var trace = WithProgress(run.Ctx, $"Figure 4, H = {h}", steps, report => Seed003Training.Adam(model, loss, 0.01, steps, 0, run.Seed, report));
            var gap = trace.Select(l => l - loss.Infimum).ToArray();
            curves.Add(new CurvePlot.Curve($"H = {h}", Enumerable.Range(0, steps + 1).Select(i => (double)i).ToArray(), gap));
            finals.Add($"H={h}: {gap[^1]:G3}");
        }
        CurvePlot.WriteCsv(Path.Combine(run.Folder, "figure4.csv"), "iteration", "gap", curves);
        CurvePlot.WritePng(Path.Combine(run.Folder, "figure4.png"), $"Seed 003 Figure 4 (reduced, N = {task.N}): L − inf L for several H", "iteration", "L(θ) − inf L", curves);
        return $"Figure 4 (K = {baseSetting.K}, d = {baseSetting.D}, N = {baseSetting.N}, m = {baseSetting.M}, τ = {baseSetting.Tau}, H ∈ {{{string.Join(", ", heads)}}}; Adam lr 0.01 on the population loss, {steps} steps): final gap {string.Join(", ", finals)} (Δ(0) = {curves[0].Y[0]:G3}) → {run.Shown}/figure4.csv, figure4.png";
    }
}
