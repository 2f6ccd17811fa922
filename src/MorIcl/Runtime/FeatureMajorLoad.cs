using System.Numerics;

namespace MorIcl.Runtime;

/// <summary>
/// Loads a prompt's tokens, given one by one and in order (token-major), into the executor's feature-major stream H (D × ld):
/// <see cref="Block"/> tokens are staged token-major and then written row by row, so every write to H is a
/// run of consecutive tokens instead of one cache line per number. Every value is written (zeros included),
/// so H needs no clearing first; the padding columns [N, ld) are set to +0. The bits are those of writing
/// each number on its own.
/// </summary>
internal static class FeatureMajorLoad<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Tokens staged at once (Block × D numbers stay in cache).</summary>
    public const int Block = 64;

    /// <summary>
    /// H ← the tokens (converted to T), padding +0; <paramref name="finite"/>[c] whether row c is finite on every
    /// token. Returns the number of rows that are not. <paramref name="stage"/> holds Block × D numbers.
    /// </summary>
    public static int Load(T[] h, int ld, int dimension, int tokenCount, Action<PromptTokens.TokenAction> tokens, bool[] finite, T[] stage)
    {
        int D = dimension;
        Array.Fill(finite, true, 0, D);
        int staged = 0, first = 0;
        tokens((i, token) =>
        {
            // The staging writes runs of consecutive tokens: the caller must give tokens 0, 1, …, N − 1 in order.
            if (i != first + staged) throw new InvalidOperationException($"token {i} given where token {first + staged} was expected (tokens must come in order)");
            var row = stage.AsSpan(staged * D, D);
            for (int c = 0; c < D; c++)
            {
                T v = T.CreateChecked(token[c]);
                row[c] = v;
                if (!T.IsFinite(v)) finite[c] = false;
            }
            if (++staged == Block) { Write(h, ld, D, stage, first, staged); first = i + 1; staged = 0; }
        });
        if (staged > 0) Write(h, ld, D, stage, first, staged);
        for (int c = 0; c < D; c++) h.AsSpan(c * ld + tokenCount, ld - tokenCount).Clear();
        int bad = 0;
        for (int c = 0; c < D; c++) if (!finite[c]) bad++;
        return bad;
    }

    /// <summary>H[c, first + t] ← stage[t, c] for the <paramref name="count"/> staged tokens.</summary>
    private static void Write(T[] h, int ld, int D, T[] stage, int first, int count)
    {
        for (int c = 0; c < D; c++)
        {
            var dst = h.AsSpan(c * ld + first, count);
            for (int t = 0; t < count; t++) dst[t] = stage[t * D + c];
        }
    }
}
