using System.CommandLine;
using MorIcl.Cli.Hosting;
using MorIcl.Baselines;
using MorIcl.Em;
using MorIcl.Mixture;
using Spectre.Console;

namespace MorIcl.Cli.Commands;

/// <summary><c>mor-icl demo</c>: samples a prompt and shows EM and gradient EM against the truth and the baselines.</summary>
internal static class DemoCommand
{
    public static Command Create(CliContext ctx)
    {
        var dim = new Option<int>("--dim") { Description = "Dimension d.", DefaultValueFactory = _ => 5 };
        var comps = new Option<int>("--components") { Description = "Components K.", DefaultValueFactory = _ => 2 };
        var n = new Option<int>("--prompt-length") { Description = "Examples n.", DefaultValueFactory = _ => 500 };
        var sigma = new Option<double>("--sigma") { Description = "Noise level σ.", DefaultValueFactory = _ => 0.2 };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 1 };
        var cmd = new Command("demo", "Sample a MoR prompt; fit EM and gradient EM; construct the transformer that runs gradient EM and run it; compare with OLS, the oracle and the truth.") { dim, comps, n, sigma, seed };
        ThreadsOption.AddTo(cmd);
        cmd.SetAction(r => MorIclCli.Guard(ctx, "demo", () =>
        {
            int d = r.GetValue(dim), k = r.GetValue(comps), len = r.GetValue(n), s = r.GetValue(seed);
            if (d < 1 || k < 1 || len <= d) throw new SpecificationException($"demo needs d ≥ 1, K ≥ 1 and n > d (got d = {d}, K = {k}, n = {len})");
            MixtureSpec.ValidateSigma(r.GetValue(sigma), "--sigma");
            SampleCommand.RequireMemory(len, d, k);
            var spec = SampleCommand.BuildSpec(d, k, r.GetValue(sigma), Enumerable.Repeat(1.0 / k, k).ToArray(), MixtureMode.PerSample, false, s);
            var prompt = PromptSampler.Sample(spec, len, s, 0);
            var init = Initialisation.RandomGaussian(prompt.Examples, k, s);
            const int S = 20;
            var known = new EmOptions { Variance = VarianceModel.Known, KnownSigma = spec.Sigma, FixedMixing = spec.Mixing.ToArray() };
            var runs = new (string Name, EmOptions Options)[]
            {
                ("exact EM (σ, π known)", known with { Algorithm = EmAlgorithm.Exact }),
                // The transformer's algorithm with the transformer's S: like with like (run to convergence it would be another estimator).
                ($"gradient EM (S = {S}, T = 1, α = 1)", known with { Algorithm = EmAlgorithm.Gradient, InnerSteps = 1, StepSize = 1.0, MaxIterations = S, Tolerance = 0 }),
                ("exact EM (σ_k, π estimated)", new EmOptions { Algorithm = EmAlgorithm.Exact, Variance = VarianceModel.PerComponent }),
            };
            ctx.Console.MarkupLine(Markup.Escape($"MoR prompt: d = {d}, K = {k}, n = {len}, σ = {spec.Sigma}, SNR η = {spec.Snr:G4}, per-sample labels, seed {s}"));
            ctx.Console.MarkupLine(Markup.Escape($"rate σ√(d/n) = {spec.Sigma * Math.Sqrt((double)d / len):G3}"));
            var table = new Table().AddColumn("estimator").AddColumn("iterations").AddColumn("converged").AddColumn("‖β̂ − β‖ (up to permutation)").AddColumn("query prediction");
            double oracle = OraclePredictor.Predict(spec, prompt);
            foreach (var (name, options) in runs)
            {
                var fit = ExpectationMaximisation.Fit(prompt.Examples, init, options);
                table.AddRow(Markup.Escape(name), $"{fit.Iterations}", fit.Converged ? "yes" : options.Tolerance == 0 ? "(S fixed)" : "no",
                    OptionParsing.Format(Metrics.ParameterError(fit.Parameters.Beta, spec.Beta.ToArray())),
                    OptionParsing.Format(OraclePredictor.Predict(fit.Parameters, spec.Mode, prompt)));
            }
            table.AddRow("OLS", "-", "-", "-", OptionParsing.Format(OrdinaryLeastSquares.Predict(prompt)));
            table.AddRow("oracle (true β, π)", "-", "-", "0", OptionParsing.Format(oracle));

            // The constructed transformer (seed 000 Lemmas 3.2–3.3) running the same gradient EM.
            var spec2 = new MorIcl.Construction.ConstructionSpec(d, k, spec.Sigma, spec.Mixing.ToArray(), S, 1, 1.0, init.Beta);
            var model = MorIcl.Construction.Compiler.Compile(spec2);
            var run = new MorIcl.Runtime.ModelExecutor<double>(model).Forward(prompt.Examples, prompt.Query);
            var reference = MorIcl.Runtime.ReferenceRun.Of(spec2, prompt.Examples, prompt.Query);
            table.AddRow(Markup.Escape($"constructed transformer (S = {S}, {model.Layers.Count} layers)"), $"{S}", "(S fixed)",
                OptionParsing.Format(Metrics.ParameterError(run.Beta, spec.Beta.ToArray())), OptionParsing.Format(run.Prediction));
            ctx.Console.Write(table);
            ctx.Out.WriteLine($"query label y = {OptionParsing.Format(prompt.QueryLabel)}");
            double diff = MorIcl.Runtime.TraceDecoder.RelativeError(run.Beta.Append(new[] { run.Prediction }), reference.Beta.Append(new[] { reference.Prediction }));
            ctx.Out.WriteLine($"transformer vs reference gradient EM (S = {S}, T = 1, α = 1): relative difference {diff:G3}; certificate: {run.Certificate.Summary()}");

            // The exact proof checks (fast versions); the statistical ones: mor-icl verify [--full].
            ctx.Out.WriteLine();
            ctx.Out.WriteLine("proof checks (mor-icl verify runs all of them; --full for the rate checks at scale):");
            bool allPassed = true;
            foreach (var name in new[] { "Lemma3_1", "PropositionE1", "PropositionE2" })
            {
                var check = MorIcl.Verification.CheckCatalogue.Find(name)!;
                var result = check.Run(new MorIcl.Verification.CheckOptions { Seed = s });
                allPassed &= result.Passed;
                ctx.Out.WriteLine($"  {(result.Passed ? "passed" : "FAILED")}  {check.Statement}: {result.Summary}");
            }
            return !run.Certificate.InDomain ? ExitCodes.OutOfDomain : allPassed ? ExitCodes.Ok : ExitCodes.CheckFailed;
        }));
        return cmd;
    }
}
