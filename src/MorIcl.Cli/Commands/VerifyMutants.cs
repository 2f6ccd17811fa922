using System.Text.Json.Nodes;
using MorIcl.IO;
using MorIcl.Verification;
using Spectre.Console;

namespace MorIcl.Cli.Commands;

/// <summary><c>mor-icl verify --mutants</c>: every check that reads the seed 000 system on every mutant; the kill matrix and mutants.json.</summary>
internal static class VerifyMutants
{
    public static int Run(CliContext ctx, IReadOnlyList<ProofCheck> checks, CheckOptions options, string? folder)
    {
        var subjectChecks = MutationMatrix.SubjectChecks(checks);
        var skipped = checks.Except(subjectChecks).Select(c => c.Name).ToArray();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        IReadOnlyList<MutationMatrix.Row> rows = Array.Empty<MutationMatrix.Row>();
        var mutants = MutantCatalogue.All;
        ProgressBars.Create(ctx.Console).Start(p =>
        {
            var tasks = mutants.ToDictionary(m => m.Name, m => p.AddTask(Markup.Escape(m.Name), autoStart: true, maxValue: subjectChecks.Count));
            rows = MutationMatrix.Run(subjectChecks, mutants, options, progress: (m, _) => tasks[m].Increment(1));
        });
        var table = new Table().AddColumn("mutant");
        foreach (var c in subjectChecks) table.AddColumn(new TableColumn(c.Name).Centered());
        table.AddColumn("killed by");
        foreach (var row in rows)
            table.AddRow(new[] { Markup.Escape(row.Mutant.Name) }
                .Concat(row.Cells.Select(c => c.Status switch { CheckStatus.Failed => "[red]✗[/]", CheckStatus.Passed => "·", _ => "[grey]n/a[/]" }))
                .Append(row.KilledBy.Count.ToString()).ToArray());
        ctx.Console.Write(table);
        ctx.Out.WriteLine("✗ = the check fails on the mutant (kills it); · = passes; n/a = not applicable to the system. "
            + (skipped.Length > 0 ? $"Not run (they do not read the seed 000 system): {string.Join(", ", skipped)}." : ""));
        var survivors = rows.Where(r => r.KilledBy.Count == 0).Select(r => r.Mutant.Name).ToArray();
        var unexpected = new List<string>();
        foreach (var c in subjectChecks)
            foreach (var m in c.MeantToKill)
                if (rows.FirstOrDefault(r => r.Mutant.Name == m) is { } row && !row.KilledBy.Contains(c.Name)) unexpected.Add($"{c.Name} does not kill '{m}'");
        foreach (var u in unexpected) ctx.Out.WriteLine($"expected kill missing: {u}");
        ctx.Out.WriteLine($"{rows.Count} mutants × {subjectChecks.Count} checks ({(options.Full ? "full" : "fast")}, seed {options.Seed}) in {sw.Elapsed.TotalMinutes:F1} min: "
            + (survivors.Length == 0 ? "every mutant killed" : $"NOT killed: {string.Join(", ", survivors)}"));
        if (folder is not null)
        {
            AtomicFile.WriteAllText(Path.Combine(folder, "mutants.json"), ParametersJson.Serialize(Json(rows, subjectChecks, options)));
        }
        return survivors.Length == 0 && unexpected.Count == 0 ? ExitCodes.Ok : ExitCodes.CheckFailed;
    }

    public static JsonObject Json(IReadOnlyList<MutationMatrix.Row> rows, IReadOnlyList<ProofCheck> checks, CheckOptions options) => new()
    {
        ["full"] = options.Full, ["seed"] = options.Seed,
        ["checks"] = new JsonArray(checks.Select(c => (JsonNode)new JsonObject
        {
            ["name"] = c.Name, ["meantToKill"] = new JsonArray(c.MeantToKill.Select(m => (JsonNode)JsonValue.Create(m)!).ToArray()),
        }).ToArray()),
        ["mutants"] = new JsonArray(rows.Select(r => (JsonNode)new JsonObject
        {
            ["name"] = r.Mutant.Name, ["description"] = r.Mutant.Description,
            ["killedBy"] = new JsonArray(r.KilledBy.Select(k => (JsonNode)JsonValue.Create(k)!).ToArray()),
            ["cells"] = new JsonArray(r.Cells.Select(c => (JsonNode)new JsonObject { ["check"] = c.Check, ["status"] = c.Status.ToString(), ["detail"] = c.Summary }).ToArray()),
        }).ToArray()),
    };
}
