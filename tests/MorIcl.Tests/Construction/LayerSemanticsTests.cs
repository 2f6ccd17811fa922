using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Runtime;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Construction;

/// <summary>
/// Every layer alone against the operation its provenance claims (tracr style): the state before the
/// layer is taken from a real forward pass, the named rows after it are recomputed from the operator's
/// definition (SPEC §2–3) with plain arithmetic, and compared.
/// </summary>
public class LayerSemanticsTests
{
    [Theory]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(13)]
    [InlineData(21)]
    public void EachLayerDoesWhatItsOperatorSays(int seed)
    {
        var c = ConstructedEqualsGradientEmTests.Draw(seed) with { N = 30, S = 2, T = 2 };
        var (spec, prompt) = ConstructedEqualsGradientEmTests.Build(c);
        var model = Compiler.Compile(spec);
        var trace = new ModelExecutor<double>(model).Forward(prompt.Examples, prompt.Query, trace: true).Trace!;
        int n = prompt.N, N = model.Embedding.TokenCount(n), D = model.Dimension, K = spec.Components, d = spec.Dimension;
        var L = model.Layout;
        double Row(double[] h, int token, int row) => h[token * D + row];
        int checkedLayers = 0;
        for (int l = 0; l < model.Layers.Count; l++)
        {
            var before = trace[l]; var after = trace[l + 1];
            var p = model.Layers[l].Provenance;
            void Expect(int token, int row, double want, string what)
            {
                double got = Row(after, token, row);
                Assert.True(Math.Abs(got - want) <= 1e-11 * Math.Max(1, Math.Abs(want)), $"layer {l} ({p.Operator}: {p.Description}), token {token}, {what} [{L.RowName(row)}]: got {got}, want {want}");
            }
            switch (p.Operator)
            {
                case "copy_over":
                    for (int i = 0; i < N; i++) Expect(i, L["N"].Row, N, "N = n + 1 + A");
                    break;
                case "product" when p.EmIteration == 0:
                    for (int i = 0; i < N; i++)
                    {
                        for (int a = 0; a < d; a++) Expect(i, L["Nx"][a], N * Row(before, i, L["x"][a]), "N·x");
                        Expect(i, L["Ny"].Row, N * Row(before, i, L["y"].Row), "N·y");
                    }
                    break;
                case "product" when p.Statement.Contains("scalar product"):
                    for (int i = 0; i < N; i++)
                        for (int k = 0; k < (spec.Symmetric ? 1 : K); k++)
                        {
                            var beta = spec.Symmetric ? L["beta"] : L[$"beta{k}"];
                            double u = Enumerable.Range(0, d).Sum(a => Row(before, i, L["x"][a]) * Row(before, i, beta[a]));
                            Expect(i, L["u"][k], u, "u = ⟨x, β_k⟩");
                        }
                    break;
                case "product":
                    for (int i = 0; i <= n; i++)
                        for (int k = 0; k < (spec.Symmetric ? 1 : K); k++)
                        {
                            double u = Row(before, i, L["u"][k]), y = Row(before, i, L["y"].Row);
                            Expect(i, L["uy"][k], u * y, "u·y");
                            if (!spec.Symmetric) Expect(i, L["uu"][k], u * u, "u²");
                        }
                    break;
                case "affine" when p.Statement.Contains("logits"):
                    for (int i = 0; i <= n; i++)
                        for (int k = 0; k < K; k++)
                        {
                            double uu = Row(before, i, L["uu"][k]), uy = Row(before, i, L["uy"][k]);
                            Expect(i, L["logit"][k], Math.Log(spec.Mixing[k]) + (uy - uu / 2) / (spec.Sigma * spec.Sigma), "ℓ_ik");
                            Expect(i, L["u"][k], 0, "reset"); Expect(i, L["gamma"][k], 0, "reset");
                        }
                    break;
                case "affine" when p.EmIteration == 0:
                    for (int i = 0; i < N; i++)
                        for (int k = 0; k < (spec.Symmetric ? 1 : K); k++)
                        {
                            var beta = spec.Symmetric ? L["beta"] : L[$"beta{k}"];
                            for (int a = 0; a < d; a++) Expect(i, beta[a], spec.InitialBeta[k][a], "β⁽⁰⁾");
                        }
                    break;
                case "affine" when p.Statement.Contains("eq. (15)"):
                    for (int i = 0; i <= n; i++)
                    {
                        double pi = spec.Mixing[0];
                        Expect(i, L["a"].Row, Row(before, i, L["uy"].Row) / (spec.Sigma * spec.Sigma) + 0.5 * Math.Log(pi / (1 - pi)), "a = y u/σ² + ½ log(π/(1 − π))");
                        Expect(i, L["w_plus_1"].Row, 0, "reset");
                    }
                    break;
                case "affine" when p.Description.Contains("reset the gradient"):
                    for (int i = 0; i < N; i++)
                        for (int k = 0; k < (spec.Symmetric ? 1 : K); k++)
                            for (int a = 0; a < d; a++) Expect(i, (spec.Symmetric ? L["sx"] : L[$"sx{k}"])[a], 0, "reset");
                    break;
                case "softmax" when !spec.Symmetric:
                    for (int i = 0; i < n; i++)
                    {
                        var logits = Enumerable.Range(0, K).Select(k => Row(before, i, L["logit"][k])).ToArray();
                        double max = logits.Max(), sum = logits.Sum(v => Math.Exp(v - max));
                        for (int k = 0; k < K; k++)
                        {
                            double g = Math.Exp(logits[k] - max) / sum;
                            Expect(i, L["gamma"][k], g, "γ = softmax_k(ℓ)");
                            Expect(i, L["gy"][k], g * Row(before, i, L["y"].Row), "γ·y");
                            for (int a = 0; a < d; a++) Expect(i, L[$"gx{k}"][a], g * Row(before, i, L["x"][a]), "γ·x");
                        }
                    }
                    break;
                case "softmax":
                    for (int i = 0; i < n; i++)
                    {
                        double w = Math.Tanh(Row(before, i, L["a"].Row)), y = Row(before, i, L["y"].Row);
                        Expect(i, L["w_plus_1"].Row, w + 1, "w + 1 = 1 + tanh(a)");
                        Expect(i, L["wy_plus_y"].Row, w * y + y, "(w + 1)·y");
                    }
                    break;
                case "gd_step" when p.Decode == DecodeKind.None:
                    for (int i = 0; i <= n; i++)
                        for (int k = 0; k < (spec.Symmetric ? 1 : K); k++)
                        {
                            var sx = spec.Symmetric ? L["sx"] : L[$"sx{k}"];
                            var beta = spec.Symmetric ? L["beta"] : L[$"beta{k}"];
                            double g = spec.Symmetric
                                ? Enumerable.Range(0, d).Sum(a => Row(before, i, beta[a]) * Row(before, i, L["x"][a])) - (Row(before, i, L["wy_plus_y"].Row) - Row(before, i, L["y"].Row))
                                : Enumerable.Range(0, d).Sum(a => Row(before, i, beta[a]) * Row(before, i, L[$"gx{k}"][a])) - Row(before, i, L["gy"][k]);
                            for (int a = 0; a < d; a++) Expect(i, sx[a], g * Row(before, i, L["x"][a]), "∂ℓ·x");
                        }
                    break;
                case "gd_step":
                    for (int k = 0; k < (spec.Symmetric ? 1 : K); k++)
                    {
                        var sx = spec.Symmetric ? L["sx"] : L[$"sx{k}"];
                        var beta = spec.Symmetric ? L["beta"] : L[$"beta{k}"];
                        for (int a = 0; a < d; a++)
                        {
                            double mean = Enumerable.Range(0, n).Sum(j => Row(before, j, sx[a])) / n;
                            for (int i = 0; i < N; i++) Expect(i, beta[a], Row(before, i, beta[a]) - spec.StepSize * mean, "b − α·mean_j(∂ℓ_j x_j)");
                        }
                    }
                    break;
                case "read-out":
                    double want = 0;
                    for (int k = 0; k < (spec.Symmetric ? 1 : K); k++)
                    {
                        var beta = spec.Symmetric ? L["beta"] : L[$"beta{k}"];
                        double weight = spec.Symmetric ? 2 * spec.Mixing[0] - 1 : spec.Mixing[k];
                        want += weight * Enumerable.Range(0, d).Sum(a => Row(before, n, L["x"][a]) * Row(before, n, beta[a]));
                    }
                    Expect(n, model.ReadOut.Prediction, want, "ŷ");
                    break;
                default:
                    throw new Xunit.Sdk.XunitException($"layer {l}: no semantics check for operator {p.Operator} ({p.Statement})");
            }
            checkedLayers++;
        }
        Assert.Equal(model.Layers.Count, checkedLayers);
    }
}
