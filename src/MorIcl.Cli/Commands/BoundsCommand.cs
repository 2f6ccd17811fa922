using System.CommandLine;
using System.Globalization;
using System.Text;
using MorIcl.Cli.Hosting;
using MorIcl.IO;
using MorIcl.Runtime.Bounds;
using MorIcl.Runtime.Structured;
using Spectre.Console;

namespace MorIcl.Cli.Commands;

/// <summary>
/// <c>mor-icl bounds</c>: the rounding bounds on random specifications and prompts (<see cref="BoundSweep"/>):
/// containment, tightness and non-vacuity in float and double; exit 4 when an observed error leaves its bound.
/// </summary>
internal static class BoundsCommand
{
    public static Command Create(CliContext ctx)
    {
        var cases = new Option<int>("--cases") { Description = "Number of random specifications and prompts.", DefaultValueFactory = _ => 200 };
        var seed = new Option<int>("--seed") { Description = "Seed of the draws (a new seed gives held-out cases).", DefaultValueFactory = _ => 1 };
        var maxN = new Option<int>("--max-prompt-length") { Description = "Largest n (log-uniform from 5).", DefaultValueFactory = _ => 1000 };
        var exactUpTo = new Option<int>("--exact-up-to") { Description = "Compare with the double-double executor up to this n; above it, float with double (|f − d| ≤ B_f + B_d).", DefaultValueFactory = _ => 100 };
        var executor = new Option<string>("--executor") { Description = "structured or dense.", DefaultValueFactory = _ => "structured" };
        var output = new Option<string?>("--out") { Description = "Write one CSV row per case." };
        var cmd = new Command("bounds", "Check the certificate's rounding bounds (docs/math.md §8) on random specifications and prompts, in float and double.")
        { cases, seed, maxN, exactUpTo, executor, output };
        ThreadsOption.AddTo(cmd);
        cmd.SetAction(r => MorIclCli.Guard(ctx, "bounds", () =>
        {
            int count = r.GetValue(cases), max = r.GetValue(maxN);
            if (count < 1) throw new SpecificationException("--cases must be at least 1");
            if (max < 5) throw new SpecificationException("--max-prompt-length must be at least 5");
            var kind = r.GetValue(executor) switch
            {
                "structured" => ExecutorKind.Structured,
                "dense" => ExecutorKind.Dense,
                var e => throw new SpecificationException($"--executor: '{e}' is not an executor; use structured or dense"),
            };
            using var outputs = new StagedOutputs();
            var csv = r.GetValue(output) is { } o ? outputs.File(o) : null;
            var rows = new BoundSweep.Row[count];
            int done = 0;
            Parallel.For(0, count, Numerics.Parallelism.Options(ThreadsOption.Read(r)), i =>
            {
                ctx.Interrupt.ThrowIfCancellationRequested();
                rows[i] = BoundSweep.Run(BoundSweep.Draw(r.GetValue(seed), i, max), r.GetValue(exactUpTo), kind);
                int k = Interlocked.Increment(ref done);
                if (k % 20 == 0) ctx.Err.WriteLine($"{k}/{count} cases");
            });
            Report(ctx, rows);
            if (csv is not null) WriteCsv(csv, rows);
            outputs.Commit(ctx.Interrupt);
            return rows.All(x => x.Inside) ? ExitCodes.Ok : ExitCodes.CheckFailed;
        }));
        return cmd;
    }

    private static void Report(CliContext ctx, BoundSweep.Row[] rows)
    {
        var table = new Table().AddColumn("").AddColumn("float").AddColumn("double");
        string Q(IEnumerable<double> v) => string.Join(" / ", new[] { 0.1, 0.5, 0.9, 1.0 }.Select(q => BoundSweep.Quantile(v, q).ToString("G3", CultureInfo.InvariantCulture)));
        var exact = rows.Where(x => x.ExactReference).ToArray();
        table.AddRow("cases (against double-double)", $"{rows.Length} ({exact.Length})", $"{rows.Length} ({exact.Length})");
        table.AddRow("bound / observed for ŷ: 10% / median / 90% / max", Q(rows.Select(x => x.FloatBound / x.FloatObserved)), Q(exact.Select(x => x.DoubleBound / x.DoubleObserved)));
        table.AddRow("largest observed / bound", $"{rows.Max(x => x.FloatObserved / (x.FloatBound + (x.ExactReference ? 0 : x.DoubleBound))):G3}",
            exact.Length == 0 ? "-" : $"{exact.Max(x => x.DoubleObserved / x.DoubleBound):G3}");
        table.AddRow("non-vacuous (float ≤ 1e-2·max(1,|ŷ|), double ≤ 1e-9·max(1,|ŷ|))", $"{rows.Count(x => x.FloatNonVacuous)}/{rows.Length}", $"{rows.Count(x => x.DoubleNonVacuous)}/{rows.Length}");
        table.AddRow("certified in domain", $"{rows.Count(x => x.FloatInDomain)}/{rows.Length}", $"{rows.Count(x => x.DoubleInDomain)}/{rows.Length}");
        ctx.Console.Write(table);
        foreach (var x in rows.Where(x => !x.Inside).Take(10))
            ctx.Out.WriteLine($"OUTSIDE: {x.Case}: float |ŷ − exact| {x.FloatObserved:G3} vs {x.FloatBound:G3}, double {x.DoubleObserved:G3} vs {x.DoubleBound:G3}");
        ctx.Out.WriteLine(rows.All(x => x.Inside) ? $"every observed error is inside its bound ({rows.Length} cases, {rows.Sum(x => x.Seconds):F0} s)" : $"{rows.Count(x => !x.Inside)} cases OUTSIDE their bounds");
    }

    private static void WriteCsv(string path, BoundSweep.Row[] rows)
    {
        var sb = new StringBuilder("case,d,K,symmetric,estimatedMixing,n,sigma,S,T,alpha,exactReference,prediction,floatObserved,floatBound,doubleObserved,doubleBound,floatBetaObserved,floatBetaBound,floatInDomain,doubleInDomain,seconds\n");
        foreach (var x in rows)
        {
            var s = x.Case.Spec;
            sb.AppendLine(string.Join(",", new object[] { x.Case.Index, s.Dimension, s.Components, s.Symmetric, s.EstimateMixing, x.Case.Prompt.N, s.Sigma, s.EmIterations, s.GradientSteps, s.StepSize,
                x.ExactReference, x.Prediction, x.FloatObserved, x.FloatBound, x.DoubleObserved, x.DoubleBound, x.FloatBetaObserved, x.FloatBetaBound, x.FloatInDomain, x.DoubleInDomain, x.Seconds }
                .Select(v => v is double dv ? dv.ToString("R", CultureInfo.InvariantCulture) : Convert.ToString(v, CultureInfo.InvariantCulture))));
        }
        AtomicFile.WriteAllText(path, sb.ToString());
    }
}
