using System.Security.Cryptography;
using System.Text;

namespace MorIcl.Training;

/// <summary>
/// Everything needed to continue a run exactly: the model's descriptor, the number of completed steps,
/// the parameters, Adam's moments and step count, and the loss of every completed step. Batches are
/// drawn from (seed, step), so no random-generator state needs saving: a resumed run draws the same
/// batches as an uninterrupted one.
/// Binary format (little-endian): magic "MORICLCK", int32 version, UTF-8 descriptor JSON (int32 length
/// + bytes), int64 step, int32 P, P doubles (parameters), P doubles (first moment), P doubles (second
/// moment), int64 optimiser step, int32 H, H doubles (losses), then SHA-256 of all preceding bytes.
/// A file that is truncated, altered or from another configuration is rejected with a message.
/// </summary>
public sealed record Checkpoint(string Descriptor, long Step, double[] Parameters, double[] FirstMoment, double[] SecondMoment, long OptimiserStep, double[] Losses)
{
    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("MORICLCK");
    private const int Version = 1;

    public byte[] Serialise()
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Version);
            var desc = Encoding.UTF8.GetBytes(Descriptor);
            w.Write(desc.Length); w.Write(desc);
            w.Write(Step);
            w.Write(Parameters.Length);
            foreach (var a in new[] { Parameters, FirstMoment, SecondMoment }) foreach (var v in a) w.Write(v);
            w.Write(OptimiserStep);
            w.Write(Losses.Length);
            foreach (var v in Losses) w.Write(v);
        }
        var body = ms.ToArray();
        return body.Concat(SHA256.HashData(body)).ToArray();
    }

    public static Checkpoint Read(string path)
    {
        if (!File.Exists(path)) throw new InputException($"{path}: checkpoint not found");
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < Magic.Length + 32 || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new InputException($"{path}: not a MorIcl checkpoint (bad header or truncated)");
        var body = bytes.AsSpan(0, bytes.Length - 32);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - 32)))
            throw new InputException($"{path}: checkpoint is corrupted or truncated (checksum mismatch)");
        try
        {
            using var r = new BinaryReader(new MemoryStream(body.ToArray()), Encoding.UTF8);
            r.ReadBytes(Magic.Length);
            int version = r.ReadInt32();
            if (version != Version) throw new InputException($"{path}: checkpoint version {version} is not supported (expected {Version})");
            string desc = Encoding.UTF8.GetString(r.ReadBytes(r.ReadInt32()));
            long step = r.ReadInt64();
            int p = r.ReadInt32();
            if (p < 0 || (long)p * 24 > body.Length) throw new InputException($"{path}: checkpoint is corrupted (parameter count {p})");
            double[] Read(int count) { var a = new double[count]; for (int i = 0; i < count; i++) a[i] = r.ReadDouble(); return a; }
            var theta = Read(p); var m = Read(p); var v = Read(p);
            long optStep = r.ReadInt64();
            int h = r.ReadInt32();
            if (h < 0 || (long)h * 8 > body.Length) throw new InputException($"{path}: checkpoint is corrupted (history length {h})");
            var losses = Read(h);
            return new Checkpoint(desc, step, theta, m, v, optStep, losses);
        }
        catch (EndOfStreamException)
        {
            throw new InputException($"{path}: checkpoint is truncated");
        }
    }
}
