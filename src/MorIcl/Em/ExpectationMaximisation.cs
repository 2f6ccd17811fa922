using MorIcl.Mixture;

namespace MorIcl.Em;

/// <summary>
/// EM and gradient EM for a mixture of linear regressions (docs/math.md §2). One iteration: E-step at θ_t
/// (responsibilities and ℓ(θ_t)); π update when estimated; M-step for β (exact weighted least
/// squares, or T gradient steps of size α from β_t); σ update from the new β when estimated.
/// Stops when no parameter changes by more than the tolerance, or after the maximum number of
/// iterations. The reported log-likelihood is ℓ at the returned parameters.
/// </summary>
public static class ExpectationMaximisation
{
    public static EmResult Fit(RegressionData data, MixtureParameters init, EmOptions options)
    {
        int n = data.N, d = data.D, K = init.K;
        init.RequireShape(d, K, "initialisation");
        options.Validate(K);
        if (options.Algorithm == EmAlgorithm.Exact && n <= d)
            throw new SpecificationException($"exact EM needs more examples than dimensions: n = {n} ≤ d = {d} (gradient EM does not)");

        var current = Normalise(init, options);
        var kernels = new EmKernels(data, K);
        bool exact = options.Algorithm == EmAlgorithm.Exact;
        var gram = exact ? Alloc(K, d * d) : null;
        var h = exact ? Alloc(K, d) : null;
        var grad = exact ? null : Alloc(K, d);
        var nk = new double[K];
        var g = new double[d];
        var trace = options.RecordTrace ? new List<EmTraceEntry>() : null;
        var logLikTrace = new List<double>();

        bool converged = false;
        int iterations = 0;
        while (true)
        {
            // The closing E-step only evaluates ℓ at the result: no sufficient statistics needed.
            bool last = converged || iterations >= options.MaxIterations;
            // Estimated π (iteration ≥ 2) through the caller's logarithm when one is given; the closing
            // E-step reports the model's likelihood, so it keeps the exact log.
            double[]? logMixing = !last && iterations > 0 && options.FixedMixing is null && options.EstimatedMixingLog is { } log
                ? Enumerable.Range(0, K).Select(k => log(iterations + 1, k, current.Mixing[k])).ToArray() : null;
            double logLik = last ? kernels.EStep(current, null, null, null, nk) : kernels.EStep(current, gram, h, grad, nk, logMixing);
            logLikTrace.Add(logLik);
            if (converged || iterations >= options.MaxIterations) break;

            // π update (docs/math.md §2): π_k ← (1/n) Σ_i γ_ik.
            var mixing = options.FixedMixing is { } fixedPi ? (double[])fixedPi.Clone() : nk.Select(v => v / n).ToArray();

            // β update.
            var beta = new double[K][];
            double[][][]? inner = trace is null ? null : new double[exact ? 1 : options.InnerSteps][][];
            if (exact)
            {
                for (int k = 0; k < K; k++)
                    beta[k] = WeightedLeastSquares.Solve(gram![k], h![k], d, $"component {k + 1} at EM iteration {iterations + 1}");
                if (inner is not null) inner[0] = beta.Select(b => (double[])b.Clone()).ToArray();
            }
            else
            {
                // Inner step (seed 000 eq. (14)): b ← b − α (1/n) Σ_i γ_ik x_i (⟨x_i, b⟩ − y_i).
                double step = options.StepSize / n;
                for (int k = 0; k < K; k++) beta[k] = (double[])current.Beta[k].Clone();
                for (int t = 0; t < options.InnerSteps; t++)
                {
                    for (int k = 0; k < K; k++)
                    {
                        if (t == 0) grad![k].CopyTo(g, 0);      // first step's Σ γ r x came with the E-step pass
                        else kernels.Gradient(k, beta[k], g);
                        for (int a = 0; a < d; a++) beta[k][a] += step * g[a];
                    }
                    if (inner is not null) inner[t] = beta.Select(b => (double[])b.Clone()).ToArray();
                }
            }

            for (int k = 0; k < K; k++)
                foreach (var v in beta[k])
                    if (!double.IsFinite(v))
                        throw new NumericalException($"EM diverged at iteration {iterations + 1}: β_{k + 1} is no longer finite" + (exact ? "" : " (the step size α is too large for this data)"));

            // σ update from the new β (mixtools' order): σ_k² = Σ_i γ_ik r_ik² / Σ_i γ_ik, or shared.
            var sigma = new double[K];
            switch (options.Variance)
            {
                case VarianceModel.Known:
                    Array.Fill(sigma, options.KnownSigma!.Value);
                    break;
                case VarianceModel.PerComponent:
                    for (int k = 0; k < K; k++)
                    {
                        double s2 = kernels.WeightedSquaredResidual(k, beta[k]) / nk[k];
                        sigma[k] = CheckedSigma(Math.Sqrt(s2), k, iterations);
                    }
                    break;
                case VarianceModel.Shared:
                    double total = 0;
                    for (int k = 0; k < K; k++) total += kernels.WeightedSquaredResidual(k, beta[k]);
                    Array.Fill(sigma, CheckedSigma(Math.Sqrt(total / n), -1, iterations));
                    break;
            }

            for (int k = 0; k < K; k++)
                if (!(mixing[k] > 0)) throw new NumericalException($"component {k + 1} lost all its weight at EM iteration {iterations + 1} (π_k = 0)");
            trace?.Add(new EmTraceEntry(iterations, (double[])kernels.Gamma.Clone(), inner!));

            var next = new MixtureParameters(beta, options.FixedMixing is null ? Renormalise(mixing) : mixing, sigma);
            iterations++;
            converged = next.MaxAbsDifference(current) <= options.Tolerance;
            current = next;
            options.OnIteration?.Invoke(iterations);
            Numerics.Parallelism.Cancellation.ThrowIfCancellationRequested(); // Ctrl-C between iterations
        }
        return new EmResult(current, iterations, converged, logLikTrace[^1], logLikTrace, trace);
    }

    /// <summary>The initial parameters with the known σ and fixed π substituted.</summary>
    private static MixtureParameters Normalise(MixtureParameters init, EmOptions options)
    {
        int K = init.K;
        var sigma = options.Variance == VarianceModel.Known ? Enumerable.Repeat(options.KnownSigma!.Value, K).ToArray() : init.Sigma;
        if (options.Variance == VarianceModel.Shared && sigma.Distinct().Count() > 1)
        {
            // A shared variance starts from the π-weighted root mean of the given σ_k².
            double s2 = 0;
            for (int k = 0; k < K; k++) s2 += init.Mixing[k] * init.Sigma[k] * init.Sigma[k];
            sigma = Enumerable.Repeat(Math.Sqrt(s2), K).ToArray();
        }
        return new MixtureParameters(init.Beta, options.FixedMixing ?? init.Mixing, sigma);
    }

    /// <summary>Σ γ_ik / n sums to 1 up to rounding; remove the rounding so validation sees Σ π = 1.</summary>
    private static double[] Renormalise(double[] mixing)
    {
        double s = mixing.Sum();
        return mixing.Select(v => v / s).ToArray();
    }

    private static double CheckedSigma(double sigma, int k, int iteration)
    {
        if (sigma > 0 && double.IsFinite(sigma)) return sigma;
        string who = k >= 0 ? $"component {k + 1}" : "the shared variance";
        throw new NumericalException($"{who} collapsed to σ = {sigma:G3} at EM iteration {iteration + 1} (a degenerate maximum of the likelihood)");
    }

    private static double[][] Alloc(int k, int len) => Enumerable.Range(0, k).Select(_ => new double[len]).ToArray();
}
