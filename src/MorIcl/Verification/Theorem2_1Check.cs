namespace MorIcl.Verification;

/// <summary>
/// Seed 000 Theorem 2.1, prediction part (high SNR): the constructed transformer's excess squared
/// prediction error against the oracle is of order d/n (up to logarithms).
/// </summary>
public sealed class Theorem2_1Check : ProofCheck
{
    public override string Name => "Theorem2_1";
    public override string Statement => "seed 000 Theorem 2.1 (high SNR): the excess squared prediction error against the oracle is O(d/n) up to logs";
    public override string Derivation =>
        "With per-sample labels the oracle predicts ŷ* = (2π − 1)⟨x, β*⟩ and the transformer ŷ = (2π − 1)⟨x, β̂⟩; for a fresh query x ~ N(0, I) the " +
        "excess E(ŷ − y)² − E(ŷ* − y)² equals (2π − 1)²‖β̂ − β*‖² (the cross term has mean zero), whose order is d log n / n. Its mean over prompts must " +
        "have log–log slope in [−1.2, −0.8] in n and in [0.8, 1.2] in d. π = 0.7 so the oracle is not zero. The empirical excess MSE on the prompts' " +
        "own query labels is reported alongside.";

    protected override CheckResult Execute(CheckOptions options, IProgress<double> progress)
    {
        var sweep = HighSnrSweep.For(options, progress);
        var meanN = sweep.OverN.Select(p => p.ExcessPrediction.Average()).ToArray();
        var meanD = sweep.OverD.Select(p => p.ExcessPrediction.Average()).ToArray();
        var fitN = RateFit.LogLog(sweep.OverN.Select(p => (double)p.N).ToArray(), meanN);
        var fitD = RateFit.LogLog(sweep.OverD.Select(p => (double)p.D).ToArray(), meanD);
        double empirical = sweep.OverN.SelectMany(p => p.EmpiricalExcess).Average();
        var measurements = new List<Measurement>
        {
            new("slope of the mean excess squared prediction error in n", fitN.Slope, "∈ [−1.2, −0.8]", fitN.Slope >= -1.2 && fitN.Slope <= -0.8),
            new("slope of the mean excess squared prediction error in d", fitD.Slope, "∈ [0.8, 1.2]", fitD.Slope >= 0.8 && fitD.Slope <= 1.2),
            new("empirical excess MSE on the prompts' queries (all n)", empirical, "reported", true),
        };
        var series = new List<RateSeries>
        {
            new("Theorem 2.1: excess prediction error against n", "n (examples per prompt)", "E(ŷ − ŷ*)²", sweep.OverN.Select(p => (double)p.N).ToArray(), meanN,
                sweep.OverN.Select(p => RateFit.Quantile(p.ExcessPrediction, 0.95)).ToArray(), fitN.Slope, fitN.Intercept,
                sweep.OverN.Select(p => meanN[0] * (p.D / (double)p.N) / (sweep.OverN[0].D / (double)sweep.OverN[0].N)).ToArray(), "∝ d/n"),
        };
        return Result(measurements, $"slope {fitN.Slope:F3} in n, {fitD.Slope:F3} in d", "the Theorem B.2 sweep (same prompts and models)", series);
    }
}
