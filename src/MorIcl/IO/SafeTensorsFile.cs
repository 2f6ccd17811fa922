using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MorIcl.IO;

/// <summary>One named tensor of a safetensors file: its element type (F64, F32 or I64), shape and values (widened to double; I64 values are integers).</summary>
public sealed record SafeTensor(string Name, string DType, long[] Shape, double[] Data)
{
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// The safetensors format: an unsigned little-endian 64-bit header length N, N bytes of UTF-8 JSON
/// (an object mapping each tensor's name to <c>{"dtype", "shape", "data_offsets": [begin, end]}</c>,
/// plus <c>"__metadata__"</c>, a string-to-string map), then the tensors' bytes, little-endian and
/// row-major, the offsets counted from the end of the header. Written with the header padded by
/// spaces to a multiple of 8 bytes and the tensors contiguous in the given order. Reading checks
/// everything a damaged or foreign file can get wrong and names it.
/// </summary>
public static class SafeTensorsFile
{
    private const long MaxHeader = 100_000_000;

    public static byte[] Serialise(IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var header = new JsonObject { ["__metadata__"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))) };
        long offset = 0;
        foreach (var t in tensors)
        {
            if (t.Data.Length != t.Count) throw new ArgumentException($"tensor {t.Name}: {t.Data.Length} values for shape [{string.Join(", ", t.Shape)}]");
            long end = offset + t.Count * Size(t.DType, t.Name);
            header[t.Name] = new JsonObject
            {
                ["dtype"] = t.DType,
                ["shape"] = new JsonArray(t.Shape.Select(s => (JsonNode)s).ToArray()),
                ["data_offsets"] = new JsonArray(offset, end),
            };
            offset = end;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        var bytes = new byte[8 + padded + offset];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), (ulong)padded);
        json.CopyTo(bytes, 8);
        bytes.AsSpan(8 + json.Length, padded - json.Length).Fill((byte)' ');
        long at = 8 + padded;
        foreach (var t in tensors)
            for (long i = 0; i < t.Count; i++)
            {
                double v = t.Data[i];
                switch (t.DType)
                {
                    case "F64": BitConverter.TryWriteBytes(bytes.AsSpan((int)at, 8), v); at += 8; break;
                    case "F32": BitConverter.TryWriteBytes(bytes.AsSpan((int)at, 4), (float)v); at += 4; break;
                    default: BitConverter.TryWriteBytes(bytes.AsSpan((int)at, 8), checked((long)v)); at += 8; break;
                }
            }
        return bytes;
    }

    public static void Write(string path, IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string> metadata) =>
        AtomicFile.WriteAllBytes(path, Serialise(tensors, metadata));

    private static int Size(string dtype, string name) => dtype switch
    {
        "F64" or "I64" => 8,
        "F32" => 4,
        _ => throw new InputException($"tensor {name}: dtype '{dtype}' is not supported (MorIcl reads F64, F32 and I64)"),
    };

    public static (Dictionary<string, SafeTensor> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        if (!File.Exists(path)) throw new InputException($"{path}: file not found");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new InputException($"{path}: cannot read ({e.Message})", e); }
        return Parse(bytes, path);
    }

    public static (Dictionary<string, SafeTensor> Tensors, Dictionary<string, string> Metadata) Parse(byte[] bytes, string source)
    {
        InputException Bad(string what) => new($"{source}: not a valid safetensors file ({what})");
        if (bytes.Length < 8) throw Bad("shorter than its 8-byte header length");
        ulong n = BitConverter.ToUInt64(bytes, 0);
        if (n > MaxHeader || (long)n > bytes.Length - 8) throw Bad($"header length {n} exceeds the file's {bytes.Length - 8} remaining bytes");
        JsonObject header;
        try { header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)n)) as JsonObject ?? throw Bad("the header is not a JSON object"); }
        catch (JsonException e) { throw Bad($"the header is not valid JSON: {e.Message.Split(". ")[0]}"); }
        long start = 8 + (long)n, buffer = bytes.Length - start;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var tensors = new Dictionary<string, SafeTensor>(StringComparer.Ordinal);
        var spans = new List<(long Begin, long End, string Name)>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                if (node is not JsonObject mo) throw Bad("__metadata__ is not an object");
                foreach (var (k, v) in mo) metadata[k] = v is JsonValue jv && jv.TryGetValue<string>(out var s) ? s : throw Bad($"__metadata__.{k} is not a string");
                continue;
            }
            if (node is not JsonObject o || o["dtype"] is not JsonValue dt || !dt.TryGetValue<string>(out var dtype) || o["shape"] is not JsonArray shapeNode || o["data_offsets"] is not JsonArray offsets || offsets.Count != 2)
                throw Bad($"tensor '{name}' needs dtype, shape and data_offsets [begin, end]");
            var shape = shapeNode.Select(s => s is JsonValue sv && sv.TryGetValue<long>(out var x) && x >= 0 ? x : throw Bad($"tensor '{name}': shape must hold whole numbers ≥ 0")).ToArray();
            long Offset(JsonNode? x) => x is JsonValue v && v.TryGetValue<long>(out var l) ? l : throw Bad($"tensor '{name}': data_offsets must be whole numbers");
            long begin = Offset(offsets[0]), end = Offset(offsets[1]);
            int size = Size(dtype, name);
            long count = shape.Aggregate(1L, (a, b) => checked(a * b));
            if (begin < 0 || end < begin || end > buffer) throw Bad($"tensor '{name}': data_offsets [{begin}, {end}] lie outside the {buffer}-byte data");
            if (end - begin != count * size) throw Bad($"tensor '{name}': {end - begin} bytes for shape [{string.Join(", ", shape)}] of {dtype} (expected {count * size})");
            var data = new double[count];
            for (long i = 0; i < count; i++)
            {
                int at = (int)(start + begin + i * size);
                data[i] = dtype switch { "F64" => BitConverter.ToDouble(bytes, at), "F32" => BitConverter.ToSingle(bytes, at), _ => BitConverter.ToInt64(bytes, at) };
            }
            tensors[name] = new SafeTensor(name, dtype, shape, data);
            spans.Add((begin, end, name));
        }
        long covered = 0;
        foreach (var (begin, end, name) in spans.OrderBy(s => s.Begin).ThenBy(s => s.End))
        {
            if (begin != covered) throw Bad(begin < covered ? $"tensor '{name}' overlaps another tensor's data" : $"the data has a gap before tensor '{name}'");
            covered = end;
        }
        if (covered != buffer) throw Bad($"the data holds {buffer} bytes but the tensors cover {covered}");
        return (tensors, metadata);
    }
}
