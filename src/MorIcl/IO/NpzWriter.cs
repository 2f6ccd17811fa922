using System.Globalization;
using System.IO.Compression;
using System.Text;
using MorIcl.Construction.Model;

namespace MorIcl.IO;

/// <summary>
/// Writes a model as a NumPy <c>.npz</c> archive (a zip of <c>.npy</c> files, format 1.0, deflated) so a
/// Python user can run the same weights: every matrix dense and named like <c>layer07.head0.Q</c>
/// (dk × D), <c>.K</c>, <c>.V</c> (D × D), <c>layer03.mlp.W1</c> …, plus the layout
/// (<c>layout.names</c>, <c>layout.start</c>, <c>layout.width</c>) and per-layer metadata.
/// </summary>
public static class NpzWriter
{
    public static void Write(string path, TransformerModel model)
    {
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            int D = model.Dimension;
            Strings(zip, "layout.names", model.Layout.Blocks.Select(b => b.Name).ToArray());
            Ints(zip, "layout.start", model.Layout.Blocks.Select(b => (long)b.Start).ToArray());
            Ints(zip, "layout.width", model.Layout.Blocks.Select(b => (long)b.Width).ToArray());
            Strings(zip, "layout.rows", model.Layout.RowNames());
            Ints(zip, "embedding.position_base", new long[] { model.Embedding.PositionBase });
            Strings(zip, "embedding.auxiliary_tokens", model.Embedding.AuxiliaryNames.Length == 0 ? new[] { "" } : model.Embedding.AuxiliaryNames);
            Ints(zip, "readout.prediction_row", new long[] { model.ReadOut.Prediction });
            Strings(zip, "readout.beta_blocks", model.ReadOut.Beta.Select(b => b.Name).ToArray());
            Ints(zip, "layers.count", new long[] { model.Layers.Count });
            for (int l = 0; l < model.Layers.Count; l++)
            {
                string p = $"layer{l:D2}";
                var layer = model.Layers[l];
                Strings(zip, $"{p}.kind", new[] { layer is AttentionLayer ? "attention" : "mlp" });
                Strings(zip, $"{p}.operator", new[] { layer.Provenance.Operator });
                if (layer is AttentionLayer a)
                {
                    for (int h = 0; h < a.Heads.Length; h++)
                    {
                        var head = a.Heads[h];
                        string hp = $"{p}.head{h}";
                        Matrix(zip, $"{hp}.Q", head.Query);
                        Matrix(zip, $"{hp}.K", head.Key);
                        Matrix(zip, $"{hp}.V", head.Value);
                        Strings(zip, $"{hp}.activation", new[] { ActivationNames.Key(head.Activation) });
                        Ints(zip, $"{hp}.positional_dims", new long[] { head.PositionalDims });
                    }
                }
                else if (layer is MlpLayer m)
                {
                    Matrix(zip, $"{p}.mlp.W1", m.W1);
                    Doubles(zip, $"{p}.mlp.b1", m.B1, new[] { m.B1.Length });
                    Matrix(zip, $"{p}.mlp.W2", m.W2);
                    Doubles(zip, $"{p}.mlp.b2", m.B2, new[] { D });
                }
            }
        });
    }

    private static void Matrix(ZipArchive zip, string name, SparseMatrix m)
    {
        var dense = new double[(long)m.Rows * m.Cols];
        for (int e = 0; e < m.NonZeros; e++) dense[(long)m.RowIndex[e] * m.Cols + m.ColIndex[e]] = m.Values[e];
        Doubles(zip, name, dense, new[] { m.Rows, m.Cols });
    }

    private static void Doubles(ZipArchive zip, string name, double[] data, int[] shape)
    {
        using var s = Entry(zip, name, "<f8", shape);
        var buffer = new byte[8 * Math.Min(data.Length, 8192)];
        for (int start = 0; start < data.Length; start += 8192)
        {
            int count = Math.Min(8192, data.Length - start);
            for (int i = 0; i < count; i++) BitConverter.TryWriteBytes(buffer.AsSpan(8 * i), data[start + i]);
            s.Write(buffer, 0, 8 * count);
        }
    }

    private static void Ints(ZipArchive zip, string name, long[] data)
    {
        using var s = Entry(zip, name, "<i8", new[] { data.Length });
        foreach (var v in data) s.Write(BitConverter.GetBytes(v));
    }

    /// <summary>Fixed-width unicode (<c>&lt;U n</c>, UTF-32LE), which <c>np.load</c> reads without pickle.</summary>
    private static void Strings(ZipArchive zip, string name, string[] data)
    {
        int width = Math.Max(1, data.Max(x => x.Length));
        using var s = Entry(zip, name, $"<U{width}", new[] { data.Length });
        foreach (var v in data)
        {
            var bytes = new byte[4 * width];
            Encoding.UTF32.GetBytes(v, 0, v.Length, bytes, 0);
            s.Write(bytes);
        }
    }

    private static Stream Entry(ZipArchive zip, string name, string descr, int[] shape)
    {
        var s = zip.CreateEntry(name + ".npy", CompressionLevel.Optimal).Open();
        string shapeText = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape.Select(v => v.ToString(CultureInfo.InvariantCulture))) + ")";
        string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shapeText}, }}";
        int total = 10 + header.Length + 1;
        int pad = (64 - total % 64) % 64;
        header = header + new string(' ', pad) + "\n";
        s.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 });
        s.Write(BitConverter.GetBytes((ushort)header.Length));
        s.Write(Encoding.ASCII.GetBytes(header));
        return s;
    }
}
