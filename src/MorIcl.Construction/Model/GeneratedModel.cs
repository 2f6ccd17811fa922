using System;

namespace MorIcl.Construction.Model
{
    /// <summary>
    /// Helpers the source generator's emitted code calls to turn its literal weight tables back into
    /// model objects (so the generated file holds data, not construction logic).
    /// </summary>
    public static class GeneratedModel
    {
        /// <summary>A sparse matrix from its non-empty rows: (row, [(column, value), …]).</summary>
        public static SparseMatrix Matrix(int rows, int cols, (int Row, (int Column, double Value)[] Entries)[] nonEmptyRows)
        {
            var b = new SparseMatrix.Builder(rows, cols);
            foreach (var (row, entries) in nonEmptyRows)
                foreach (var (col, value) in entries) b.Add(row, col, value);
            return b.Build();
        }

        public static Admission Admission(int roles, byte[] table)
        {
            var t = new Admit[table.Length];
            for (int i = 0; i < t.Length; i++) t[i] = (Admit)table[i];
            return new Admission(roles, t);
        }

        public static Embedding Embedding(ResidualLayout layout, int inputDimension, string[] auxiliaryNames, int positionBase) =>
            new Embedding(layout.Dimension, inputDimension, layout["x"], layout["y"], layout["t"], layout["is_query"], layout["one"], layout["positioned"],
                layout["pos"], layout["pos_sq"], layout["aux"], auxiliaryNames, positionBase);
    }
}
