using System.Numerics;
using MorIcl.Construction.Model;

namespace MorIcl.Runtime;

/// <summary>
/// A model's weights in the compact form the fast executor runs: each head keeps only the residual
/// rows its Q, K, V read and the rows V writes, as small dense blocks in precision T, and the same
/// weights as sparse rows (non-zeros only, in column order) that the feature-major kernels use.
/// </summary>
internal sealed class CompiledModel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// A matrix by rows, non-zeros only: row r holds (Cols[e], Values[e]) for e in [Start[r], Start[r+1]),
    /// columns ascending (the order the dense compact form sums them in). Cols index the full input
    /// (residual row, or hidden unit for an MLP's second matrix).
    /// </summary>
    internal sealed class SparseRows
    {
        public required int[] Start;
        public required int[] Cols;
        public required T[] Values;
        public int Rows => Start.Length - 1;

        /// <summary>From a dense compact block rows × cols.Length whose column c stands for input cols[c].</summary>
        public static SparseRows FromDense(T[] dense, int rows, int[] cols)
        {
            var start = new int[rows + 1];
            var c = new List<int>(); var v = new List<T>();
            for (int r = 0; r < rows; r++)
            {
                for (int k = 0; k < cols.Length; k++)
                {
                    T w = dense[r * cols.Length + k];
                    if (w != T.Zero) { c.Add(cols[k]); v.Add(w); }
                }
                start[r + 1] = c.Count;
            }
            return new SparseRows { Start = start, Cols = c.ToArray(), Values = v.ToArray() };
        }
    }

    internal sealed class Head
    {
        public required Activation Activation;
        public required int Dk;
        public required int[] QCols, KCols, VCols, OutRows;
        public required T[] Q, K, V;          // Dk×|QCols|, Dk×|KCols|, |OutRows|×|VCols|, row-major
        public required Admit[] Admission;    // [queryRole * Roles + keyRole]
        public required bool AdmitsAll;
        public required SparseRows QRows, KRows, VRows;   // Q, K, V by rows over residual rows
        /// <summary>Index of this head's admission table among the model's distinct tables.</summary>
        public int AdmissionId;
        private Structured.RowSources<T>? _querySources;
        /// <summary>Where the rows of Q·h come from (<see cref="Structured.RowSources{T}"/>), formed at first use.</summary>
        public Structured.RowSources<T> QuerySources => _querySources ??= new Structured.RowSources<T>(QRows);
    }

    internal abstract class Layer
    {
        /// <summary>Residual rows the layer can change (value outputs; MLP outputs and constant rows), ascending.</summary>
        public int[] WrittenRows = Array.Empty<int>();
    }
    internal sealed class Attention : Layer { public required Head[] Heads; }
    internal sealed class Mlp : Layer
    {
        public required int[] InCols, OutRows;
        public required T[] W1, B1, W2;      // H×|InCols|, H, |OutRows|×H
        public required int[] BiasRows;
        public required T[] Bias;
        public required int Hidden;
        public required SparseRows W1Rows;   // hidden units over residual rows
        public required SparseRows W2Rows;   // |OutRows| rows over hidden units
    }

    public TransformerModel Source { get; }
    public Layer[] Layers { get; }
    public int Roles { get; }
    public int MaxDk { get; }
    public int MaxDv { get; }
    public int MaxHidden { get; }
    /// <summary>Number of distinct admission tables (heads share them; see <see cref="Head.AdmissionId"/>).</summary>
    public int Admissions { get; }

    public CompiledModel(TransformerModel model)
    {
        Source = model;
        Roles = TokenRoles.Count(model.Embedding.AuxiliaryCount);
        Layers = model.Layers.Select(Compile).ToArray();
        foreach (var layer in Layers)
            layer.WrittenRows = (layer switch
            {
                Attention a => a.Heads.SelectMany(h => h.OutRows),
                Mlp m => m.OutRows.Concat(m.BiasRows),
                _ => Enumerable.Empty<int>(),
            }).Distinct().OrderBy(r => r).ToArray();
        var heads = Layers.OfType<Attention>().SelectMany(a => a.Heads).ToArray();
        MaxDk = heads.Length == 0 ? 1 : Math.Max(1, heads.Max(h => h.Dk));
        MaxDv = heads.Length == 0 ? 1 : Math.Max(1, heads.Max(h => h.OutRows.Length));
        MaxHidden = Layers.OfType<Mlp>().Select(m => m.Hidden).DefaultIfEmpty(1).Max();
        var ids = new Dictionary<string, int>();
        foreach (var h in heads)
        {
            string key = string.Join(",", h.Admission.Select(a => (int)a));
            if (!ids.TryGetValue(key, out int id)) ids[key] = id = ids.Count;
            h.AdmissionId = id;
        }
        Admissions = ids.Count;
    }

    private Layer Compile(Construction.Model.Layer layer)
    {
        switch (layer)
        {
            case AttentionLayer att:
                return new Attention { Heads = att.Heads.Select(CompileHead).ToArray() };
            case MlpLayer mlp:
            {
                var inCols = mlp.W1.NonZeroCols();
                var outRows = mlp.W2.NonZeroRows();
                var biasRows = Enumerable.Range(0, mlp.B2.Length).Where(r => mlp.B2[r] != 0).ToArray();
                var units = Enumerable.Range(0, mlp.Hidden).ToArray();
                var w1 = Dense(mlp.W1, units, inCols);
                var w2 = Dense(mlp.W2, outRows, units);
                return new Mlp
                {
                    InCols = inCols, OutRows = outRows, Hidden = mlp.Hidden,
                    W1 = w1, B1 = mlp.B1.Select(T.CreateChecked).ToArray(), W2 = w2,
                    BiasRows = biasRows, Bias = biasRows.Select(r => T.CreateChecked(mlp.B2[r])).ToArray(),
                    W1Rows = SparseRows.FromDense(w1, mlp.Hidden, inCols),
                    W2Rows = SparseRows.FromDense(w2, outRows.Length, units),
                };
            }
            default: throw new InvalidOperationException($"unknown layer type {layer.GetType().Name}");
        }
    }

    private Head CompileHead(AttentionHead h)
    {
        var dims = Enumerable.Range(0, h.HeadDimension).ToArray();
        var qCols = h.Query.NonZeroCols(); var kCols = h.Key.NonZeroCols();
        var vCols = h.Value.NonZeroCols(); var outRows = h.Value.NonZeroRows();
        T[] q = Dense(h.Query, dims, qCols), k = Dense(h.Key, dims, kCols), v = Dense(h.Value, outRows, vCols);
        return new Head
        {
            Activation = h.Activation, Dk = h.HeadDimension,
            QCols = qCols, KCols = kCols, VCols = vCols, OutRows = outRows,
            Q = q, K = k, V = v,
            Admission = h.Admission.Table, AdmitsAll = h.Admission.AdmitsAll,
            QRows = SparseRows.FromDense(q, dims.Length, qCols), KRows = SparseRows.FromDense(k, dims.Length, kCols),
            VRows = SparseRows.FromDense(v, outRows.Length, vCols),
        };
    }

    private static T[] Dense(SparseMatrix m, int[] rows, int[] cols)
    {
        var r = new T[rows.Length * cols.Length];
        var rowPos = new Dictionary<int, int>(); for (int i = 0; i < rows.Length; i++) rowPos[rows[i]] = i;
        var colPos = new Dictionary<int, int>(); for (int i = 0; i < cols.Length; i++) colPos[cols[i]] = i;
        for (int e = 0; e < m.NonZeros; e++)
            r[rowPos[m.RowIndex[e]] * cols.Length + colPos[m.ColIndex[e]]] = T.CreateChecked(m.Values[e]);
        return r;
    }
}
