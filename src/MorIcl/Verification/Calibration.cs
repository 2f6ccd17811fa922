namespace MorIcl.Verification;

/// <summary>
/// Measured false alarms (docs/math.md §10.9): every check run on the correct system with seeds
/// 1 … S (or from another first seed); a failure of a correct system is a false alarm. Per check: the failures, the seeds that
/// failed, and every measurement's values across seeds (to see how close each criterion runs).
/// </summary>
public static class Calibration
{
    public sealed record MeasurementSpread(string Name, double[] Values, double[] StandardErrors, int Failures);

    public sealed record CheckCalibration(string Name, int Seeds, int Failures, int[] FailedSeeds, IReadOnlyList<MeasurementSpread> Measurements, double Seconds, int NotApplicable);

    public static IReadOnlyList<CheckCalibration> Run(IReadOnlyList<ProofCheck> checks, int seeds, CheckOptions options, Action<string, int>? progress = null, int firstSeed = 1)
    {
        var result = new List<CheckCalibration>();
        foreach (var check in checks)
        {
            var runs = new List<(int Seed, CheckResult Result)>();
            for (int s = firstSeed; s < firstSeed + seeds; s++)
            {
                runs.Add((s, check.Run(options with { Seed = s })));
                progress?.Invoke(check.Name, s - firstSeed + 1);
            }
            var names = runs.SelectMany(r => r.Result.Measurements.Select(m => m.Name)).Distinct().ToArray();
            var spreads = names.Select(n =>
            {
                var ms = runs.Select(r => r.Result.Measurements.FirstOrDefault(m => m.Name == n)).Where(m => m is not null).ToArray();
                return new MeasurementSpread(n, ms.Select(m => m!.Value).ToArray(), ms.Select(m => m!.StandardError).ToArray(), ms.Count(m => !m!.Passed));
            }).ToArray();
            var failed = runs.Where(r => r.Result.Failed).Select(r => r.Seed).ToArray();
            result.Add(new CheckCalibration(check.Name, seeds, failed.Length, failed, spreads, runs.Sum(r => r.Result.Seconds), runs.Count(r => !r.Result.Applicable)));
        }
        return result;
    }
}
