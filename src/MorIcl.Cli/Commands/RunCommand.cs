using System.CommandLine;
using MorIcl.Cli.Hosting;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using MorIcl.IO;
using MorIcl.Mixture;
using MorIcl.Runtime;
using Spectre.Console;

namespace MorIcl.Cli.Commands;

/// <summary><c>mor-icl run</c>: runs a model on a prompt and compares it with reference gradient EM.</summary>
internal static class RunCommand
{
    public static Command Create(CliContext ctx)
    {
        var modelOpt = new Option<string>("--model") { Description = "Model JSON from mor-icl construct.", Required = true };
        var data = new Option<string>("--data") { Description = "Prompt CSV x1,…,xd,y (or any header with --response/--features). Without --query its last row is the query (its y is not used).", Required = true };
        var columns = new CsvColumnOptions();
        var query = new Option<string?>("--query") { Description = "Query x_{n+1}, comma-separated." };
        var traceOpt = new Option<string?>("--trace") { Description = "Write the residual stream after every layer as CSV." };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object." };
        var precision = new Option<string>("--precision") { Description = "double or float.", DefaultValueFactory = _ => "double" };
        var cmd = new Command("run", "Run a constructed transformer on a prompt, next to reference gradient EM, with its certificate.")
        { modelOpt, data, query, traceOpt, json, precision };
        columns.AddTo(cmd);
        ThreadsOption.AddTo(cmd);
        cmd.SetAction(r => MorIclCli.Guard(ctx, "run", () =>
        {
            string modelPath = r.GetValue(modelOpt)!, dataPath = r.GetValue(data)!;
            var model = ModelJson.Read(modelPath);
            var csv = RegressionCsv.ReadNamed(dataPath, columns.Read(r)).Data;
            if (csv.D != model.Spec.Dimension)
                throw new InputException($"{dataPath}: the prompt has d = {csv.D} features but the model {modelPath} takes d = {model.Spec.Dimension}");
            RegressionData examples; double[] q;
            if (r.GetValue(query) is { } qt)
            {
                q = OptionParsing.Numbers(qt, "--query");
                if (q.Length != csv.D) throw new SpecificationException($"--query has {q.Length} numbers, the model takes d = {csv.D}");
                examples = csv;
            }
            else
            {
                if (csv.N < 2) throw new InputException($"{dataPath}: needs at least two rows (examples, then the query) when --query is not given");
                q = csv.Row(csv.N - 1);
                int n = csv.N - 1;
                var cols = new double[n * csv.D];
                for (int a = 0; a < csv.D; a++) Array.Copy(csv.Columns, a * csv.N, cols, a * n, n);
                examples = new RegressionData(n, csv.D, cols, csv.Y.Take(n).ToArray());
            }
            using var outputs = new StagedOutputs();
            var tracePath = r.GetValue(traceOpt) is { } tp ? outputs.File(tp) : null;
            bool wantTrace = tracePath is not null;
            ForwardResult result = r.GetValue(precision) switch
            {
                "double" => new ModelExecutor<double>(model).Forward(examples, q, wantTrace),
                "float" => new ModelExecutor<float>(model).Forward(examples, q, wantTrace),
                var p => throw new SpecificationException($"--precision: '{p}' is not a precision; use double or float"),
            };
            ReferenceRun? reference = null;
            string? referenceError = null;
            try { reference = ReferenceRun.Of(model.Spec, examples, q); }
            catch (MorIclException e) { referenceError = e.Message; }
            double maxDiff = double.NaN;
            if (reference is not null)
            {
                maxDiff = Math.Abs(result.Prediction - reference.Prediction);
                for (int k = 0; k < reference.Beta.Length; k++)
                    for (int a = 0; a < reference.Beta[k].Length; a++) maxDiff = Math.Max(maxDiff, Math.Abs(result.Beta[k][a] - reference.Beta[k][a]));
                if (double.IsNaN(maxDiff)) maxDiff = double.PositiveInfinity;
            }
            if (tracePath is not null) WriteTrace(tracePath, model, result.Trace!, examples.N);
            outputs.Commit(ctx.Interrupt);

            var cert = result.Certificate;
            if (r.GetValue(json))
            {
                var o = new JsonObject
                {
                    ["prediction"] = Finite(result.Prediction),
                    ["beta"] = new JsonArray(result.Beta.Select(b => (JsonNode)new JsonArray(b.Select(v => (JsonNode?)Finite(v)).ToArray())).ToArray()),
                    ["referencePrediction"] = reference is null ? null : reference.Prediction,
                    ["referenceBeta"] = reference is null ? null : new JsonArray(reference.Beta.Select(b => (JsonNode)ParametersJson.Array(b)).ToArray()),
                    ["mixing"] = result.Mixing is null ? null : ParametersJson.Array(result.Mixing),
                    ["referenceMixing"] = reference is null || result.Mixing is null ? null : ParametersJson.Array(reference.Mixing),
                    ["referenceError"] = referenceError,
                    ["maxAbsDifference"] = Finite(maxDiff),
                    ["certificate"] = new JsonObject
                    {
                        ["inDomain"] = cert.InDomain,
                        ["minMargin"] = Finite(cert.MinMargin),
                        ["maxLeakage"] = Finite(cert.MaxLeakage),
                        ["positionsInRange"] = cert.PositionsInRange,
                        ["firstViolation"] = cert.FirstViolation,
                        ["declaredError"] = Finite(cert.DeclaredError),
                        ["minRangeSlack"] = Finite(cert.MinRangeSlack),
                        ["summary"] = cert.Summary(),
                    },
                };
                ctx.Out.WriteLine(o.ToJsonString());
            }
            else
            {
                var table = new Table().AddColumn("").AddColumn("transformer").AddColumn("reference gradient EM");
                string Ref(Func<ReferenceRun, string> f) => reference is null ? "unavailable" : Markup.Escape(f(reference));
                table.AddRow("prediction ŷ", OptionParsing.Format(result.Prediction), Ref(x => OptionParsing.Format(x.Prediction)));
                for (int k = 0; k < result.Beta.Length; k++)
                    table.AddRow($"β̂_{k + 1}", Markup.Escape(OptionParsing.Vector(result.Beta[k])), Ref(x => OptionParsing.Vector(x.Beta[k])));
                if (result.Mixing is { } pi) table.AddRow("π̂", Markup.Escape(OptionParsing.Vector(pi)), Ref(x => OptionParsing.Vector(x.Mixing)));
                ctx.Console.Write(table);
                ctx.Out.WriteLine(reference is null ? $"reference gradient EM failed: {referenceError}" : $"largest difference: {maxDiff:G3}");
                if (result.Mixing is not null)
                    ctx.Out.WriteLine("estimated π: the transformer takes log π̂ by a piecewise-linear interpolant (declared error per layer in the certificate); the reference takes the exact log, so the difference above is that approximation propagated through the run");
                ctx.Out.WriteLine($"certificate: {cert.Summary()}" + (cert.InDomain ? "" : " [OUT OF DOMAIN: the answer above is not certified]"));
            }
            return cert.InDomain ? ExitCodes.Ok : ExitCodes.OutOfDomain;
        }));
        return cmd;
    }

    /// <summary>JSON has no NaN or infinity: such values are written as null.</summary>
    private static JsonNode? Finite(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    private static void WriteTrace(string path, MorIcl.Construction.Model.TransformerModel model, double[][] trace, int n)
    {
        int D = model.Dimension, N = model.Embedding.TokenCount(n);
        var names = model.Layout.RowNames();
        var sb = new StringBuilder("layer,operator,token,role,").Append(string.Join(",", names)).Append('\n');
        for (int l = 0; l < trace.Length; l++)
        {
            string op = l == 0 ? "embedding" : model.Layers[l - 1].Provenance.Operator;
            for (int i = 0; i < N; i++)
            {
                sb.Append(l).Append(',').Append(op).Append(',').Append(i).Append(',')
                  .Append(MorIcl.Construction.Model.TokenRoles.Name(model.Embedding.RoleOf(i, n), model.Embedding.AuxiliaryNames));
                for (int c = 0; c < D; c++) sb.Append(',').Append(trace[l][i * D + c].ToString("R", CultureInfo.InvariantCulture));
                sb.Append('\n');
            }
        }
        AtomicFile.WriteAllText(path, sb.ToString());
    }
}
