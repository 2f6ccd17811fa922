using System.Security.Cryptography;
using System.Text;
using MorIcl.Construction.Model;

namespace MorIcl.IO;

/// <summary>
/// The SHA-256 a model file carries of its weights (<c>"weightsSha256"</c>, lowercase hex). What is
/// hashed is a canonical serialisation of everything the forward pass computes with — not the JSON
/// text (so formatting does not matter) and not the specification, provenance or descriptions (so an
/// edited spec is caught by the specification match instead, <see cref="Runtime.SpecificationMatch"/>):
/// <code>
/// "moricl-weights-v1" (UTF-8), then, little-endian, int32 and IEEE-754 binary64:
///   D; position base; auxiliary token count, each name (int32 byte length + UTF-8);
///   layout: block count, each (name, start, width);
///   read-out: prediction row; β blocks (count, each start and width); responsibility rows (−1 or count, rows);
///             symmetric weight row; mixing block (start and width, or −1 −1);
///   layers: count, each
///     attention: byte 0, head count, each: byte activation (0 ReLU, 1 softmax, 2 linear),
///                positional dimensions, roles, the admission table (one byte each), Q, K, V;
///     MLP: byte 1, W1, b1, W2, b2, input-range count and each (row, lo, hi), declared error;
///   matrix: rows, cols, non-zeros, each entry (row, col, value), in stored order (row, then column);
///   vector: length, values.
/// </code>
/// Two models with the same digest compute the same function bit for bit.
/// </summary>
public static class WeightsDigest
{
    public static string Of(TransformerModel m)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Encoding.UTF8.GetBytes("moricl-weights-v1"));
            w.Write(m.Dimension);
            w.Write(m.Embedding.PositionBase);
            w.Write(m.Embedding.AuxiliaryNames.Length);
            foreach (var a in m.Embedding.AuxiliaryNames) Text(w, a);
            w.Write(m.Layout.Blocks.Count);
            foreach (var b in m.Layout.Blocks) { Text(w, b.Name); w.Write(b.Start); w.Write(b.Width); }
            var r = m.ReadOut;
            w.Write(r.Prediction);
            w.Write(r.Beta.Length);
            foreach (var b in r.Beta) { w.Write(b.Start); w.Write(b.Width); }
            if (r.Responsibilities is null) w.Write(-1);
            else { w.Write(r.Responsibilities.Length); foreach (int row in r.Responsibilities) w.Write(row); }
            w.Write(r.SymmetricWeightPlusOne);
            w.Write(r.Mixing?.Start ?? -1); w.Write(r.Mixing?.Width ?? -1);
            w.Write(m.Layers.Count);
            foreach (var layer in m.Layers)
            {
                if (layer is AttentionLayer a)
                {
                    w.Write((byte)0);
                    w.Write(a.Heads.Length);
                    foreach (var h in a.Heads)
                    {
                        w.Write((byte)h.Activation);
                        w.Write(h.PositionalDims);
                        w.Write(h.Admission.Roles);
                        foreach (var t in h.Admission.Table) w.Write((byte)t);
                        Matrix(w, h.Query); Matrix(w, h.Key); Matrix(w, h.Value);
                    }
                }
                else if (layer is MlpLayer mlp)
                {
                    w.Write((byte)1);
                    Matrix(w, mlp.W1); Vector(w, mlp.B1); Matrix(w, mlp.W2); Vector(w, mlp.B2);
                    w.Write(mlp.InputRanges.Length);
                    foreach (var ir in mlp.InputRanges) { w.Write(ir.Row); w.Write(ir.Lo); w.Write(ir.Hi); }
                    w.Write(mlp.DeclaredError);
                }
                else throw new InvalidOperationException($"unknown layer type {layer.GetType().Name}");
            }
        }
        return Convert.ToHexString(SHA256.HashData(stream.ToArray())).ToLowerInvariant();
    }

    private static void Text(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write(bytes.Length);
        w.Write(bytes);
    }

    private static void Matrix(BinaryWriter w, SparseMatrix m)
    {
        w.Write(m.Rows); w.Write(m.Cols); w.Write(m.NonZeros);
        for (int e = 0; e < m.NonZeros; e++) { w.Write(m.RowIndex[e]); w.Write(m.ColIndex[e]); w.Write(m.Values[e]); }
    }

    private static void Vector(BinaryWriter w, double[] v)
    {
        w.Write(v.Length);
        foreach (double x in v) w.Write(x);
    }
}
