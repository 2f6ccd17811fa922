using System.CommandLine;
using MorIcl.Cli.Hosting;
using MorIcl.IO;
using MorIcl.Training;

namespace MorIcl.Cli.Commands;

/// <summary>
/// <c>mor-icl train … --out run/</c> and <c>mor-icl train --resume run/</c>: trains a model on MoR
/// prompts (issue 6) with checkpoints that survive interruption.
/// </summary>
internal static class TrainCommand
{
    /// <summary>Whether the user gave the option (options with defaults have implicit results).</summary>
    private static bool Given(ParseResult r, Option o) => r.GetResult(o) is { Implicit: false };

    public static Command Create(CliContext ctx)
    {
        var family = new Option<string?>("--family") { Description = "gpt2 (GPT-2-style encoder) or constructed (the construction's architecture)." };
        var size = new Option<string?>("--size") { Description = "gpt2 size: tiny (L=3, D=64, H=2) or small (L=6, D=128, H=4); or give --layers/--width/--heads." };
        var layers = new Option<int>("--layers") { Description = "gpt2: blocks L (custom size).", DefaultValueFactory = _ => 3 };
        var width = new Option<int>("--width") { Description = "gpt2: width D (custom size).", DefaultValueFactory = _ => 64 };
        var heads = new Option<int>("--heads") { Description = "gpt2: heads H (custom size).", DefaultValueFactory = _ => 2 };
        var init = new Option<string>("--init") { Description = "constructed: random or constructed (the construction's weights plus noise).", DefaultValueFactory = _ => "random" };
        var initScale = new Option<double?>("--init-scale") { Description = "Standard deviation s of the N(0, s²) initialisation (or of the noise); default 0.02 (gpt2), 0.1 (constructed)." };
        var precision = new Option<string>("--precision") { Description = "float or double (constructed: double only).", DefaultValueFactory = _ => "float" };
        var emIt = new Option<int>("--em-iterations") { Description = "constructed: outer EM iterations S.", DefaultValueFactory = _ => 2 };
        var gd = new Option<int>("--gd-steps") { Description = "constructed: inner steps T.", DefaultValueFactory = _ => 1 };
        var alpha = new Option<double>("--step-size") { Description = "constructed: step size α.", DefaultValueFactory = _ => 0.5 };
        var dim = new Option<int>("--dim") { Description = "Dimension d.", DefaultValueFactory = _ => 5 };
        var comps = new Option<int>("--components") { Description = "Components K.", DefaultValueFactory = _ => 2 };
        var sigma = new Option<double>("--sigma") { Description = "Noise level σ.", DefaultValueFactory = _ => 0.5 };
        var mixing = new Option<string?>("--mixing") { Description = "Mixing weights π (default uniform)." };
        var mode = new Option<string>("--mode") { Description = "per-sample or per-prompt.", DefaultValueFactory = _ => "per-sample" };
        var n = new Option<int>("--prompt-length") { Description = "Examples n per prompt.", DefaultValueFactory = _ => 20 };
        var betaSeed = new Option<int>("--beta-seed") { Description = "Seed of the fixed β (Gaussian, normalised; seed 000 §5).", DefaultValueFactory = _ => 1 };
        var betaPerPrompt = new Option<bool>("--beta-per-prompt") { Description = "Draw β afresh for every prompt from the same prior (meta-learning: the context must be used)." };
        var steps = new Option<int?>("--steps") { Description = "Training steps (with --resume: extend the run to this many)." };
        var batch = new Option<int>("--batch") { Description = "Prompts per step.", DefaultValueFactory = _ => 64 };
        var lr = new Option<double>("--lr") { Description = "Learning rate (constant).", DefaultValueFactory = _ => 1e-3 };
        var optimizer = new Option<string>("--optimizer") { Description = "adam or adamw.", DefaultValueFactory = _ => "adam" };
        var decay = new Option<double>("--weight-decay") { Description = "AdamW's decoupled weight decay (adamw only).", DefaultValueFactory = _ => 0.01 };
        var pool = new Option<int>("--pool") { Description = "Train on a fixed pool of B prompts (0 = fresh prompts every step).", DefaultValueFactory = _ => 0 };
        var seed = new Option<int>("--seed") { Description = "Seed of the initialisation and the batches.", DefaultValueFactory = _ => 1 };
        var every = new Option<int>("--checkpoint-every") { Description = "Steps between checkpoints.", DefaultValueFactory = _ => 100 };
        var output = new Option<string?>("--out") { Description = "Run folder (must not hold a run, unless --force)." };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder from its checkpoint (only --steps and --checkpoint-every may change)." };
        var force = new Option<bool>("--force") { Description = "With --out: replace the run the folder holds (e.g. one marked failed)." };
        var cmd = new Command("train", "Train a transformer on MoR prompts (gpt2 or the constructed architecture), with checkpoints and exact resume.")
        { family, size, layers, width, heads, init, initScale, precision, emIt, gd, alpha, dim, comps, sigma, mixing, mode, n, betaSeed, betaPerPrompt, steps, batch, lr, optimizer, decay, pool, seed, every, output, resume, force };
        ThreadsOption.AddTo(cmd);
        var resumable = new Option[] { resume, steps, every };
        cmd.SetAction(r => MorIclCli.Guard(ctx, "train", () =>
        {
            string folder;
            RunFile run;
            Checkpoint? checkpoint = null;
            bool changed = false;
            if (r.GetValue(resume) is { } from)
            {
                // A resumed run keeps its configuration: run.json must stay true.
                var fixedOptions = cmd.Options.Where(o => Given(r, o) && !resumable.Contains(o) && o.Name != ThreadsOption.Name).Select(o => o.Name).ToArray();
                if (fixedOptions.Length > 0)
                    throw new SpecificationException($"{string.Join(", ", fixedOptions)}: a resumed run keeps the configuration in {Path.Combine(from, RunFile.FileName)}; only --steps and --checkpoint-every can change (start a new run with --out to change the others)");
                folder = from;
                run = RunFile.Read(folder);
                RunFolder.RequireNotFailed(folder);
                var cpPath = Path.Combine(folder, Trainer.CheckpointFile);
                checkpoint = File.Exists(cpPath) ? Checkpoint.Read(cpPath) : null; // none yet: the run restarts from step 0, as run.json says
                long done = checkpoint?.Step ?? 0;
                if (r.GetValue(steps) is int more)
                {
                    if (more < done) throw new SpecificationException($"--steps {more} is fewer than the {done} steps already done");
                    changed |= more != run.Options.Steps;
                    run = run with { Options = run.Options with { Steps = more } };
                }
                if (Given(r, every))
                {
                    changed |= r.GetValue(every) != run.Options.CheckpointEvery;
                    run = run with { Options = run.Options with { CheckpointEvery = r.GetValue(every) } };
                }
            }
            else
            {
                folder = r.GetValue(output) ?? throw new SpecificationException("give --out run/ for a new run, or --resume run/ to continue one");
                if (!r.GetValue(force) && RunFolder.HoldsRun(folder))
                    throw new SpecificationException(RunFolder.Failure(folder) is { } why
                        ? $"{folder} holds a run marked failed ({why}); replace it with --force, or use another --out"
                        : $"{folder} already holds a run; use --resume {folder} to continue it, --force to replace it, or another --out");
                string fam = r.GetValue(family) ?? throw new SpecificationException("--family is required: gpt2 or constructed");
                if (!ModelRequest.Families.Contains(fam)) throw new SpecificationException($"--family: unknown model family '{fam}'; the families are {string.Join(", ", ModelRequest.Families)}");
                string opt = r.GetValue(optimizer)!;
                if (opt != "adam" && opt != "adamw") throw new SpecificationException($"--optimizer: '{opt}' is not an optimiser; use adam or adamw");
                // Options that do not apply are refused, never silently ignored.
                if (opt != "adamw" && Given(r, decay)) throw new SpecificationException("--weight-decay applies to --optimizer adamw (Adam has none)");
                var notForFamily = (fam == "gpt2" ? new Option[] { init, emIt, gd, alpha } : new Option[] { size, layers, width, heads }).Where(o => Given(r, o)).Select(o => o.Name).ToArray();
                if (notForFamily.Length > 0)
                    throw new SpecificationException($"{string.Join(", ", notForFamily)}: {(notForFamily.Length == 1 ? "applies" : "apply")} to --family {(fam == "gpt2" ? "constructed" : "gpt2")}, not {fam}");
                var prec = r.GetValue(precision) switch { "float" => Precision.Float, "double" => Precision.Double, var p => throw new SpecificationException($"--precision: '{p}' is not a precision; use float or double") };
                if (fam == "constructed" && !Given(r, precision)) prec = Precision.Double;
                int k = r.GetValue(comps);
                var task = new TrainingTask(r.GetValue(dim), k, r.GetValue(sigma), OptionParsing.Mixing(r.GetValue(mixing), k, "--mixing"), OptionParsing.Mode(r.GetValue(mode)!), r.GetValue(n), r.GetValue(betaSeed)) { BetaPerPrompt = r.GetValue(betaPerPrompt) };
                var options = new TrainingOptions(r.GetValue(steps) ?? 1000, r.GetValue(batch), r.GetValue(lr), opt == "adamw" ? r.GetValue(decay) : 0, r.GetValue(pool), r.GetValue(seed), r.GetValue(every));
                bool custom = Given(r, layers) || Given(r, width) || Given(r, heads);
                if (custom && r.GetValue(size) is not null) throw new SpecificationException("give either --size or --layers/--width/--heads, not both");
                var request = new ModelRequest(fam, custom ? null : r.GetValue(size) ?? "tiny", r.GetValue(layers), r.GetValue(width), r.GetValue(heads), r.GetValue(init)!,
                    r.GetValue(initScale) ?? (fam == "gpt2" ? 0.02 : 0.1), prec, r.GetValue(emIt), r.GetValue(gd), r.GetValue(alpha), r.GetValue(seed));
                run = new RunFile(task, options, request);
            }
            run.Task.Validate(); run.Options.Validate();
            TrainingMemory.Require(run);
            var model = run.Model.Create(run.Task);
            var trainer = new Trainer(model, run.Task, run.Options);
            if (checkpoint is not null) trainer.Restore(checkpoint, Path.Combine(folder, Trainer.CheckpointFile));
            if (checkpoint is not null && checkpoint.Step >= run.Options.Steps)
            {
                ctx.Out.WriteLine($"{folder}: already trained for {checkpoint.Step} steps (give --steps to extend)");
                return ExitCodes.Ok;
            }
            if (r.GetValue(resume) is null) RunFolder.Create(folder, run, trainer, ctx.Interrupt);
            else if (changed) AtomicFile.WriteAllText(Path.Combine(folder, RunFile.FileName), ParametersJson.Serialize(run.ToJson()));

            try
            {
                ProgressBars.Create(ctx.Console)
                    .Start(p =>
                    {
                        var task = p.AddTask("training", maxValue: run.Options.Steps);
                        task.Value = trainer.Step;
                        trainer.Run(folder, new SynchronousProgress<TrainingProgress>(s =>
                        {
                            task.Value = s.Step;
                            task.Description = $"step {s.Step}/{s.TotalSteps}  loss {s.Loss:G4}  {s.StepsPerSecond:F1} steps/s";
                        }), cancel: ctx.Interrupt);
                    });
            }
            catch (DivergenceException e)
            {
                RunFolder.MarkFailed(folder, e);
                throw new SpecificationException($"{e.Message}; {folder} is marked failed ({RunFolder.FailedFile}): start it again with --out {folder} --force");
            }
            var losses = trainer.Losses;
            string loss = losses.Count == 0 ? "" : $"; loss {losses[0]:G4} → {losses.Skip(Math.Max(0, losses.Count - 20)).Average():G4} (mean of the last 20)";
            if (ctx.Interrupt.IsCancellationRequested)
            {
                ctx.Out.WriteLine($"interrupted at step {trainer.Step} of {run.Options.Steps}{loss}; checkpoint saved in {folder}; continue with: mor-icl train --resume {folder}");
                return ExitCodes.Interrupted;
            }
            ctx.Out.WriteLine($"trained {model.Descriptor.Family} ({model.Parameters.Length} parameters) for {trainer.Step} steps{loss}; checkpoint and loss.csv in {folder}");
            return ExitCodes.Ok;
        }));
        return cmd;
    }
}
