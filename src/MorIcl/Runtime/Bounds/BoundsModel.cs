using System.Numerics;
using MorIcl.Construction.Model;

namespace MorIcl.Runtime.Bounds;

/// <summary>
/// A model's weights as the rounding analysis needs them: the exact weights w (the double values of the
/// model, which define "the same transformer in exact arithmetic"), and for precision T the rounding
/// of each weight to T, δ = |fl_T(w) − w| (0 in double; in float the executor runs fl_T(w)), by rows
/// with their non-zeros in column order.
/// </summary>
internal sealed class BoundsModel
{
    /// <summary>A sparse matrix by output rows: row r of the block is output <see cref="Output"/>[r].</summary>
    internal sealed class Rows
    {
        public required int[] Output;            // output index per row (head dimension, residual row, hidden unit)
        public required int[] Start;             // entries of row r: [Start[r], Start[r + 1])
        public required int[] Cols;
        public required double[] Values;         // exact weights
        public required double[] Deltas;         // |fl_T(w) − w|
        public required bool[] PowerOfTwo;       // w = ±2^k with |k| ≤ 60: w·x is exact in T (up to underflow)
        public required bool[] Integer;          // w is an integer and exact in T
        public int Count => Output.Length;
        public int MaxEntries => Enumerable.Range(0, Count).Select(r => Start[r + 1] - Start[r]).DefaultIfEmpty(0).Max();

        /// <summary>Rows <paramref name="outputs"/> of m (in that order; rows without non-zeros are kept, empty).</summary>
        public static Rows Of<T>(SparseMatrix m, int[] outputs) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var byRow = new List<int>[m.Rows];
            for (int e = 0; e < m.NonZeros; e++) (byRow[m.RowIndex[e]] ??= new List<int>()).Add(e);
            var start = new int[outputs.Length + 1];
            var cols = new List<int>(); var vals = new List<double>();
            for (int r = 0; r < outputs.Length; r++)
            {
                foreach (int e in byRow[outputs[r]] ?? new List<int>()) { cols.Add(m.ColIndex[e]); vals.Add(m.Values[e]); }
                start[r + 1] = cols.Count;
            }
            var v = vals.ToArray();
            return new Rows
            {
                Output = outputs, Start = start, Cols = cols.ToArray(), Values = v,
                Deltas = v.Select(Delta<T>).ToArray(), PowerOfTwo = v.Select(IsPowerOfTwo).ToArray(),
                Integer = v.Select(w => w == Math.Floor(w) && Delta<T>(w) == 0).ToArray(),
            };
        }
    }

    internal sealed class Head
    {
        public required Activation Activation;
        public required int Dk, PositionalDims;
        public required Rows Q, K, V;           // Q, K over head dimensions 0 … dk − 1; V over its non-zero rows
        public required Admit[] Admission;      // [queryRole · Roles + keyRole]
        public required bool AdmitsAll;
    }

    internal abstract class Layer
    {
        /// <summary>Residual rows the layer can write, ascending.</summary>
        public required int[] Written;
        /// <summary>Longest sum the layer's bound evaluation forms (for <see cref="Rounding.SelfInflation"/>), given N.</summary>
        public abstract int LongestSum(int tokens);
    }

    internal sealed class Attention : Layer
    {
        public required Head[] Heads;
        public override int LongestSum(int tokens) => 4 * tokens + 4 * Heads.Max(h => h.Dk + h.V.Count + h.Q.MaxEntries + h.K.MaxEntries + h.V.MaxEntries) + 4 * Heads.Length;
    }

    internal sealed class Mlp : Layer
    {
        public required Rows W1;                // hidden units 0 … H − 1 over residual rows
        public required double[] B1, B1Delta;
        public required Rows W2;                // non-zero output rows over hidden units
        public required int[] BiasRows;         // rows with b2 ≠ 0
        /// <summary>Per hidden unit: it and the next are one linear map in exact arithmetic (<see cref="LinearPairs"/>).</summary>
        public required bool[] PairLeader;
        public required double[] Bias, BiasDelta;
        public override int LongestSum(int tokens) => 4 * (W1.MaxEntries + W2.MaxEntries + 4);
    }

    public Layer[] Layers { get; }
    public int Roles { get; }

    private BoundsModel(Layer[] layers, int roles) { Layers = layers; Roles = roles; }

    public static BoundsModel Create<T>(TransformerModel model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int roles = TokenRoles.Count(model.Embedding.AuxiliaryCount);
        return new BoundsModel(model.Layers.Select(l => Compile<T>(l)).ToArray(), roles);
    }

    private static Layer Compile<T>(Construction.Model.Layer layer) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (layer)
        {
            case AttentionLayer a:
            {
                var heads = a.Heads.Select(h =>
                {
                    var dims = Enumerable.Range(0, h.HeadDimension).ToArray();
                    return new Head
                    {
                        Activation = h.Activation, Dk = h.HeadDimension, PositionalDims = h.PositionalDims,
                        Q = Rows.Of<T>(h.Query, dims), K = Rows.Of<T>(h.Key, dims), V = Rows.Of<T>(h.Value, h.Value.NonZeroRows()),
                        Admission = h.Admission.Table, AdmitsAll = h.Admission.AdmitsAll,
                    };
                }).ToArray();
                return new Attention { Heads = heads, Written = heads.SelectMany(h => h.V.Output).Distinct().OrderBy(r => r).ToArray() };
            }
            case MlpLayer m:
            {
                var outRows = m.W2.NonZeroRows();
                var biasRows = Enumerable.Range(0, m.B2.Length).Where(r => m.B2[r] != 0).ToArray();
                var w1 = Rows.Of<T>(m.W1, Enumerable.Range(0, m.Hidden).ToArray());
                var w2 = Rows.Of<T>(m.W2, outRows);
                return new Mlp
                {
                    W1 = w1, B1 = m.B1, B1Delta = m.B1.Select(Delta<T>).ToArray(), PairLeader = LinearPairs.Leaders(w1, m.B1, w2),
                    W2 = w2, BiasRows = biasRows, Bias = biasRows.Select(r => m.B2[r]).ToArray(),
                    BiasDelta = biasRows.Select(r => Delta<T>(m.B2[r])).ToArray(),
                    Written = outRows.Concat(biasRows).Distinct().OrderBy(r => r).ToArray(),
                };
            }
            default: throw new InvalidOperationException($"unknown layer type {layer.GetType().Name}");
        }
    }

    /// <summary>|fl_T(w) − w|, exactly (a float is exact in double).</summary>
    public static double Delta<T>(double w) where T : unmanaged, IFloatingPointIeee754<T> =>
        Math.Abs(double.CreateChecked(T.CreateChecked(w)) - w);

    private static bool IsPowerOfTwo(double w)
    {
        if (w == 0 || !double.IsFinite(w)) return false;
        int e = Math.ILogB(w);
        return Math.Abs(e) <= 60 && Math.Abs(w) == Math.ScaleB(1.0, e);
    }
}
