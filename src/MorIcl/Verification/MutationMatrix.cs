using MorIcl.Construction;
using MorIcl.Construction.Model;

namespace MorIcl.Verification;

/// <summary>
/// The kill matrix (docs/math.md §10.8): every check that reads the seed 000 system run on every mutant
/// of <see cref="MutantCatalogue"/>. A mutant is killed by a check that fails on it.
/// </summary>
public static class MutationMatrix
{
    public sealed record Cell(string Check, CheckStatus Status, string Summary);

    public sealed record Row(Mutant Mutant, IReadOnlyList<Cell> Cells)
    {
        public IReadOnlyList<string> KilledBy => Cells.Where(c => c.Status == CheckStatus.Failed).Select(c => c.Check).ToArray();
    }

    /// <summary>The checks that read the seed 000 system (the others do not see a mutant).</summary>
    public static IReadOnlyList<ProofCheck> SubjectChecks(IEnumerable<ProofCheck> checks)
    {
        var probes = new[]
        {
            new ConstructionSpec(2, 2, 0.5, new[] { 0.7, 0.3 }, 1, 1, 0.5, symmetric: true),
            new ConstructionSpec(2, 2, 0.5, new[] { 0.5, 0.5 }, 1, 1, 0.5, symmetric: true),
            new ConstructionSpec(2, 3, 0.5, null, 1, 1, 0.5),
        }.Select(Compiler.Compile).ToArray();
        return checks.Where(c => probes.Any(p => c.ApplicabilityTo(p) is null)).ToArray();
    }

    public static IReadOnlyList<Row> Run(IReadOnlyList<ProofCheck> checks, IReadOnlyList<Mutant> mutants, CheckOptions options,
        Func<ConstructionSpec, TransformerModel>? modelFor = null, Action<string, string>? progress = null)
    {
        var rows = new List<Row>();
        foreach (var mutant in mutants)
        {
            var subject = mutant.Subject(modelFor);
            var cells = new List<Cell>();
            foreach (var check in checks)
            {
                var r = check.Run(options with { Subject = subject });
                cells.Add(new Cell(check.Name, r.Status, r.Status == CheckStatus.Failed ? r.FailureMessage : r.Summary));
                progress?.Invoke(mutant.Name, check.Name);
            }
            rows.Add(new Row(mutant, cells));
        }
        return rows;
    }
}
