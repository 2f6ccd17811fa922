using System.Numerics;
using System.Runtime.InteropServices;
using MorIcl.Construction.Model;

namespace MorIcl.Runtime;

/// <summary>
/// The residual rows a prompt's embedding can make non-zero (docs/math.md §3: the constant one, the role flags, x, y,
/// the position digits and their squares; the other rows of the D start at +0 on every token), for
/// <see cref="FeatureMajorLoad{T}"/>'s sparse load. Found by writing one token of each role over NaN (a written
/// coordinate is no longer NaN); <see cref="OthersZero"/> checks each loaded token against it.
/// </summary>
internal sealed class LiveRows
{
    public int Dimension { get; }

    /// <summary>The rows, ascending.</summary>
    public int[] Rows { get; }

    /// <summary>All bits set on the rows outside <see cref="Rows"/>, none on them.</summary>
    private readonly ulong[] _others;

    private LiveRows(int dimension, int[] rows)
    {
        Dimension = dimension; Rows = rows;
        _others = Enumerable.Repeat(ulong.MaxValue, dimension).ToArray();
        foreach (int c in rows) _others[c] = 0;
    }

    /// <summary>The rows the model's embedding writes on a token of any role (a prompt of one example: every role has a token).</summary>
    public static LiveRows Of(TransformerModel model)
    {
        var e = model.Embedding;
        int n = 1, D = e.Dimension;
        var written = new bool[D];
        var token = new double[D];
        var x = Enumerable.Repeat(1.0, e.InputDimension).ToArray();
        for (int i = 0; i < e.TokenCount(n); i++)
        {
            Array.Fill(token, double.NaN);
            e.WriteToken(token, 0, i, n, x, 1);
            for (int c = 0; c < D; c++) written[c] |= !double.IsNaN(token[c]);
        }
        return new LiveRows(D, Enumerable.Range(0, D).Where(c => written[c]).ToArray());
    }

    /// <summary>Whether the token is +0 (all bits clear) on every row outside <see cref="Rows"/>.</summary>
    public bool OthersZero(ReadOnlySpan<double> token)
    {
        var bits = MemoryMarshal.Cast<double, ulong>(token);
        if (bits.Length != Dimension) return false;
        ReadOnlySpan<ulong> others = _others;
        var acc = Vector<ulong>.Zero;
        int i = 0;
        for (; i <= bits.Length - Vector<ulong>.Count; i += Vector<ulong>.Count)
            acc |= new Vector<ulong>(bits[i..]) & new Vector<ulong>(others[i..]);
        ulong rest = 0;
        for (; i < bits.Length; i++) rest |= bits[i] & others[i];
        return acc == Vector<ulong>.Zero && rest == 0;
    }
}
