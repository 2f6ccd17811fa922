using System.Numerics;
using MorIcl.Construction.Model;
using MorIcl.Mixture;

namespace MorIcl.Runtime;

/// <summary>
/// A prompt's embedding (docs/math.md §3; <see cref="Embedding.WriteToken"/>) written straight into the executor's
/// feature-major stream H (D × ld), row by row instead of token by token: the constant one on every token, the
/// role flags, x and y copied from the prompt's columns, the position digits p_d and their squares on the examples
/// and the query (token index p, digits taken as WriteToken takes them, so positions past the scheme wrap the same
/// way), every other number +0, padding +0. The same numbers as staging the tokens of <see cref="PromptTokens.Embed(TransformerModel, RegressionData, double[], PromptTokens.TokenAction)"/>
/// (FeatureMajorEmbeddingTests compares them bit for bit); only for an embedding whose rows are all distinct
/// (<see cref="TryCreate"/>), where the order of WriteToken's writes does not matter.
/// </summary>
internal sealed class FeatureMajorEmbedding
{
    private readonly Embedding _e;

    private FeatureMajorEmbedding(Embedding e) => _e = e;

    /// <summary>The direct writer for the model's embedding, or null when two of its blocks share a row.</summary>
    public static FeatureMajorEmbedding? TryCreate(TransformerModel model)
    {
        var e = model.Embedding;
        var blocks = new[] { e.X, e.Y, e.IsExample, e.IsQuery, e.One, e.Positioned, e.PositionDigits, e.PositionDigitSquares, e.AuxiliaryFlags };
        var rows = blocks.SelectMany(b => Enumerable.Range(0, b.Width).Select(o => b[o])).ToArray();
        bool single = e.Y.Width == 1 && e.IsExample.Width == 1 && e.IsQuery.Width == 1 && e.One.Width == 1 && e.Positioned.Width == 1;
        bool fits = e.X.Width == e.InputDimension && e.PositionDigitSquares.Width == e.Digits && e.AuxiliaryFlags.Width == e.AuxiliaryCount;
        return single && fits && rows.Distinct().Count() == rows.Length && rows.All(c => c >= 0 && c < e.Dimension) ? new FeatureMajorEmbedding(e) : null;
    }

    /// <summary>
    /// H ← the embedding of the prompt (converted to T), padding +0; <paramref name="finite"/>[c] whether row c is
    /// finite on every token. Returns the number of rows that are not.
    /// </summary>
    public int Load<T>(RegressionData examples, double[] query, T[] h, int ld, bool[] finite) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var e = _e;
        PromptTokens.CheckShape(e, examples, query);
        int n = examples.N, N = e.TokenCount(n), D = e.Dimension;
        h.AsSpan(0, D * ld).Clear();
        Array.Fill(finite, true, 0, D);
        Span<T> Row(int c) => h.AsSpan(c * ld, ld);
        Row(e.One.Row)[..N].Fill(T.One);
        for (int r = 0; r < e.AuxiliaryCount; r++) Row(e.AuxiliaryFlags[r])[n + 1 + r] = T.One;
        Row(e.IsExample.Row)[..n].Fill(T.One);
        Row(e.IsQuery.Row)[n] = T.One;
        Row(e.Positioned.Row)[..(n + 1)].Fill(T.One);
        for (int a = 0; a < e.InputDimension; a++)
        {
            var row = Row(e.X[a]);
            Convert(examples.Column(a), row);
            row[n] = T.CreateChecked(query[a]);
            finite[e.X[a]] = Kernels.RowKernels<T>.AllFinite(row[..(n + 1)]);
        }
        var y = Row(e.Y.Row);
        Convert(examples.Y.AsSpan(0, n), y);
        finite[e.Y.Row] = Kernels.RowKernels<T>.AllFinite(y[..n]);
        // Token p (an example, or the query at p = n): its index in base B, least significant digit first, and the squares.
        for (int p = 0; p <= n; p++)
        {
            long rest = p;
            for (int d = 0; d < e.Digits; d++)
            {
                long digit = rest % e.PositionBase;
                rest /= e.PositionBase;
                h[e.PositionDigits[d] * ld + p] = T.CreateChecked((double)digit);
                h[e.PositionDigitSquares[d] * ld + p] = T.CreateChecked((double)(digit * digit));
            }
        }
        int bad = 0;
        for (int c = 0; c < D; c++) if (!finite[c]) bad++;
        return bad;
    }

    private static void Convert<T>(ReadOnlySpan<double> from, Span<T> to) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double)) { from.CopyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(to)); return; }
        for (int i = 0; i < from.Length; i++) to[i] = T.CreateChecked(from[i]);
    }
}
