using MorIcl.Construction.Model;

namespace MorIcl.Runtime.Structured;

/// <summary>What a residual row holds in the input embedding (docs/math.md §7), as the plan compiler sees it.</summary>
public enum EmbeddingRowKind
{
    /// <summary>Depends on the prompt's numbers (x, y), or is not a row the embedding defines by role.</summary>
    Content,
    /// <summary>The same value on every token of a role (the constant 1, the role flags, rows that start at 0).</summary>
    RoleConstant,
    /// <summary>Position digit p_d of the token (examples and the query; 0 on auxiliary tokens).</summary>
    Digit,
    /// <summary>p_d² of the token (examples and the query; 0 on auxiliary tokens).</summary>
    DigitSquare,
}

/// <summary>
/// The embedding's rows classified by evaluating <see cref="Embedding.WriteToken"/> on representative tokens
/// of every role with two different prompts (other positions, x = 0 then 1, y = 0 then 1): a row that takes
/// the same value both times is role-constant; digit and digit-square rows are the positional blocks.
/// Rows the embedding leaves at 0 are role-constant 0.
/// </summary>
public sealed class EmbeddingRows
{
    public EmbeddingRowKind[] Kind { get; }
    /// <summary>For Digit and DigitSquare rows, the digit index d; -1 otherwise.</summary>
    public int[] DigitOf { get; }
    /// <summary>For RoleConstant rows, the value on each role ([row][role]); null otherwise.</summary>
    public double[]?[] RoleValue { get; }
    /// <summary>Per role: whether its tokens carry a position (examples and the query).</summary>
    public bool[] Positioned { get; }
    /// <summary>Largest |value| a row takes on any token when it is not Content (digits B − 1, squares (B − 1)²).</summary>
    public double[] MaxAbs { get; }
    public int Roles { get; }
    public int Digits { get; }
    public int PositionBase { get; }

    private EmbeddingRows(EmbeddingRowKind[] kind, int[] digitOf, double[]?[] roleValue, bool[] positioned, double[] maxAbs, int digits, int positionBase)
    {
        Kind = kind; DigitOf = digitOf; RoleValue = roleValue; Positioned = positioned; MaxAbs = maxAbs;
        Roles = positioned.Length; Digits = digits; PositionBase = positionBase;
    }

    public static EmbeddingRows Of(Embedding e)
    {
        int D = e.Dimension, roles = TokenRoles.Count(e.AuxiliaryCount), B = e.PositionBase;
        var kind = new EmbeddingRowKind[D];
        var digitOf = Enumerable.Repeat(-1, D).ToArray();
        var value = new double[]?[D];
        var maxAbs = new double[D];
        // Two prompts: n = 1 (tokens 0, 1, 2 + a) with x = 0, y = 0; n = 5 (tokens 3, 5, 6 + a) with x = 1, y = 1.
        var first = Tokens(e, 1, 0, 0.0);
        var second = Tokens(e, 5, 3, 1.0);
        for (int c = 0; c < D; c++)
        {
            bool content = c == e.Y.Row || (c >= e.X.Start && c < e.X.Start + e.X.Width);
            int digit = Index(e.PositionDigits, c), square = Index(e.PositionDigitSquares, c);
            if (digit >= 0) { kind[c] = EmbeddingRowKind.Digit; digitOf[c] = digit; maxAbs[c] = B - 1; continue; }
            if (square >= 0) { kind[c] = EmbeddingRowKind.DigitSquare; digitOf[c] = square; maxAbs[c] = (double)(B - 1) * (B - 1); continue; }
            var v = new double[roles];
            bool constant = !content;
            for (int r = 0; r < roles && constant; r++)
            {
                v[r] = first[r][c];
                constant = first[r][c].Equals(second[r][c]);
            }
            if (!constant) { kind[c] = EmbeddingRowKind.Content; continue; }
            kind[c] = EmbeddingRowKind.RoleConstant;
            value[c] = v;
            maxAbs[c] = v.Max(Math.Abs);
        }
        // Positions: the digit rows of the representatives (tokens 3 and 5 have digit 0 ≠ 0); auxiliary tokens hold 0.
        var positioned = new bool[roles];
        for (int r = 0; r < roles; r++)
            positioned[r] = Enumerable.Range(0, e.Digits).Any(d => second[r][e.PositionDigits[d]] != 0);
        return new EmbeddingRows(kind, digitOf, value, positioned, maxAbs, e.Digits, B);
    }

    /// <summary>Whether the digit rows of every unpositioned role hold 0 and those of positioned roles the position's digits.</summary>
    public bool PositionsAsDocumented(Embedding e)
    {
        var t = Tokens(e, 5, 3, 1.0);
        for (int r = 0; r < Roles; r++)
        {
            long p = r == TokenRoles.Example ? 3 : r == TokenRoles.Query ? 5 : 0;
            for (int d = 0; d < Digits; d++)
            {
                long digit = Positioned[r] ? p % PositionBase : 0;
                if (t[r][e.PositionDigits[d]] != digit || t[r][e.PositionDigitSquares[d]] != digit * digit) return false;
                p /= PositionBase;
            }
        }
        return true;
    }

    private static int Index(LayoutBlock b, int row) => row >= b.Start && row < b.Start + b.Width ? row - b.Start : -1;

    /// <summary>One token per role for a prompt of n examples: example <paramref name="example"/>, the query n, the auxiliary tokens.</summary>
    private static double[][] Tokens(Embedding e, int n, int example, double fill)
    {
        int roles = TokenRoles.Count(e.AuxiliaryCount);
        var x = Enumerable.Repeat(fill, e.InputDimension).ToArray();
        var r = new double[roles][];
        for (int role = 0; role < roles; role++)
        {
            int index = role == TokenRoles.Example ? example : role == TokenRoles.Query ? n : n + 1 + role - 2;
            r[role] = new double[e.Dimension];
            e.WriteToken(r[role], 0, index, n, role <= TokenRoles.Query ? x : null, fill);
        }
        return r;
    }
}
