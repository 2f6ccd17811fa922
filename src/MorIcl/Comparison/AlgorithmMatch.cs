using MorIcl.Baselines;
using MorIcl.Construction;
using MorIcl.Em;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Probing;
using MorIcl.Training;

namespace MorIcl.Comparison;

/// <summary>How the matching is run: prompt lengths, prompts and fresh queries per length, the largest S of gradient EM, the read-out probes' training prompts, the seed.</summary>
public sealed record MatchOptions(int[] Ns, int Prompts, int Queries, int MaxEmIterations, int ReadOutPrompts, int Seed)
{
    public void Validate()
    {
        if (Ns.Length == 0 || Ns.Any(n => n < 1)) throw new SpecificationException("--prompt-lengths needs at least one n ≥ 1");
        if (Prompts < 2) throw new SpecificationException($"--prompts must be at least 2, got {Prompts}");
        if (Queries < 1) throw new SpecificationException($"--queries must be at least 1, got {Queries}");
        if (MaxEmIterations < 1) throw new SpecificationException($"--max-em-iterations must be at least 1, got {MaxEmIterations}");
        if (ReadOutPrompts < 2 * RidgeProbe.Folds) throw new SpecificationException($"--readout-prompts must be at least {2 * RidgeProbe.Folds}, got {ReadOutPrompts}");
    }
}

/// <summary>SPD of one predictor (the model, or a read-out at one layer) against every candidate at one n, and the best match.</summary>
public sealed record MatchResult(int N, int Layer, string Name, Dictionary<string, double> Spd, double[] GradientEmSpd, double[] GradientDescentSpd, string Best, int BestS)
{
    /// <summary>The number of plain gradient-descent steps (on least squares) whose predictions are closest.</summary>
    public int BestGdSteps => GradientDescentSpd.All(double.IsNaN) ? 0 : Array.IndexOf(GradientDescentSpd, GradientDescentSpd.Where(double.IsFinite).Min()) + 1;

    public double BestSpd => Spd.TryGetValue(Best, out var v) ? v : double.NaN;
}

/// <summary>
/// Which algorithm a model matches (after Akyürek et al. 2023; docs/math.md §11): for each prompt
/// length n, the SPD (docs/math.md §5, per d) between the model's predictions and each candidate's on
/// the same prompts and fresh queries — gradient EM after S = 1 … S_max iterations (with the
/// targets' σ, π, T, α and β⁽⁰⁾), exact EM from the same β⁽⁰⁾, least squares (minimum norm when
/// n &lt; d), ridge with λ = σ²d (the posterior mean for β ~ N(0, I/d)) and the oracle. EM's estimates
/// predict through docs/math.md §1's oracle form. The best match is the candidate of smallest SPD
/// (each S counted as its own candidate). With the model's residual streams, the same at every layer:
/// a ridge read-out of the model's prediction from the query token's stream at that layer (fitted on
/// other prompts of the same n, see <see cref="ReadOuts"/>) is compared with every candidate.
/// </summary>
public static class AlgorithmMatch
{
    public const string Model = "model";

    public static List<MatchResult> Run(IPromptPredictor model, IResidualStreams? streams, TrainingTask task, ConstructionSpec gradientEm, MatchOptions o, Action<string>? log = null)
    {
        o.Validate();
        var truth = task.Spec();
        var spec = GradientEmPath.WithIterations(gradientEm, o.MaxEmIterations);
        var results = new List<MatchResult>();
        foreach (var n in o.Ns)
        {
            int seed = SeedSequence.Derive(o.Seed, n, 0x3A7C);
            var prompts = PromptSampler.SampleBatch(truth, n, o.Prompts, seed);
            var pairs = Pairs(prompts, o.Queries, truth.D, seed);
            var candidates = Candidates(pairs, truth, spec, n);
            var own = Predict(model, pairs);
            results.Add(Best(n, -1, model.Name, own, candidates, truth.D, o.MaxEmIterations));
            log?.Invoke($"n = {n}: the model matches {results[^1].Best} best (SPD {results[^1].BestSpd:G3})");
            if (streams is null) continue;
            var readouts = ReadOuts(model, streams, truth, n, o.ReadOutPrompts, SeedSequence.Derive(o.Seed, n, 0x3A7D), pairs);
            for (int l = 0; l < readouts.Length; l++)
            {
                var c = new Dictionary<string, double[]>(candidates) { [Model] = own };
                results.Add(Best(n, l, streams.Points[l], readouts[l], c, truth.D, o.MaxEmIterations));
            }
            log?.Invoke($"n = {n}: layer read-outs compared");
        }
        return results;
    }

    /// <summary>Every prompt with each of its fresh queries (and the prompt's own first), as prompts.</summary>
    private static Prompt[] Pairs(Prompt[] prompts, int queries, int d, int seed)
    {
        var rng = SeedSequence.Create(seed, 0, 0x3A7E);
        var pairs = new List<Prompt>();
        foreach (var p in prompts)
            for (int j = 0; j < queries; j++)
            {
                var q = j == 0 ? p.Query : Enumerable.Range(0, d).Select(_ => MathNet.Numerics.Distributions.Normal.Sample(rng, 0, 1)).ToArray();
                pairs.Add(new Prompt(p.Examples, q, 0, p.Components, p.Beta));
            }
        return pairs.ToArray();
    }

    private static double[] Predict(IPromptPredictor model, Prompt[] pairs)
    {
        if (model is TrainedPredictor t) return t.Model.Predict(pairs.Select(p => (p.Examples, p.Query)).ToArray());
        var r = new double[pairs.Length];
        Parallel.For(0, pairs.Length, Numerics.Parallelism.Options(), i => r[i] = model.Predict(pairs[i].Examples, pairs[i].Query));
        return r;
    }

    public static string Iterate(int s) => $"gradient EM, S = {s}";
    public static string GdIterate(int s) => $"GD on least squares, steps = {s}";

    /// <summary>Whether a candidate is one of the per-iteration families (listed by S, not by name).</summary>
    public static bool IsIterate(string name) => name.StartsWith("gradient EM, S = ", StringComparison.Ordinal) || name.StartsWith("GD on least squares, ", StringComparison.Ordinal);

    /// <summary>Every candidate's predictions on the pairs: gradient EM for each S, exact EM, least squares, ridge, oracle.</summary>
    private static Dictionary<string, double[]> Candidates(Prompt[] pairs, MixtureSpec truth, ConstructionSpec spec, int n)
    {
        int S = spec.EmIterations, m = pairs.Length;
        var em = new double[S][];
        var gd = new double[S][];
        for (int s = 0; s < S; s++) { em[s] = new double[m]; gd[s] = new double[m]; }
        var exact = new double[m]; var ols = new double[m]; var ridge = new double[m]; var oracle = new double[m];
        var sigma = Enumerable.Repeat(spec.Sigma, spec.Components).ToArray();
        double lambda = spec.Sigma * spec.Sigma * truth.D;
        Parallel.For(0, m, Numerics.Parallelism.Options(), i =>
        {
            var p = pairs[i];
            // A prompt's pairs share its examples: the estimates are recomputed per pair (cheap at these sizes) to keep this simple.
            var path = GradientEmPath.Of(spec, p.Examples, p.Query);
            for (int s = 0; s < S; s++) em[s][i] = OraclePredictor.Predict(new MixtureParameters(path[s], spec.Mixing, sigma), truth.Mode, p);
            var descent = GradientDescentPath(p.Examples, spec.StepSize, S);
            for (int s = 0; s < S; s++) gd[s][i] = Dot(p.Query, descent[s]);
            exact[i] = n > truth.D ? ExactEmPredictor.FromStart(p.Examples, p.Query, new MixtureParameters(spec.InitialBeta, spec.Mixing, sigma), spec.Sigma, truth.Mode, 500) : double.NaN;
            ols[i] = Dot(p.Query, LeastSquares.MinimumNorm(p.Examples));
            ridge[i] = Dot(p.Query, LeastSquares.Ridge(p.Examples, lambda));
            oracle[i] = OraclePredictor.Predict(truth, p);
        });
        var c = new Dictionary<string, double[]>();
        for (int s = 0; s < S; s++) c[Iterate(s + 1)] = em[s];
        for (int s = 0; s < S; s++) c[GdIterate(s + 1)] = gd[s];
        if (n > truth.D) c["exact EM"] = exact;
        c["least squares"] = ols;
        c[$"ridge (λ = σ²d = {lambda:G3})"] = ridge;
        c["oracle"] = oracle;
        return c;
    }

    private static MatchResult Best(int n, int layer, string name, double[] a, Dictionary<string, double[]> candidates, int d, int maxS)
    {
        var spd = candidates.ToDictionary(kv => kv.Key, kv => Spd(a, kv.Value, d));
        var emSpd = Enumerable.Range(1, maxS).Select(s => spd[Iterate(s)]).ToArray();
        var gdSpd = Enumerable.Range(1, maxS).Select(s => spd[GdIterate(s)]).ToArray();
        var finite = spd.Where(kv => kv.Key != Model && double.IsFinite(kv.Value)).OrderBy(kv => kv.Value).ToArray();
        string best = finite.Length > 0 ? finite[0].Key : "none (not finite)";
        int bestS = emSpd.All(double.IsNaN) ? 0 : Array.IndexOf(emSpd, emSpd.Where(double.IsFinite).Min()) + 1;
        return new MatchResult(n, layer, name, spd, emSpd, gdSpd, best, bestS);
    }

    /// <summary>
    /// Plain gradient descent on the prompt's least squares from b = 0, b ← b − α (1/n) Σ_i x_i (⟨x_i, b⟩ − y_i)
    /// (one component, no E-step; von Oswald et al. 2023's in-context algorithm): b after 1 … S steps.
    /// </summary>
    private static double[][] GradientDescentPath(RegressionData data, double alpha, int steps)
    {
        int n = data.N, d = data.D;
        var b = new double[d];
        var path = new double[steps][];
        var g = new double[d];
        for (int s = 0; s < steps; s++)
        {
            Array.Clear(g);
            for (int i = 0; i < n; i++)
            {
                double r = -data.Y[i];
                for (int a = 0; a < d; a++) r += data.X(i, a) * b[a];
                for (int a = 0; a < d; a++) g[a] += data.X(i, a) * r;
            }
            for (int a = 0; a < d; a++) b[a] -= alpha * g[a] / n;
            path[s] = (double[])b.Clone();
        }
        return path;
    }

    private static double Spd(double[] a, double[] b, int d)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) { double e = a[i] - b[i]; s += e * e; }
        return s / a.Length / d;
    }

    /// <summary>
    /// For every read point l, a read-out of the model's own prediction ("tuned lens", Belrose et al.
    /// 2023): ridge from the features [h_l; h_l ⊗ x_query] of the query token's stream h_l — linear in
    /// h_l and bilinear in (h_l, x_query), so ⟨x_query, W h_l⟩ (a weight vector decoded from the layer,
    /// as Akyürek et al. probe for one) is in its span — fitted on fresh prompts of length n and applied
    /// to the pairs. The last read-out reproduces the model up to the probe's error.
    /// </summary>
    private static double[][] ReadOuts(IPromptPredictor model, IResidualStreams streams, MixtureSpec truth, int n, int count, int seed, Prompt[] pairs)
    {
        var train = PromptSampler.SampleBatch(truth, n, count, seed);
        var trainStreams = streams.Read(train);
        var labels = Predict(model, train).Select(v => new[] { v }).ToArray();
        var pairStreams = streams.Read(pairs);
        var result = new double[streams.Points.Count][];
        var rows = Enumerable.Range(0, count).ToArray();
        Parallel.For(0, streams.Points.Count, Numerics.Parallelism.Options(), l =>
        {
            var x = trainStreams.Select((s, i) => Features(s.Query[l], train[i].Query)).ToArray();
            if (!x.All(v => v.All(double.IsFinite))) { result[l] = Enumerable.Repeat(double.NaN, pairs.Length).ToArray(); return; }
            var probe = RidgeProbe.Fit(x, labels, rows, seed + l);
            result[l] = pairStreams.Select((s, i) => probe.Predict(Features(s.Query[l], pairs[i].Query))[0]).ToArray();
        });
        return result;
    }

    /// <summary>[h; h ⊗ x] (h first, then h_c x_a for every c and a).</summary>
    private static double[] Features(double[] h, double[] x)
    {
        var f = new double[h.Length * (1 + x.Length)];
        h.CopyTo(f, 0);
        for (int c = 0; c < h.Length; c++)
            for (int a = 0; a < x.Length; a++) f[h.Length + c * x.Length + a] = h[c] * x[a];
        return f;
    }

    private static double Dot(double[] a, double[] b) => MorIcl.Numerics.Simd.SimdSpan.Dot<double>(a, b);
}
