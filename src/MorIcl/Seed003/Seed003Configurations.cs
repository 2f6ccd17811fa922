namespace MorIcl.Seed003;

/// <summary>A seed 003 setting: dictionary size K, token dimension d, prompt length N, feature dimension m, noise τ, heads H.</summary>
public sealed record Seed003Setting(int K, int D, int N, int M, double Tau, int H, double InitScale = 1.0)
{
    public RepresentationTask Task(int seed) => RepresentationTask.Random(D, K, N, Tau, new GaussianTableFeatures(M, seed), seed);
    public override string ToString() => $"K = {K}, d = {D}, N = {N}, m = {M}, τ = {Tau}, H = {H}, Q(0) ~ N(0, {InitScale}²)";
}

/// <summary>
/// Theorem 1 run: GD with the theorem's rates from its initialisation; per step the gap L(θ_t) − inf L
/// and the bound ρ^t Δ(0) of eq. (18).
/// </summary>
public sealed record TheoremOneRun(TheoremOneConstants Constants, double[] Gap, double[] Bound, double Infimum)
{
    public static TheoremOneRun Execute(Seed003Setting setting, int steps, int seed)
    {
        var task = setting.Task(seed);
        var loss = new PopulationLoss(task);
        var model = SoftmaxAttentionModel.Initialise(task, setting.H, setting.InitScale, seed);
        var c = TheoremOneConstants.At(model, loss);
        if (!(c.Zeta0 > 0)) throw new NumericalException($"Assumption 2 fails at this initialisation (ζ₀ = {c.Zeta0}); Theorem 1 does not apply ({setting})");
        var trace = Seed003Training.GradientDescent(model, loss, c.EtaQ, c.EtaW, steps);
        var gap = trace.Select(l => l - loss.Infimum).ToArray();
        var bound = Enumerable.Range(0, steps + 1).Select(t => Math.Pow(c.Rate, t) * c.InitialGap).ToArray();
        return new TheoremOneRun(c, gap, bound, loss.Infimum);
    }
}
