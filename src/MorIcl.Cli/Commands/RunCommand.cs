using System.CommandLine;
using MorIcl.Cli.Hosting;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using MorIcl.IO;
using MorIcl.Mixture;
using MorIcl.Runtime;
using MorIcl.Runtime.Structured;
using Spectre.Console;

namespace MorIcl.Cli.Commands;

/// <summary><c>mor-icl run</c>: runs a model on a prompt and compares it with reference gradient EM.</summary>
internal static class RunCommand
{
    public static Command Create(CliContext ctx)
    {
        var modelOpt = new Option<string>("--model") { Description = "Model JSON from mor-icl construct, a training run folder (mor-icl train or import), or an ONNX export (run by ONNX Runtime).", Required = true };
        var data = new Option<string>("--data") { Description = "Prompt CSV x1,…,xd,y (or any header with --response/--features). Without --query its last row is the query (its y is not used).", Required = true };
        var columns = new CsvColumnOptions();
        var query = new Option<string?>("--query") { Description = "Query x_{n+1}, comma-separated." };
        var traceOpt = new Option<string?>("--trace") { Description = "Write the residual stream after every layer as CSV." };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object." };
        var precision = new Option<string>("--precision") { Description = "double or float.", DefaultValueFactory = _ => "double" };
        var executor = new Option<string>("--executor")
        {
            Description = "structured (each head by the kernel of its pattern, O(N) per head; heads without one run densely) or dense (every head forms its N×N scores).",
            DefaultValueFactory = _ => "structured",
        };
        var noBounds = new Option<bool>("--no-rounding-bounds")
        {
            Description = "Skip the certificate's rounding-error analysis (docs/math.md §8), which dominates the run time on long prompts: margins are then checked but not certified against rounding, and the result is not held to the spec's reference within a certified bound.",
        };
        var cmd = new Command("run", "Run a constructed transformer on a prompt, next to reference gradient EM, with its certificate.")
        { modelOpt, data, query, traceOpt, json, precision, executor, noBounds };
        columns.AddTo(cmd);
        ThreadsOption.AddTo(cmd);
        cmd.SetAction(r => MorIclCli.Guard(ctx, "run", () =>
        {
            string modelPath = r.GetValue(modelOpt)!, dataPath = r.GetValue(data)!;
            if (Directory.Exists(modelPath)) return RunTrainedCommand.Run(ctx, modelPath, dataPath, r.GetValue(query), r.GetValue(json), columns.Read(r));
            if (modelPath.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) return RunOnnxCommand.Run(ctx, modelPath, dataPath, r.GetValue(query), r.GetValue(json), columns.Read(r));
            var model = ModelJson.Read(modelPath, out var digestMatches, w => ctx.Err.WriteLine($"warning: {w}"));
            var match = SpecificationMatch.Check(model);
            var (examples, q) = PromptInput.Read(dataPath, r.GetValue(query), model.Spec.Dimension, modelPath, columns.Read(r));
            using var outputs = new StagedOutputs();
            var tracePath = r.GetValue(traceOpt) is { } tp ? outputs.File(tp) : null;
            bool wantTrace = tracePath is not null;
            // The trace holds the residual stream after every layer (D numbers per token), then its CSV text (≈ 20 characters each).
            if (wantTrace) Numerics.MemoryBudget.Require(8.0 * (model.Layers.Count + 1) * model.Embedding.TokenCount(examples.N) * model.Dimension * (1 + 5 * 20 / 8.0),
                $"--trace of {model.Layers.Count} layers for n = {examples.N}");
            var kind = r.GetValue(executor) switch
            {
                "structured" => ExecutorKind.Structured,
                "dense" => ExecutorKind.Dense,
                var e => throw new SpecificationException($"--executor: '{e}' is not an executor; use structured or dense"),
            };
            string precisionName = r.GetValue(precision)!;
            Func<RegressionData, ReferenceRun> referenceOf = data => ReferenceRun.Of(model.Spec, data, q);
            var (result, plan, forwardTime, reference, referenceError, referenceTime) = precisionName switch
            {
                "double" => Timed(new ModelExecutor<double>(model, kind), examples, q, wantTrace, referenceOf),
                "float" => Timed(new ModelExecutor<float>(model, kind), examples, q, wantTrace, referenceOf),
                var p => throw new SpecificationException($"--precision: '{p}' is not a precision; use double or float"),
            };
            double forwardSeconds = forwardTime.Seconds, firstForwardSeconds = forwardTime.First, referenceSeconds = referenceTime.Seconds, firstReferenceSeconds = referenceTime.First;
            int forwardPasses = forwardTime.Passes, referencePasses = referenceTime.Passes;
            // The certificate's rounding bounds (docs/math.md §8): a second pass with the analysis, outside the timing.
            bool boundRounding = !r.GetValue(noBounds);
            Certificate? doubleBounds = null;
            if (boundRounding)
            {
                if (examples.N >= LongPromptNotice)
                    ctx.Err.WriteLine($"note: the rounding-bound analysis on n = {examples.N} examples can take minutes (about 200 s of CPU at n = 20 000 for the README's long-prompt model in double, more in float); --no-rounding-bounds skips it");
                var bounded = precisionName == "double" ? new ModelExecutor<double>(model, kind, boundRounding: true).Forward(examples, q)
                    : new ModelExecutor<float>(model, kind, boundRounding: true).Forward(examples, q);
                doubleBounds = precisionName == "double" ? bounded.Certificate : new ModelExecutor<double>(model, kind, boundRounding: true).Forward(examples, q).Certificate;
                result = result with { Certificate = bounded.Certificate };
            }
            double maxDiff = double.NaN;
            if (reference is not null)
            {
                maxDiff = Math.Abs(result.Prediction - reference.Prediction);
                for (int k = 0; k < reference.Beta.Length; k++)
                    for (int a = 0; a < reference.Beta[k].Length; a++) maxDiff = Math.Max(maxDiff, Math.Abs(result.Beta[k][a] - reference.Beta[k][a]));
                if (double.IsNaN(maxDiff)) maxDiff = double.PositiveInfinity;
            }
            if (tracePath is not null) WriteTrace(tracePath, model, result.Trace!, examples.N);
            outputs.Commit(ctx.Interrupt);

            var cert = result.Certificate with { MatchesSpecification = match.Matches };
            // A model that claims to be its spec's construction must land within the certified bound of the
            // spec's reference (plus an allowance for the reference's own, uncertified, double rounding).
            var check = model.Origin == MorIcl.Construction.Model.ModelOrigin.Construction && reference is not null && doubleBounds is not null
                ? ReferenceCheck.Of(result with { Certificate = cert }, reference, doubleBounds, model)
                : null;
            if (r.GetValue(json))
            {
                var o = new JsonObject
                {
                    ["prediction"] = Finite(result.Prediction),
                    ["beta"] = new JsonArray(result.Beta.Select(b => (JsonNode)new JsonArray(b.Select(v => (JsonNode?)Finite(v)).ToArray())).ToArray()),
                    ["referencePrediction"] = reference is null ? null : reference.Prediction,
                    ["referenceBeta"] = reference is null ? null : new JsonArray(reference.Beta.Select(b => (JsonNode)ParametersJson.Array(b)).ToArray()),
                    ["mixing"] = result.Mixing is null ? null : ParametersJson.Array(result.Mixing),
                    ["referenceMixing"] = reference is null || result.Mixing is null ? null : ParametersJson.Array(reference.Mixing),
                    ["referenceError"] = referenceError,
                    ["maxAbsDifference"] = Finite(maxDiff),
                    ["timing"] = new JsonObject
                    {
                        ["forwardSeconds"] = forwardSeconds,
                        ["referenceSeconds"] = Finite(referenceSeconds),
                        ["forwardPasses"] = forwardPasses,
                        ["referencePasses"] = referencePasses,
                        ["firstForwardSeconds"] = firstForwardSeconds,
                        ["firstReferenceSeconds"] = Finite(firstReferenceSeconds),
                        ["jitQuiet"] = forwardTime.JitQuiet,
                        ["methodsCompiledWhileTiming"] = forwardTime.CompiledWhileTiming,
                        ["simdWidth"] = (int)MorIcl.Numerics.Simd.SimdSpan.Width,
                        ["processorCount"] = Environment.ProcessorCount,
                    },
                    ["executor"] = new JsonObject
                    {
                        ["kind"] = kind == ExecutorKind.Structured ? "structured" : "dense",
                        ["structuredHeads"] = plan.Structured,
                        ["denseHeads"] = plan.Dense,
                    },
                    ["certificate"] = new JsonObject
                    {
                        ["inDomain"] = cert.InDomain,
                        ["minMargin"] = Finite(cert.MinMargin),
                        ["maxLeakage"] = Finite(cert.MaxLeakage),
                        ["positionsInRange"] = cert.PositionsInRange,
                        ["firstViolation"] = cert.FirstViolation,
                        ["declaredError"] = Finite(cert.DeclaredError),
                        ["minRangeSlack"] = Finite(cert.MinRangeSlack),
                        ["precision"] = cert.Precision,
                        ["roundingBounded"] = boundRounding,
                        ["predictionErrorBound"] = Finite(cert.PredictionErrorBound),
                        ["betaErrorBound"] = Finite(cert.BetaErrorBound),
                        ["responsibilityErrorBound"] = Finite(cert.ResponsibilityErrorBound),
                        ["maxResidualErrorBound"] = Finite(cert.MaxResidualErrorBound),
                        ["layers"] = new JsonArray(cert.Layers.Select(l => (JsonNode)new JsonObject
                        {
                            ["layer"] = l.Layer, ["inDomain"] = l.InDomain, ["minMargin"] = Finite(l.MinMargin), ["certifiedMargin"] = Finite(l.CertifiedMargin),
                            ["scoreErrorBound"] = Finite(l.ScoreErrorBound), ["maxLeakage"] = Finite(l.MaxLeakage), ["leakageBound"] = Finite(l.LeakageBound),
                            ["residualErrorBound"] = Finite(l.ResidualErrorBound),
                        }).ToArray()),
                        ["origin"] = ModelJson.OriginName(model.Origin),
                        ["weightsDigestMatches"] = digestMatches,
                        ["matchesSpecification"] = match.Matches,
                        ["specification"] = match.Detail,
                        ["withinCertifiedBoundOfReference"] = check?.Within,
                        ["referenceAllowance"] = check is null ? null : Finite(check.Allowance),
                        ["summary"] = cert.Summary(),
                    },
                };
                ctx.Out.WriteLine(o.ToJsonString());
            }
            else
            {
                var table = new Table().AddColumn("").AddColumn("transformer").AddColumn("reference gradient EM");
                string Ref(Func<ReferenceRun, string> f) => reference is null ? "unavailable" : Markup.Escape(f(reference));
                table.AddRow("prediction ŷ", OptionParsing.Format(result.Prediction), Ref(x => OptionParsing.Format(x.Prediction)));
                for (int k = 0; k < result.Beta.Length; k++)
                    table.AddRow($"β̂_{k + 1}", Markup.Escape(OptionParsing.Vector(result.Beta[k])), Ref(x => OptionParsing.Vector(x.Beta[k])));
                if (result.Mixing is { } pi) table.AddRow("π̂", Markup.Escape(OptionParsing.Vector(pi)), Ref(x => OptionParsing.Vector(x.Mixing)));
                ctx.Console.Write(table);
                ctx.Out.WriteLine(reference is null ? $"reference gradient EM failed: {referenceError}" : $"largest difference: {maxDiff:G3}");
                ctx.Out.WriteLine($"forward pass {forwardSeconds:G3} s ({(kind == ExecutorKind.Structured ? $"structured: {plan.Structured} heads by their pattern, {plan.Dense} dense" : "dense")})"
                    + (reference is null ? "" : $", reference gradient EM {referenceSeconds:G3} s")
                    + (forwardTime.JitQuiet ? "" : $" (the JIT was still compiling after the forward pass's or the reference's {WarmBudget:G3} s warm-up: some timed passes may have run unoptimised code)"));
                if (result.Mixing is not null)
                    ctx.Out.WriteLine("estimated π: the transformer takes log π̂ by a piecewise-linear interpolant (declared error per layer in the certificate); the reference takes the exact log, so the difference above is that approximation propagated through the run");
                ctx.Out.WriteLine($"certificate: {cert.Summary()}" + (cert.InDomain ? "" : " [OUT OF DOMAIN: the answer above is not certified]"));
                if (!boundRounding)
                    ctx.Out.WriteLine("rounding: not bounded (--no-rounding-bounds): the margins above are not certified against rounding, and the result is not held to the spec's reference within a certified bound");
                if (cert.HasErrorBounds)
                    ctx.Out.WriteLine($"rounding ({cert.Precision}): |ŷ − exact| ≤ {cert.PredictionErrorBound:G3}, |β̂ − exact| ≤ {cert.BetaErrorBound:G3}"
                        + (double.IsNaN(cert.ResponsibilityErrorBound) ? "" : $", |γ − exact| ≤ {cert.ResponsibilityErrorBound:G3}")
                        + " (exact = the same transformer in exact arithmetic on this input)");
                ctx.Out.WriteLine(match.Matches == false
                    ? $"WEIGHTS ARE NOT THE CONSTRUCTION OF THE STATED SPECIFICATION: {match.Detail.Replace("the weights are not the construction of the stated specification: ", "")}; the domain certificate covers margins only"
                    : $"weights: {match.Detail}");
                if (digestMatches == false)
                    ctx.Out.WriteLine("WEIGHTS CHANGED SINCE THE FILE WAS WRITTEN: they do not hash to the file's weightsSha256 (edited by hand, or damaged)");
                if (check is { Within: false })
                    ctx.Out.WriteLine($"RESULT DIFFERS FROM THE SPECIFICATION'S REFERENCE by {check.Difference:G3}, more than the certified bound {check.Bound:G3} (+ {check.Allowance:G3} for the reference's own rounding)");
            }
            return cert.InDomain && check is not { Within: false } ? ExitCodes.Ok : ExitCodes.OutOfDomain;
        }));
        return cmd;
    }

    /// <summary>From this many examples on, `run` says before the bounds pass that it can take minutes.</summary>
    private const int LongPromptNotice = 5000;

    /// <summary>
    /// How one computation was timed: the least of its timed calls, its first (untimed) call and how many were timed. For the
    /// forward pass also: whether every warm-up ended with the JIT quiet (<see cref="UntilQuiet"/>; false: some timed calls may
    /// have run unoptimised code), and how many methods the JIT compiled during the timed calls of both computations (null
    /// when they were not timed in rounds).
    /// </summary>
    internal readonly record struct Measured(double Seconds, double First, int Passes, bool JitQuiet = true, long? CompiledWhileTiming = null)
    {
        public static Measured None => new(double.NaN, double.NaN, 0);
    }

    /// <summary>
    /// The forward pass and the reference gradient EM it is compared with, timed alike and side by side. Each first runs
    /// <see cref="WarmPasses"/> times on the prompt's first few examples (so its code is compiled optimised), then once on the
    /// whole prompt (its buffers sized, its pages touched: reported as <c>First</c>); after a garbage collection the two are
    /// timed in alternating rounds of about <see cref="Round"/> seconds each, and each reports the least of its calls.
    /// Alternating them puts both under the same conditions of the machine, so a slow moment slows both; within a round a
    /// computation keeps its data and code warm, as it would alone. With a trace the forward pass also copies the
    /// stream after every layer: it is timed once, and the reference on its own. A reference that fails (an invalid spec for
    /// it) is reported by its message and not timed.
    /// </summary>
    private static (ForwardResult Result, (int Structured, int Dense) Heads, Measured Forward, ReferenceRun? Reference, string? ReferenceError, Measured ReferenceTime)
        Timed<T>(ModelExecutor<T> exec, RegressionData examples, double[] q, bool trace, Func<RegressionData, ReferenceRun> reference)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        bool quiet = Warm(examples, n => exec.Forward(n, q), WarmBudget).Quiet;
        quiet &= Warm(examples, n => reference(n), WarmBudget).Quiet;
        ForwardResult result;
        Measured forward, referenceTime = Measured.None;
        ReferenceRun? run = null;
        string? error = null;
        Collect();
        (result, double firstForward) = Timed(() => exec.Forward(examples, q, trace));
        Collect();
        try { (run, double firstReference) = Timed(() => reference(examples)); referenceTime = new(double.NaN, firstReference, 0); }
        catch (MorIclException e) { error = e.Message; }
        if (trace)
        {
            forward = new(firstForward, firstForward, 1, quiet);
            if (run is not null) (run, referenceTime) = BestOf(() => reference(examples), referenceTime.First);
        }
        else
        {
            // Code first reached on the whole prompt (longer loops, more blocks) warmed up too, on the whole prompt.
            quiet &= UntilQuiet(() => exec.Forward(examples, q), 0, WarmBudget).Quiet;
            if (run is not null) quiet &= UntilQuiet(() => reference(examples), 0, WarmBudget).Quiet;
            Collect();
            long compiledBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
            double bestForward = double.PositiveInfinity, bestReference = double.PositiveInfinity, total = 0;
            int forwardPasses = 0, referencePasses = 0;
            // Rounds of one computation's calls for about Round seconds (at least one), then the other's: each stays warm in
            // the caches through its round, and the rounds alternate so that both meet the same conditions of the machine.
            while (forwardPasses < MinPasses || (forwardPasses < MaxPasses && total < Budget))
            {
                double round = 0;
                do
                {
                    (result, double s) = Timed(() => exec.Forward(examples, q));
                    bestForward = Math.Min(bestForward, s); round += s; forwardPasses++;
                }
                while (round < Round && forwardPasses < MaxPasses);
                total += round;
                if (run is null || referencePasses >= MaxPasses) continue;
                round = 0;
                do
                {
                    (run, double r) = Timed(() => reference(examples));
                    bestReference = Math.Min(bestReference, r); round += r; referencePasses++;
                }
                while (round < Round && referencePasses < MaxPasses);
                total += round;
            }
            forward = new(bestForward, firstForward, forwardPasses, quiet, System.Runtime.JitInfo.GetCompiledMethodCount() - compiledBefore);
            if (run is not null) referenceTime = new(bestReference, referenceTime.First, referencePasses);
        }
        int structured = 0, dense = 0;
        foreach (var layer in exec.Plan.Heads)
            foreach (var h in layer)
                if (exec.RunsStructured(h.Layer, h.Head)) structured++; else dense++;
        return (result, (structured, dense), forward, run, error, referenceTime);
    }

    /// <summary>
    /// Timed calls of <see cref="Timed{T}"/> after the untimed ones: at least MinPasses, and more while they take under
    /// <see cref="Budget"/> seconds in all, up to MaxPasses each (a cap the reference reaches only when a call takes under about 50 µs,
    /// so that it too is timed across the whole window, not only at its start).
    /// </summary>
    internal const int MinPasses = 3, MaxPasses = 10_000;
    internal const double Round = 0.02;

    /// <summary>
    /// Seconds of alternating rounds in all. On a shared machine the forward pass slows by up to 2.5 times, and the
    /// reference by 1.5, for stretches of a few tenths of a second (measured: 1.3 to 3.3 ms at n = 200 within one process),
    /// so the least call of a window as short as one such stretch says more about the machine than about the computation;
    /// one second spans several. The tests lower it (their runs are checked for what they report, not for their speed).
    /// </summary>
    internal static double Budget { get; set; } = 1.0;

    /// <summary>
    /// Untimed passes on the prompt's first few examples before any timing: every method a computation calls then has run
    /// at least this often, the count after which the runtime compiles it optimised (tiered compilation's threshold, 30),
    /// so the timed passes measure the optimised code of both computations rather than the first, unoptimised one.
    /// </summary>
    internal const int WarmPasses = 30;

    /// <summary>The least of <see cref="MinPasses"/> to <see cref="MaxPasses"/> timed calls of <paramref name="f"/> (within <see cref="Budget"/>), after its first.</summary>
    private static (T Result, Measured Time) BestOf<T>(Func<T> f, double first)
    {
        Collect();
        T result = default!;
        double best = double.PositiveInfinity, total = 0;
        int passes = 0;
        while (passes < MinPasses || (passes < MaxPasses && total < Budget))
        {
            (result, double s) = Timed(f);
            best = Math.Min(best, s);
            total += s;
            passes++;
        }
        return (result, new(best, first, passes));
    }

    /// <summary>The garbage of what came before (the CSV, the other computation's arrays) collected, not left to a timed call.</summary>
    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    private static (T Result, double Seconds) Timed<T>(Func<T> f)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = f();
        return (result, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Runs <paramref name="f"/> on the first (up to) 8 examples at least <see cref="WarmPasses"/> times, and then on until the
    /// JIT has compiled no method for <see cref="JitQuiet"/> seconds (at most <see cref="WarmBudget"/> seconds in all). Tiered
    /// compilation recompiles a method optimised only after its calls are counted, which starts once no method has been
    /// compiled for 0.1 s, and does so in the background: a fixed number of passes can leave the timed passes on
    /// unoptimised code, and more of the forward pass's (it has far more methods) than of the reference's.
    /// </summary>
    internal static (int Passes, bool Quiet) Warm(RegressionData examples, Action<RegressionData> f, double budget)
    {
        int n = Math.Min(examples.N, 8);
        var cols = new double[n * examples.D];
        for (int a = 0; a < examples.D; a++) Array.Copy(examples.Columns, a * examples.N, cols, a * n, n);
        var few = new RegressionData(n, examples.D, cols, examples.Y.Take(n).ToArray());
        return UntilQuiet(() => f(few), WarmPasses, budget);
    }

    /// <summary>
    /// Runs <paramref name="f"/> at least <paramref name="minPasses"/> times, then on until the JIT has compiled no method for
    /// <see cref="JitQuiet"/> seconds, at most <paramref name="budget"/> seconds in all; returns the passes and whether it ended
    /// quiet. A computation that refuses its input ends it (the timed call reports the error).
    /// </summary>
    internal static (int Passes, bool Quiet) UntilQuiet(Action f, int minPasses, double budget)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
        double lastCompile = 0;
        int p = 0;
        try
        {
            for (; p < minPasses || (clock.Elapsed.TotalSeconds - lastCompile < JitQuiet && clock.Elapsed.TotalSeconds < budget); p++)
            {
                f();
                long now = System.Runtime.JitInfo.GetCompiledMethodCount();
                if (now != compiled) { compiled = now; lastCompile = clock.Elapsed.TotalSeconds; }
            }
        }
        catch (MorIclException) { return (p, true); }
        return (p, clock.Elapsed.TotalSeconds - lastCompile >= JitQuiet);
    }

    /// <summary>Warm-up ends once the JIT has been quiet this long (seconds; above tiered compilation's 0.1 s delay), or at <see cref="WarmBudget"/>.</summary>
    internal const double JitQuiet = 0.25;

    /// <summary>
    /// The most seconds a warm-up runs in all (its <see cref="WarmPasses"/> always run). The tests lower it: their process
    /// compiles without pause (other tests run alongside), so the JIT is never quiet there and every `run` would wait this long.
    /// </summary>
    internal static double WarmBudget { get; set; } = 3;

    /// <summary>JSON has no NaN or infinity: such values are written as null.</summary>
    private static JsonNode? Finite(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    private static void WriteTrace(string path, MorIcl.Construction.Model.TransformerModel model, double[][] trace, int n)
    {
        int D = model.Dimension, N = model.Embedding.TokenCount(n);
        var names = model.Layout.RowNames();
        var sb = new StringBuilder("layer,operator,token,role,").Append(string.Join(",", names)).Append('\n');
        for (int l = 0; l < trace.Length; l++)
        {
            string op = l == 0 ? "embedding" : model.Layers[l - 1].Provenance.Operator;
            for (int i = 0; i < N; i++)
            {
                sb.Append(l).Append(',').Append(op).Append(',').Append(i).Append(',')
                  .Append(MorIcl.Construction.Model.TokenRoles.Name(model.Embedding.RoleOf(i, n), model.Embedding.AuxiliaryNames));
                for (int c = 0; c < D; c++) sb.Append(',').Append(trace[l][i * D + c].ToString("R", CultureInfo.InvariantCulture));
                sb.Append('\n');
            }
        }
        AtomicFile.WriteAllText(path, sb.ToString());
    }
}
