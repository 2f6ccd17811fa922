namespace MorIcl.Verification;

/// <summary>Every proof check, in the order of the paper's statements.</summary>
public static class CheckCatalogue
{
    public static IReadOnlyList<ProofCheck> All { get; } = new ProofCheck[]
    {
        new Lemma3_1Check(), new PropositionE1Check(), new PropositionE2Check(),
        new TheoremB1Check(), new TheoremB2Check(), new Theorem2_1Check(), new Theorem2_2Check(), new TheoremB3Check(), new Theorem4_1Check(),
        new Seed003.Seed003Theorem1Check(), new Seed003.Seed003Proposition1Check(), new Seed003.Seed003Theorem2Check(),
        new Seed001.LsaGlobalOptimumCheck(),
    };

    public static ProofCheck? Find(string name) => All.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));
}
