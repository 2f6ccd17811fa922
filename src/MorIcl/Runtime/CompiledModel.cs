using System.Numerics;
using MorIcl.Construction.Model;

namespace MorIcl.Runtime;

/// <summary>
/// A model's weights in the compact form the fast executor runs: each head keeps only the residual
/// rows its Q, K, V read and the rows V writes, as small dense blocks in precision T.
/// </summary>
internal sealed class CompiledModel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    internal sealed class Head
    {
        public required Activation Activation;
        public required int Dk;
        public required int[] QCols, KCols, VCols, OutRows;
        public required T[] Q, K, V;          // Dk×|QCols|, Dk×|KCols|, |OutRows|×|VCols|, row-major
        public required Admit[] Admission;    // [queryRole * Roles + keyRole]
        public required bool AdmitsAll;
    }

    internal abstract class Layer { }
    internal sealed class Attention : Layer { public required Head[] Heads; }
    internal sealed class Mlp : Layer
    {
        public required int[] InCols, OutRows;
        public required T[] W1, B1, W2;      // H×|InCols|, H, |OutRows|×H
        public required int[] BiasRows;
        public required T[] Bias;
        public required int Hidden;
    }

    public TransformerModel Source { get; }
    public Layer[] Layers { get; }
    public int Roles { get; }
    public int MaxDk { get; }
    public int MaxDv { get; }
    public int MaxHidden { get; }

    public CompiledModel(TransformerModel model)
    {
        Source = model;
        Roles = TokenRoles.Count(model.Embedding.AuxiliaryCount);
        Layers = model.Layers.Select(Compile).ToArray();
        var heads = Layers.OfType<Attention>().SelectMany(a => a.Heads).ToArray();
        MaxDk = heads.Length == 0 ? 1 : Math.Max(1, heads.Max(h => h.Dk));
        MaxDv = heads.Length == 0 ? 1 : Math.Max(1, heads.Max(h => h.OutRows.Length));
        MaxHidden = Layers.OfType<Mlp>().Select(m => m.Hidden).DefaultIfEmpty(1).Max();
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
                return new Mlp
                {
                    InCols = inCols, OutRows = outRows, Hidden = mlp.Hidden,
                    W1 = Dense(mlp.W1, Enumerable.Range(0, mlp.Hidden).ToArray(), inCols),
                    B1 = mlp.B1.Select(T.CreateChecked).ToArray(),
                    W2 = Dense(mlp.W2, outRows, Enumerable.Range(0, mlp.Hidden).ToArray()),
                    BiasRows = biasRows, Bias = biasRows.Select(r => T.CreateChecked(mlp.B2[r])).ToArray(),
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
        return new Head
        {
            Activation = h.Activation, Dk = h.HeadDimension,
            QCols = qCols, KCols = kCols, VCols = vCols, OutRows = outRows,
            Q = Dense(h.Query, dims, qCols), K = Dense(h.Key, dims, kCols), V = Dense(h.Value, outRows, vCols),
            Admission = h.Admission.Table, AdmitsAll = h.Admission.AdmitsAll,
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
