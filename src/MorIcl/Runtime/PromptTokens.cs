using MorIcl.Construction.Model;
using MorIcl.Mixture;

namespace MorIcl.Runtime;

/// <summary>The input embedding of a prompt (docs/math.md §3, seed 000 eq. (3)): N × D, token-major.</summary>
public static class PromptTokens
{
    public static double[] Embed(TransformerModel model, RegressionData examples, double[] query)
    {
        var e = model.Embedding;
        int N = e.TokenCount(examples.N), D = e.Dimension;
        var h = new double[(long)N * D];
        Embed(model, examples, query, (i, token) => token.CopyTo(h.AsSpan(i * D, D)));
        return h;
    }

    /// <summary>Each token's embedding in turn (D numbers, valid during the call), without the N × D array.</summary>
    public static void Embed(TransformerModel model, RegressionData examples, double[] query, TokenAction write)
    {
        var e = model.Embedding;
        CheckShape(e, examples, query);
        int n = examples.N, N = e.TokenCount(n), D = e.Dimension;
        var token = new double[D];
        var x = new double[examples.D];
        for (int i = 0; i < N; i++)
        {
            int role = e.RoleOf(i, n);
            double y = 0;
            double[]? xi = null;
            if (role == TokenRoles.Example)
            {
                for (int a = 0; a < examples.D; a++) x[a] = examples.X(i, a);
                xi = x; y = examples.Y[i];
            }
            else if (role == TokenRoles.Query) xi = query;
            Array.Clear(token);
            e.WriteToken(token, 0, i, n, xi, y);
            write(i, token);
        }
    }

    /// <summary>The prompt's inputs have the model's d (else a <see cref="SpecificationException"/> naming the mismatch).</summary>
    internal static void CheckShape(Embedding e, RegressionData examples, double[] query)
    {
        if (examples.D != e.InputDimension) throw new SpecificationException($"the model takes d = {e.InputDimension} inputs, the prompt has d = {examples.D}");
        if (query.Length != e.InputDimension) throw new SpecificationException($"the query has {query.Length} numbers, the model takes d = {e.InputDimension}");
    }

    /// <summary>Receives token i's embedding.</summary>
    public delegate void TokenAction(int i, ReadOnlySpan<double> token);

    /// <summary>β̂ per component from the query token of a residual stream (symmetric: β̂ and −β̂).</summary>
    public static double[][] ReadBeta(TransformerModel model, double[] h, int n)
    {
        int D = model.Dimension, q = n * D;
        var blocks = model.ReadOut.Beta;
        var beta = blocks.Select(b => Enumerable.Range(0, b.Width).Select(a => h[q + b[a]]).ToArray()).ToArray();
        if (model.Spec.Symmetric) beta = new[] { beta[0], beta[0].Select(v => -v).ToArray() };
        return beta;
    }

    /// <summary>π̂ per component from the query token, or null when the model uses a known π.</summary>
    public static double[]? ReadMixing(TransformerModel model, double[] h, int n)
    {
        if (model.ReadOut.Mixing is not { } rows) return null;
        int q = n * model.Dimension;
        return Enumerable.Range(0, rows.Width).Select(k => h[q + rows[k]]).ToArray();
    }
}
