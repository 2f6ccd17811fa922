using System.CommandLine;
using MorIcl.Cli.Hosting;
using System.Text.Json.Nodes;
using MorIcl.Em;
using MorIcl.IO;
using MorIcl.Mixture;
using MorIcl.Numerics;
using Spectre.Console;

namespace MorIcl.Cli.Commands;

/// <summary><c>mor-icl em</c>: fits a K-component mixture of linear regressions to a CSV by EM or gradient EM.</summary>
internal static class EmCommand
{
    public static Command Create(CliContext ctx)
    {
        var data = new Option<string>("--data") { Description = "CSV with header x1,…,xd,y, or any header with --response (and --features).", Required = true };
        var columns = new CsvColumnOptions();
        var dim = new Option<int?>("--dim") { Description = "Expected dimension d (checked against the header)." };
        var comps = new Option<int>("--components") { Description = "Number of components K.", Required = true };
        var sigma = new Option<double?>("--sigma") { Description = "Known noise level σ (otherwise σ is estimated, see --variance)." };
        var variance = new Option<string?>("--variance") { Description = "Estimated σ: shared or per-component (default per-component)." };
        var fixedMixing = new Option<string?>("--fixed-mixing") { Description = "Known mixing weights, comma-separated (otherwise π is estimated)." };
        var algorithm = new Option<string>("--algorithm") { Description = "exact (weighted least squares) or gradient (T gradient steps).", DefaultValueFactory = _ => "exact" };
        var inner = new Option<int>("--inner-steps") { Description = "Inner gradient steps T per M-step (gradient EM).", DefaultValueFactory = _ => 1 };
        var step = new Option<double>("--step-size") { Description = "Step size α of the inner gradient steps.", DefaultValueFactory = _ => 0.5 };
        var maxIt = new Option<int>("--max-iterations") { Description = "Maximum EM iterations.", DefaultValueFactory = _ => 1000 };
        var tol = new Option<double>("--tolerance") { Description = "Stop when no parameter changes by more than this.", DefaultValueFactory = _ => 1e-10 };
        var init = new Option<string?>("--init") { Description = "Initial parameters as JSON: beta (K arrays of d), optional mixing and sigma." };
        var initSeed = new Option<int?>("--init-seed") { Description = "Seed of the random initialisation (default 0)." };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object." };
        var cmd = new Command("em", "Fit a mixture of linear regressions by EM (exact or gradient M-step).")
        { data, dim, comps, sigma, variance, fixedMixing, algorithm, inner, step, maxIt, tol, init, initSeed, json };
        columns.AddTo(cmd);
        ThreadsOption.AddTo(cmd);
        cmd.SetAction(r => MorIclCli.Guard(ctx, "em", () =>
        {
            string dataPath = r.GetValue(data)!;
            int k = r.GetValue(comps);
            if (k < 1) throw new SpecificationException($"--components must be at least 1, got {k}");
            var named = RegressionCsv.ReadNamed(dataPath, columns.Read(r), r.GetValue(dim));
            var regression = named.Data;
            if (regression.N <= regression.D)
                throw new InputException($"{dataPath}: n = {regression.N} examples ≤ d = {regression.D} dimensions; EM needs n > d");
            // Responsibilities, their logarithms and per-component weights: a few n×K arrays, and K Gram matrices.
            MemoryBudget.Require(8.0 * k * (4.0 * regression.N + 2.0 * regression.D * regression.D), $"--components {k} on n = {regression.N}, d = {regression.D}");

            var options = new EmOptions
            {
                Algorithm = r.GetValue(algorithm) switch
                {
                    "exact" => EmAlgorithm.Exact,
                    "gradient" => EmAlgorithm.Gradient,
                    var a => throw new SpecificationException($"--algorithm: '{a}' is not an algorithm; use exact or gradient"),
                },
                InnerSteps = r.GetValue(inner),
                StepSize = r.GetValue(step),
                MaxIterations = r.GetValue(maxIt),
                Tolerance = r.GetValue(tol),
                FixedMixing = r.GetValue(fixedMixing) is { } fm ? OptionParsing.Mixing(fm, k, "--fixed-mixing") : null,
            };
            if (options.Algorithm == EmAlgorithm.Exact && new Option[] { inner, step }.FirstOrDefault(o => r.GetResult(o) is { Implicit: false }) is { } unused)
                throw new SpecificationException($"{unused.Name} applies to --algorithm gradient; exact EM solves the M-step in closed form");
            var known = r.GetValue(sigma);
            var varText = r.GetValue(variance);
            if (known is not null && varText is not null) throw new SpecificationException("--sigma (known σ) and --variance (estimated σ) exclude each other");
            if (known is double s)
            {
                MixtureSpec.ValidateSigma(s, "--sigma");
                options = options with { Variance = VarianceModel.Known, KnownSigma = s };
            }
            else options = options with
            {
                Variance = varText switch
                {
                    null or "per-component" => VarianceModel.PerComponent,
                    "shared" => VarianceModel.Shared,
                    _ => throw new SpecificationException($"--variance: '{varText}' is not a variance model; use shared or per-component"),
                },
            };
            options.Validate(k);

            var initPath = r.GetValue(init);
            if (initPath is not null && r.GetValue(initSeed) is not null) throw new SpecificationException("--init and --init-seed exclude each other");
            var random = Initialisation.RandomGaussian(regression, k, r.GetValue(initSeed) ?? 0);
            var start = initPath is null ? random : ParametersJson.Complete(ParametersJson.Read(initPath), regression.D, k, random.Sigma[0], initPath);

            var result = ctx.ErrConsole is { } console
                ? ProgressBars.Run(console, "EM", options.MaxIterations, report => ExpectationMaximisation.Fit(regression, start,
                    options with { OnIteration = i => report(i, $"EM iteration {i} (at most {options.MaxIterations})") }))
                : ExpectationMaximisation.Fit(regression, start, options);
            if (r.GetValue(json))
            {
                var o = ResultJson(result);
                o["features"] = new JsonArray(named.FeatureNames.Select(f => (JsonNode)f).ToArray());
                o["response"] = named.ResponseName;
                ctx.Out.WriteLine(o.ToJsonString());
            }
            else WriteTable(ctx, result, options, regression, named.FeatureNames, named.ResponseName);
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    internal static JsonObject ResultJson(EmResult result)
    {
        var o = ParametersJson.ToJson(result.Parameters);
        o["logLikelihood"] = result.LogLikelihood;
        o["iterations"] = result.Iterations;
        o["converged"] = result.Converged;
        o["logLikelihoodTrace"] = ParametersJson.Array(result.LogLikelihoodTrace);
        return o;
    }

    internal static void WriteTable(CliContext ctx, EmResult result, EmOptions options, RegressionData data, IReadOnlyList<string> features, string response)
    {
        var p = result.Parameters;
        var table = new Table().AddColumn("component").AddColumn("π").AddColumn("σ").AddColumn(Markup.Escape($"β ({string.Join(", ", features)})"));
        for (int k = 0; k < p.K; k++)
            table.AddRow($"{k + 1}", OptionParsing.Format(p.Mixing[k]), OptionParsing.Format(p.Sigma[k]), Markup.Escape(OptionParsing.Vector(p.Beta[k])));
        string algo = options.Algorithm == EmAlgorithm.Exact ? "exact EM" : $"gradient EM (T = {options.InnerSteps}, α = {OptionParsing.Format(options.StepSize)})";
        ctx.Console.MarkupLine(Markup.Escape($"{algo} on n = {data.N}, d = {data.D}, K = {p.K}; response {response}"));
        ctx.Console.Write(table);
        ctx.Console.MarkupLine(Markup.Escape($"iterations: {result.Iterations}   converged: {(result.Converged ? "yes" : "no")}   log-likelihood: {result.LogLikelihood:R}"));
    }
}
