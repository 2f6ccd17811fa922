using System;
using System.Collections.Generic;

namespace MorIcl.Construction.Model
{
    /// <summary>
    /// A weight matrix stored by its non-zero entries, sorted by row then column. Constructed
    /// transformers are very sparse (a head reads a few named coordinates and writes a few), so this
    /// is how they are built, serialised and emitted; a dense view is available for small cases.
    /// </summary>
    public sealed class SparseMatrix : IEquatable<SparseMatrix>
    {
        public int Rows { get; }
        public int Cols { get; }
        public int[] RowIndex { get; }
        public int[] ColIndex { get; }
        public double[] Values { get; }

        public SparseMatrix(int rows, int cols, int[] rowIndex, int[] colIndex, double[] values)
        {
            if (rowIndex.Length != colIndex.Length || rowIndex.Length != values.Length)
                throw new ArgumentException("sparse matrix index and value arrays differ in length");
            for (int e = 0; e < values.Length; e++)
            {
                if (rowIndex[e] < 0 || rowIndex[e] >= rows || colIndex[e] < 0 || colIndex[e] >= cols)
                    throw new ArgumentException($"entry ({rowIndex[e]}, {colIndex[e]}) outside a {rows}x{cols} matrix");
                if (e > 0 && (rowIndex[e] < rowIndex[e - 1] || (rowIndex[e] == rowIndex[e - 1] && colIndex[e] <= colIndex[e - 1])))
                    throw new ArgumentException("sparse matrix entries must be sorted by row then column, without duplicates");
            }
            Rows = rows; Cols = cols; RowIndex = rowIndex; ColIndex = colIndex; Values = values;
        }

        public int NonZeros => Values.Length;

        public double this[int r, int c]
        {
            get
            {
                for (int e = 0; e < Values.Length; e++)
                    if (RowIndex[e] == r && ColIndex[e] == c) return Values[e];
                return 0;
            }
        }

        public double[,] ToDense()
        {
            var m = new double[Rows, Cols];
            for (int e = 0; e < Values.Length; e++) m[RowIndex[e], ColIndex[e]] = Values[e];
            return m;
        }

        /// <summary>Rows that hold at least one non-zero, ascending.</summary>
        public int[] NonZeroRows()
        {
            var rows = new List<int>();
            for (int e = 0; e < Values.Length; e++)
                if (rows.Count == 0 || rows[rows.Count - 1] != RowIndex[e]) rows.Add(RowIndex[e]);
            return rows.ToArray();
        }

        /// <summary>Columns that hold at least one non-zero, ascending.</summary>
        public int[] NonZeroCols()
        {
            var seen = new SortedSet<int>(ColIndex);
            var r = new int[seen.Count];
            seen.CopyTo(r);
            return r;
        }

        public bool Equals(SparseMatrix? other)
        {
            if (other is null || other.Rows != Rows || other.Cols != Cols || other.NonZeros != NonZeros) return false;
            for (int e = 0; e < Values.Length; e++)
                if (RowIndex[e] != other.RowIndex[e] || ColIndex[e] != other.ColIndex[e] || BitConverter.DoubleToInt64Bits(Values[e]) != BitConverter.DoubleToInt64Bits(other.Values[e]))
                    return false;
            return true;
        }

        public override bool Equals(object? obj) => obj is SparseMatrix m && Equals(m);

        public override int GetHashCode()
        {
            unchecked
            {
                int h = Rows * 397 ^ Cols;
                for (int e = 0; e < Values.Length; e++) h = h * 31 + RowIndex[e] * 7 + ColIndex[e] + Values[e].GetHashCode();
                return h;
            }
        }

        /// <summary>Collects entries in any order; later writes to the same cell add up.</summary>
        public sealed class Builder
        {
            private readonly SortedDictionary<long, double> _entries = new SortedDictionary<long, double>();
            public int Rows { get; }
            public int Cols { get; }

            public Builder(int rows, int cols) { Rows = rows; Cols = cols; }

            public Builder Add(int row, int col, double value)
            {
                if (row < 0 || row >= Rows || col < 0 || col >= Cols) throw new ArgumentOutOfRangeException(nameof(row), $"({row}, {col}) outside {Rows}x{Cols}");
                long key = (long)row * Cols + col;
                _entries.TryGetValue(key, out var old);
                _entries[key] = old + value;
                return this;
            }

            public SparseMatrix Build()
            {
                var r = new List<int>(); var c = new List<int>(); var v = new List<double>();
                foreach (var kv in _entries)
                {
                    if (kv.Value == 0) continue;
                    r.Add((int)(kv.Key / Cols)); c.Add((int)(kv.Key % Cols)); v.Add(kv.Value);
                }
                return new SparseMatrix(Rows, Cols, r.ToArray(), c.ToArray(), v.ToArray());
            }
        }
    }
}
