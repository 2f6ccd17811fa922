namespace MorIcl.Seed003;

/// <summary>A seed 003 setting: dictionary size K, token dimension d, prompt length N, feature dimension m, noise τ, heads H.</summary>
public sealed record Seed003Setting(int K, int D, int N, int M, double Tau, int H, double InitScale = 1.0)
{
    public RepresentationTask Task(int seed) => RepresentationTask.Random(D, K, N, Tau, new GaussianTableFeatures(M, seed), seed);
    public override string ToString() => $"K = {K}, d = {D}, N = {N}, m = {M}, τ = {Tau}, H = {H}, Q(0) ~ N(0, {InitScale}²)";
}

/// <summary>
/// Theorem 1 run: GD with the theorem's rates from its initialisation; per step the gap L(θ_t) − inf L
/// and the bound ρ^t Δ(0) of eq. (18), and how far the Q_h moved, ‖Q(T) − Q(0)‖_F / ‖Q(0)‖_F.
/// <c>rateScale</c> multiplies both rates (1 = the theorem's; tests use more to see the bound fail).
/// </summary>
public sealed record TheoremOneRun(TheoremOneConstants Constants, double[] Gap, double[] Bound, double Infimum, double QMovement)
{
    public static TheoremOneRun Execute(Seed003Setting setting, int steps, int seed, double rateScale = 1) =>
        Execute(setting, _ => steps, seed, rateScale);

    /// <summary>As above, with the number of steps chosen from the constants (e.g. until ρ^t reaches a target).</summary>
    public static TheoremOneRun Execute(Seed003Setting setting, Func<TheoremOneConstants, int> steps, int seed, double rateScale = 1)
    {
        var task = setting.Task(seed);
        var loss = new PopulationLoss(task);
        var model = SoftmaxAttentionModel.Initialise(task, setting.H, setting.InitScale, seed);
        var c = TheoremOneConstants.At(model, loss);
        if (!(c.Zeta0 > 0)) throw new NumericalException($"Assumption 2 fails at this initialisation (ζ₀ = {c.Zeta0}); Theorem 1 does not apply ({setting})");
        int count = steps(c);
        int qCount = setting.H * task.D * task.D;
        var q0 = model.Parameters.Take(qCount).ToArray();
        var trace = Seed003Training.GradientDescent(model, loss, rateScale * c.EtaQ, rateScale * c.EtaW, count);
        double moved = 0, size = 0;
        for (int i = 0; i < qCount; i++) { double dq = model.Parameters[i] - q0[i]; moved += dq * dq; size += q0[i] * q0[i]; }
        var gap = trace.Select(l => l - loss.Infimum).ToArray();
        var bound = Enumerable.Range(0, count + 1).Select(t => Math.Pow(c.Rate, t) * c.InitialGap).ToArray();
        return new TheoremOneRun(c, gap, bound, loss.Infimum, Math.Sqrt(moved / size));
    }
}
