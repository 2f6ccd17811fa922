using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Tests.Generated;
using MorIcl.Verification;

namespace MorIcl.Tests.ProofChecks;

/// <summary>
/// Runs every fast proof check once. Where a check asks for one of the specifications the generator
/// built at compile time (Generated/GeneratedModels.cs), it gets the generated model, so the checks
/// exercise generator → runtime → reference end to end.
/// </summary>
public sealed class FastChecksFixture
{
    public static readonly TransformerModel[] GeneratedModels = { TwoComponentModel.Model, SymmetricModel.Model, ThreeComponentModel.Model };

    public static TransformerModel ModelFor(ConstructionSpec spec) => GeneratedModels.FirstOrDefault(m => m.Spec.Equals(spec)) ?? Compiler.Compile(spec);

    public static int GeneratedUses;

    public IReadOnlyDictionary<string, CheckResult> Results { get; }

    public FastChecksFixture()
    {
        var options = new CheckOptions
        {
            Subject = new TransformerSubject(spec =>
            {
                var generated = GeneratedModels.FirstOrDefault(m => m.Spec.Equals(spec));
                if (generated is not null) Interlocked.Increment(ref GeneratedUses);
                return generated ?? Compiler.Compile(spec);
            }),
        };
        Results = CheckCatalogue.All.ToDictionary(c => c.Name, c => c.Run(options));
    }
}
