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

    /// <summary>
    /// As <see cref="Load(T[], int, int, int, Action{PromptTokens.TokenAction}, bool[], T[])"/> when only the rows
    /// <paramref name="live"/> (ascending) can be non-zero on any token, as for a prompt's embedding
    /// (<see cref="LiveRows.Of"/>): the other rows are cleared in bulk and only the live ones staged and
    /// written. Each token is checked to hold +0 in every other row (the bits a full load would write there), so a
    /// wrong live set is an error, never a lost number. The same H, flags and count as the full load.
    /// </summary>
    public static int Load(T[] h, int ld, int dimension, int tokenCount, Action<PromptTokens.TokenAction> tokens, bool[] finite, T[] stage, LiveRows live)
    {
        int D = dimension, m = live.Rows.Length;
        if (live.Dimension != D) throw new ArgumentException($"live rows of a {live.Dimension}-dimensional stream for one of {D}");
        Array.Fill(finite, true, 0, D);
        for (int c = 0, j = 0; c < D; c++)
        {
            if (j < m && live.Rows[j] == c) { j++; continue; }
            h.AsSpan(c * ld, ld).Clear();       // +0 on every token and the padding, finite
        }
        int staged = 0, first = 0, block = stage.Length / Math.Max(1, m);
        tokens((i, token) =>
        {
            if (i != first + staged) throw new InvalidOperationException($"token {i} given where token {first + staged} was expected (tokens must come in order)");
            if (!live.OthersZero(token)) throw new InvalidOperationException($"token {i} is not +0 outside the rows its embedding can write");
            var row = stage.AsSpan(staged * m, m);
            for (int j = 0; j < m; j++)
            {
                int c = live.Rows[j];
                T v = T.CreateChecked(token[c]);
                row[j] = v;
                if (!T.IsFinite(v)) finite[c] = false;
            }
            if (++staged == block) { Write(h, ld, live.Rows, stage, first, staged); first = i + 1; staged = 0; }
        });
        if (staged > 0) Write(h, ld, live.Rows, stage, first, staged);
        foreach (int c in live.Rows) h.AsSpan(c * ld + tokenCount, ld - tokenCount).Clear();
        int bad = 0;
        for (int c = 0; c < D; c++) if (!finite[c]) bad++;
        return bad;
    }

    /// <summary>H[rows[j], first + t] ← stage[t, j] for the <paramref name="count"/> staged tokens.</summary>
    private static void Write(T[] h, int ld, int[] rows, T[] stage, int first, int count)
    {
        int m = rows.Length;
        for (int j = 0; j < m; j++)
        {
            var dst = h.AsSpan(rows[j] * ld + first, count);
            for (int t = 0; t < count; t++) dst[t] = stage[t * m + j];
        }
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
