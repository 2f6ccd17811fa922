using System;

namespace MorIcl.Construction.Model
{
    /// <summary>
    /// How a prompt becomes tokens (seed 000 eq. (3), extended): tokens 0 … n−1 are the examples
    /// h_i = [x_i; y_i; t = 1; 1; …], token n is the query [x_{n+1}; 0; t = 0; 1; …], tokens n+1 … n+A
    /// are the auxiliary tokens (component tokens; all their rows are 0 except the constant 1 and
    /// their own flag). Examples and the query carry their index p (p = i for example i, p = n for the
    /// query) as base-<see cref="PositionBase"/> digits p_d and their squares p_d², plus the flag
    /// "positioned" = 1; these integers make positional scores −R Σ_d (p_d − q_d)² exact in float
    /// and double. Every other row starts at 0.
    /// </summary>
    public sealed class Embedding
    {
        public int Dimension { get; }
        public int InputDimension { get; }
        public LayoutBlock X { get; }
        public LayoutBlock Y { get; }
        /// <summary>t = 1 on examples, 0 elsewhere.</summary>
        public LayoutBlock IsExample { get; }
        public LayoutBlock IsQuery { get; }
        public LayoutBlock One { get; }
        /// <summary>1 on examples and the query (the tokens that have a position), 0 on auxiliary tokens.</summary>
        public LayoutBlock Positioned { get; }
        /// <summary>Position digits p_d (least significant first), then their squares.</summary>
        public LayoutBlock PositionDigits { get; }
        public LayoutBlock PositionDigitSquares { get; }
        /// <summary>One flag per auxiliary token.</summary>
        public LayoutBlock AuxiliaryFlags { get; }
        public string[] AuxiliaryNames { get; }
        public int PositionBase { get; }

        public Embedding(int dimension, int inputDimension, LayoutBlock x, LayoutBlock y, LayoutBlock isExample, LayoutBlock isQuery,
            LayoutBlock one, LayoutBlock positioned, LayoutBlock digits, LayoutBlock digitSquares, LayoutBlock auxFlags, string[] auxNames, int positionBase)
        {
            Dimension = dimension; InputDimension = inputDimension; X = x; Y = y; IsExample = isExample; IsQuery = isQuery; One = one;
            Positioned = positioned; PositionDigits = digits; PositionDigitSquares = digitSquares; AuxiliaryFlags = auxFlags;
            AuxiliaryNames = auxNames; PositionBase = positionBase;
        }

        public int AuxiliaryCount => AuxiliaryNames.Length;
        public int Digits => PositionDigits.Width;

        /// <summary>Largest token index the positional scheme encodes: base^digits − 1 (the query's index is n).</summary>
        public long MaxPosition
        {
            get
            {
                long m = 1;
                for (int d = 0; d < Digits; d++) m *= PositionBase;
                return m - 1;
            }
        }

        /// <summary>
        /// Largest prompt length n (examples) whose query index n is still encoded: the scheme's capacity.
        /// The model's own limit is <see cref="TransformerModel.MaxPromptLength"/> (the specification's, exactly).
        /// </summary>
        public long MaxPromptLength => MaxPosition;

        /// <summary>Number of tokens N for n examples: n + 1 + A.</summary>
        public int TokenCount(int n) => n + 1 + AuxiliaryCount;

        /// <summary>Role of token <paramref name="index"/> for a prompt of n examples.</summary>
        public int RoleOf(int index, int n) => index < n ? TokenRoles.Example : index == n ? TokenRoles.Query : TokenRoles.Auxiliary(index - n - 1);

        /// <summary>
        /// Writes token <paramref name="index"/> at h[offset …] (<see cref="Dimension"/> numbers, zeroed by the caller). <paramref name="x"/> is the example's or query's input (ignored for auxiliary tokens).
        /// Positions beyond <see cref="MaxPosition"/> wrap around (the certificate reports them).
        /// </summary>
        public void WriteToken(double[] h, int offset, int index, int n, double[]? x, double y)
        {
            h[offset + One.Row] = 1;
            int role = RoleOf(index, n);
            if (role >= 2) { h[offset + AuxiliaryFlags[role - 2]] = 1; return; }
            for (int a = 0; a < InputDimension; a++) h[offset + X[a]] = x![a];
            if (role == TokenRoles.Example) { h[offset + Y.Row] = y; h[offset + IsExample.Row] = 1; }
            else h[offset + IsQuery.Row] = 1;
            h[offset + Positioned.Row] = 1;
            long p = index;
            for (int d = 0; d < Digits; d++)
            {
                long digit = p % PositionBase;
                p /= PositionBase;
                h[offset + PositionDigits[d]] = digit;
                h[offset + PositionDigitSquares[d]] = digit * digit;
            }
        }
    }
}
