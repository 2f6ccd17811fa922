using MorIcl.Construction.Model;

namespace MorIcl.Verification;

/// <summary>
/// Every layer of a constructed gradient-EM model against the operation its provenance names
/// (Prop. E.2's operators, Prop. E.1's gd_step), recomputed with plain arithmetic from the state
/// before the layer (tracr style). Used by the Proposition E.1/E.2 checks and by tests.
/// </summary>
public static class LayerSemantics
{
    /// <summary>One layer's largest error, relative to max(1, |expected|), and what was compared.</summary>
    public sealed record LayerError(int Layer, string Operator, double Error, string Checked);

    public static List<LayerError> Check(TransformerModel model, double[][] trace, int n)
    {
        var spec = model.Spec;
        int N = model.Embedding.TokenCount(n), D = model.Dimension, K = spec.Components, d = spec.Dimension;
        int kb = spec.Symmetric ? 1 : K;
        var L = model.Layout;
        LayoutBlock Beta(int k) => spec.Symmetric ? L["beta"] : L[$"beta{k}"];
        LayoutBlock Sx(int k) => spec.Symmetric ? L["sx"] : L[$"sx{k}"];
        var result = new List<LayerError>();
        for (int l = 0; l < model.Layers.Count; l++)
        {
            var before = trace[l]; var after = trace[l + 1];
            var p = model.Layers[l].Provenance;
            double worst = 0;
            double Row(double[] h, int token, int row) => h[token * D + row];
            void Expect(int token, int row, double want)
            {
                double got = Row(after, token, row);
                double err = Math.Abs(got - want) / Math.Max(1, Math.Abs(want));
                worst = Math.Max(worst, double.IsNaN(err) ? double.PositiveInfinity : err);
            }
            string what;
            switch (p.Operator)
            {
                case "affine" when p.EmIteration == 0 && p.Statement.Contains("π⁽⁰⁾"):
                    what = "log π ← log π⁽⁰⁾";
                    for (int i = 0; i < N; i++) for (int k = 0; k < K; k++) Expect(i, L["log_pi"][k], Math.Log(spec.Mixing[k]));
                    break;
                case "affine" when p.EmIteration == 0:
                    what = "β ← β⁽⁰⁾";
                    for (int i = 0; i < N; i++) for (int k = 0; k < kb; k++) for (int a = 0; a < d; a++) Expect(i, Beta(k)[a], spec.InitialBeta[k][a]);
                    break;
                case "copy_over":
                    what = "N = n + 1 + A in every token";
                    for (int i = 0; i < N; i++) Expect(i, L["N"].Row, N);
                    break;
                case "product" when p.EmIteration == 0 && p.Statement.Contains("oracle"):
                    what = "u_ik = ⟨x_i, β_k⟩ for the prediction";
                    for (int i = 0; i < N; i++)
                        for (int k = 0; k < kb; k++)
                            Expect(i, L["u"][k], Row(before, i, L["u"][k]) + Enumerable.Range(0, d).Sum(a => Row(before, i, L["x"][a]) * Row(before, i, Beta(k)[a])));
                    break;
                case "product" when p.EmIteration == 0:
                    what = "N·x, N·y";
                    for (int i = 0; i < N; i++)
                    {
                        for (int a = 0; a < d; a++) Expect(i, L["Nx"][a], N * Row(before, i, L["x"][a]));
                        Expect(i, L["Ny"].Row, N * Row(before, i, L["y"].Row));
                    }
                    break;
                case "product" when p.Statement.Contains("scalar product"):
                    what = "u_ik = ⟨x_i, β_k⟩";
                    for (int i = 0; i < N; i++)
                        for (int k = 0; k < kb; k++)
                            Expect(i, L["u"][k], Enumerable.Range(0, d).Sum(a => Row(before, i, L["x"][a]) * Row(before, i, Beta(k)[a])));
                    break;
                case "product":
                    what = spec.Symmetric ? "u_i·y_i" : "u_ik², u_ik·y_i";
                    for (int i = 0; i <= n; i++)
                        for (int k = 0; k < kb; k++)
                        {
                            double u = Row(before, i, L["u"][k]), y = Row(before, i, L["y"].Row);
                            Expect(i, L["uy"][k], u * y);
                            if (!spec.Symmetric) Expect(i, L["uu"][k], u * u);
                        }
                    break;
                case "affine" when p.Statement.Contains("logits"):
                    what = "ℓ_ik = log π_k + (y u − u²/2)/σ²";
                    for (int i = 0; i <= n; i++)
                        for (int k = 0; k < K; k++)
                            Expect(i, L["logit"][k], (spec.EstimateMixing ? Row(before, i, L["log_pi"][k]) : Math.Log(spec.Mixing[k]))
                                + (Row(before, i, L["uy"][k]) - Row(before, i, L["uu"][k]) / 2) / (spec.Sigma * spec.Sigma));
                    break;
                case "mixing":
                    what = "π̂_k = (1/n) Σ_i γ_ik in every token";
                    for (int k = 0; k < K; k++)
                    {
                        double mean = Enumerable.Range(0, n).Sum(j => Row(before, j, L["gamma"][k])) / n;
                        for (int i = 0; i < N; i++) Expect(i, L["pi"][k], mean);
                    }
                    break;
                case "log":
                    what = "log π̂ by its declared piecewise-linear interpolant L";
                    var approx = new MorIcl.Construction.Operators.LogApproximation(spec.MixingFloor, MorIcl.Construction.ConstructionSpec.LogTargetError);
                    for (int i = 0; i < N; i++) for (int k = 0; k < K; k++) Expect(i, L["log_pi"][k], approx.Evaluate(Row(before, i, L["pi"][k])));
                    break;
                case "affine" when p.Statement.Contains("eq. (15)"):
                    what = "a_i = y_i u_i/σ² + ½ log(π/(1 − π))";
                    for (int i = 0; i <= n; i++)
                        Expect(i, L["a"].Row, Row(before, i, L["uy"].Row) / (spec.Sigma * spec.Sigma) + 0.5 * Math.Log(spec.Mixing[0] / (1 - spec.Mixing[0])));
                    break;
                case "affine" when p.Description.Contains("reset the gradient"):
                    what = "scratch reset";
                    for (int i = 0; i < N; i++) for (int k = 0; k < kb; k++) for (int a = 0; a < d; a++) Expect(i, Sx(k)[a], 0);
                    break;
                case "copy_down":
                    what = "γ x = x, γ y = y (K = 1)";
                    for (int i = 0; i < n; i++) { Expect(i, L["gy"][0], Row(before, i, L["y"].Row)); for (int a = 0; a < d; a++) Expect(i, L["gx0"][a], Row(before, i, L["x"][a])); }
                    break;
                case "softmax" when !spec.Symmetric:
                    what = "γ_ik = softmax_k(ℓ_ik) and γ·x, γ·y (eq. (15)–(16))";
                    for (int i = 0; i < n; i++)
                    {
                        var logits = Enumerable.Range(0, K).Select(k => Row(before, i, L["logit"][k])).ToArray();
                        double max = logits.Max(), sum = logits.Sum(v => Math.Exp(v - max));
                        for (int k = 0; k < K; k++)
                        {
                            double g = Math.Exp(logits[k] - max) / sum;
                            Expect(i, L["gamma"][k], g);
                            Expect(i, L["gy"][k], g * Row(before, i, L["y"].Row));
                            for (int a = 0; a < d; a++) Expect(i, L[$"gx{k}"][a], g * Row(before, i, L["x"][a]));
                        }
                    }
                    break;
                case "softmax":
                    what = "w_i = tanh(a_i) (eq. (16))";
                    for (int i = 0; i < n; i++)
                    {
                        double w = Math.Tanh(Row(before, i, L["a"].Row)), y = Row(before, i, L["y"].Row);
                        Expect(i, L["w_plus_1"].Row, w + 1);
                        Expect(i, L["wy_plus_y"].Row, w * y + y);
                    }
                    break;
                case "gd_step" when p.Decode == DecodeKind.None:
                    what = "∂ℓ(⟨b, x_i⟩, z_i)·x_i per token";
                    for (int i = 0; i <= n; i++)
                        for (int k = 0; k < kb; k++)
                        {
                            double g = spec.Symmetric
                                ? Enumerable.Range(0, d).Sum(a => Row(before, i, Beta(k)[a]) * Row(before, i, L["x"][a])) - (Row(before, i, L["wy_plus_y"].Row) - Row(before, i, L["y"].Row))
                                : Enumerable.Range(0, d).Sum(a => Row(before, i, Beta(k)[a]) * Row(before, i, L[$"gx{k}"][a])) - Row(before, i, L["gy"][k]);
                            for (int a = 0; a < d; a++) Expect(i, Sx(k)[a], g * Row(before, i, L["x"][a]));
                        }
                    break;
                case "gd_step":
                    what = "b ← b − α (1/n) Σ_j ∂ℓ_j x_j";
                    for (int k = 0; k < kb; k++)
                        for (int a = 0; a < d; a++)
                        {
                            double mean = Enumerable.Range(0, n).Sum(j => Row(before, j, Sx(k)[a])) / n;
                            for (int i = 0; i < N; i++) Expect(i, Beta(k)[a], Row(before, i, Beta(k)[a]) - spec.StepSize * mean);
                        }
                    break;
                case "read-out" when spec.EstimateMixing:
                    what = "ŷ = Σ_k π̂_k u_k";
                    Expect(n, model.ReadOut.Prediction, Enumerable.Range(0, K).Sum(k => Row(before, n, L["pi"][k]) * Row(before, n, L["u"][k])));
                    break;
                case "read-out":
                    what = "ŷ = ⟨x_{n+1}, Σ_k c_k β_k⟩";
                    double want = 0;
                    for (int k = 0; k < kb; k++)
                    {
                        double weight = spec.Symmetric ? 2 * spec.Mixing[0] - 1 : spec.Mixing[k];
                        want += weight * Enumerable.Range(0, d).Sum(a => Row(before, n, L["x"][a]) * Row(before, n, Beta(k)[a]));
                    }
                    Expect(n, model.ReadOut.Prediction, want);
                    break;
                default:
                    what = "no semantics known for this operator";
                    worst = double.PositiveInfinity;
                    break;
            }
            result.Add(new LayerError(l, p.Operator, worst, what));
        }
        return result;
    }
}
