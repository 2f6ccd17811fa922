using MorIcl.Mixture;
using MorIcl.Numerics;

namespace MorIcl.Probing;

/// <summary>Where a probe reads: the query token, or the mean of the example tokens.</summary>
public enum ProbePosition { Query, ExampleMean }

/// <summary>How many prompts a probe is fitted and scored on, their length, and the seed of everything drawn.</summary>
public sealed record ProbeOptions(int TrainPrompts, int TestPrompts, int PromptLength, int Seed)
{
    public void Validate()
    {
        if (TrainPrompts < 2 * RidgeProbe.Folds) throw new SpecificationException($"--train-prompts must be at least {2 * RidgeProbe.Folds}, got {TrainPrompts}");
        if (TestPrompts < 2) throw new SpecificationException($"--test-prompts must be at least 2, got {TestPrompts}");
        if (PromptLength < 1) throw new SpecificationException($"--prompt-length must be at least 1, got {PromptLength}");
    }
}

/// <summary>R² of every target at one read point, at both positions, with the penalty cross-validation chose.</summary>
public sealed record ProbeLayer(int Layer, string Name, Dictionary<string, double> QueryR2, Dictionary<string, double> ExampleMeanR2, Dictionary<string, double> QueryLambda, Dictionary<string, double> ExampleMeanLambda)
{
    public double R2(ProbePosition p, string target) => (p == ProbePosition.Query ? QueryR2 : ExampleMeanR2).TryGetValue(target, out var v) ? v : double.NaN;
}

/// <summary>The probes of a model and of the two controls (docs/math.md §11).</summary>
public sealed record ProbeReport(IReadOnlyList<string> Targets, IReadOnlyList<ProbeLayer> Layers, IReadOnlyList<ProbeLayer>? Untrained, IReadOnlyList<ProbeLayer> Shuffled, int ExactEmFailures);

/// <summary>
/// Fits and scores every probe (docs/math.md §11): prompts 0 … m−1 (drawn from <see cref="ProbeTargets.Truth"/>
/// with the options' seed) train the probes, the next ones score them by R². For every read point of
/// the model, each position and each target, one ridge probe with its penalty cross-validated; then the
/// same on the untrained control's streams, and on the model's streams with the probe-training
/// targets shuffled across prompts (a fixed permutation), scored against the true held-out targets.
/// A read point whose features are not all finite gets NaN.
/// </summary>
public static class ProbeExperiment
{
    public static ProbeReport Run(IResidualStreams model, IResidualStreams? untrained, ProbeTargets targets, ProbeOptions options, Action<string>? log = null)
    {
        options.Validate();
        int m = options.TrainPrompts, total = m + options.TestPrompts;
        var prompts = PromptSampler.SampleBatch(targets.Truth, options.PromptLength, total, SeedSequence.Derive(options.Seed, 0, 0x9B0B));
        var values = new Dictionary<string, double[]?>[total];
        Parallel.For(0, total, Numerics.Parallelism.Options(), i => values[i] = targets.Of(prompts[i]));
        int failures = values.Count(v => v.TryGetValue("beta_em_exact", out var e) && e is null);
        log?.Invoke($"targets computed for {total} prompts ({failures} without an exact EM fixed point)");

        var streams = model.Read(prompts);
        log?.Invoke($"read {model.Points.Count} points of the model's residual stream");
        var layers = Probe(model.Points, streams, values, targets.Names, m, options.Seed, shuffle: false);
        var shuffled = Probe(model.Points, streams, values, targets.Names, m, options.Seed, shuffle: true);
        IReadOnlyList<ProbeLayer>? control = null;
        if (untrained is not null)
        {
            var s = untrained.Read(prompts);
            control = Probe(untrained.Points, s, values, targets.Names, m, options.Seed, shuffle: false);
            log?.Invoke("probed the untrained control");
        }
        return new ProbeReport(targets.Names, layers, control, shuffled, failures);
    }

    private static List<ProbeLayer> Probe(IReadOnlyList<string> points, StreamReadout[] streams, Dictionary<string, double[]?>[] values, IReadOnlyList<string> names, int m, int seed, bool shuffle)
    {
        int total = values.Length;
        // The shuffled control: probe-training prompt i gets the targets of prompt perm(i).
        var perm = Enumerable.Range(0, m).ToArray();
        if (shuffle)
        {
            var rng = SeedSequence.Create(seed, 1, 0x5AFF);
            for (int i = m - 1; i > 0; i--) { int j = rng.Next(i + 1); (perm[i], perm[j]) = (perm[j], perm[i]); }
        }
        var result = new ProbeLayer[points.Count];
        Parallel.For(0, points.Count, Numerics.Parallelism.Options(), l =>
        {
            var r2 = new Dictionary<ProbePosition, Dictionary<string, double>>();
            var lambda = new Dictionary<ProbePosition, Dictionary<string, double>>();
            foreach (var pos in Enum.GetValues<ProbePosition>())
            {
                r2[pos] = new(); lambda[pos] = new();
                var x = streams.Select(s => pos == ProbePosition.Query ? s.Query[l] : s.ExampleMean[l]).ToArray();
                bool finite = x.All(v => v.All(double.IsFinite));
                // Targets with the same defined prompts share one design (its decompositions).
                foreach (var group in names.GroupBy(t => Mask(values, t)))
                {
                    var train = Enumerable.Range(0, m).Where(i => values[perm[i]][group.First()] is not null).ToArray();
                    var test = Enumerable.Range(m, total - m).Where(i => values[i][group.First()] is not null).ToArray();
                    RidgeProbe.Design? design = finite && train.Length >= 2 * RidgeProbe.Folds && test.Length >= 2 ? new RidgeProbe.Design(x, train, seed + l) : null;
                    foreach (var t in group)
                    {
                        if (design is null) { r2[pos][t] = double.NaN; lambda[pos][t] = double.NaN; continue; }
                        var y = Enumerable.Range(0, total).Select(i => i < m ? values[perm[i]][t] : values[i][t]).ToArray();
                        var probe = design.Fit(y!);
                        r2[pos][t] = probe.R2(x, y!, test);
                        lambda[pos][t] = probe.Lambda;
                    }
                }
            }
            result[l] = new ProbeLayer(l, points[l], r2[ProbePosition.Query], r2[ProbePosition.ExampleMean], lambda[ProbePosition.Query], lambda[ProbePosition.ExampleMean]);
        });
        return result.ToList();
    }

    /// <summary>Which prompts define a target, as a string key (targets defined on all prompts share "all").</summary>
    private static string Mask(Dictionary<string, double[]?>[] values, string target)
    {
        if (values.All(v => v[target] is not null)) return "all";
        return new string(values.Select(v => v[target] is null ? '0' : '1').ToArray());
    }
}
