using Google.Protobuf;
using Onnx;

namespace MorIcl.Export;

/// <summary>The element type an exported graph computes in.</summary>
public enum ExportPrecision { Double, Float }

/// <summary>
/// Builds one ONNX graph with the official schema (onnx.proto's generated classes, from OnnxSharp):
/// initializers in the graph's precision (or int64), nodes with unique output names, inputs and
/// outputs with symbolic dimensions. Opset 17, IR version 8 (what onnx 1.12's checker and ONNX
/// Runtime 1.31 both read). It only assembles messages; every numeric choice belongs to the caller.
/// </summary>
internal sealed class OnnxGraph
{
    public const int Opset = 17;
    public const long IrVersion = 8;

    private readonly GraphProto _graph = new();
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _int64Constants = new(StringComparer.Ordinal);

    public ExportPrecision Precision { get; }
    /// <summary>TensorProto.DataType of the graph's real numbers.</summary>
    public int RealType => Precision == ExportPrecision.Double ? (int)TensorProto.Types.DataType.Double : (int)TensorProto.Types.DataType.Float;

    public OnnxGraph(string name, ExportPrecision precision) { _graph.Name = name; Precision = precision; }

    private string Unique(string stem)
    {
        _counts.TryGetValue(stem, out int c);
        _counts[stem] = c + 1;
        return c == 0 ? stem : $"{stem}_{c}";
    }

    /// <summary>A real initializer (row-major, in the graph's precision; doubles are rounded to float for a float graph).</summary>
    public string Real(string name, ReadOnlySpan<double> data, params long[] dims)
    {
        var t = new TensorProto { Name = Unique(name), DataType = RealType };
        t.Dims.AddRange(dims);
        byte[] raw;
        if (Precision == ExportPrecision.Double)
        {
            raw = new byte[8 * data.Length];
            for (int i = 0; i < data.Length; i++) BitConverter.TryWriteBytes(raw.AsSpan(8 * i), data[i]);
        }
        else
        {
            raw = new byte[4 * data.Length];
            for (int i = 0; i < data.Length; i++) BitConverter.TryWriteBytes(raw.AsSpan(4 * i), (float)data[i]);
        }
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw data is little-endian");
        t.RawData = ByteString.CopyFrom(raw);
        _graph.Initializer.Add(t);
        return t.Name;
    }

    /// <summary>A real scalar initializer (shape []).</summary>
    public string RealScalar(string name, double value) => Real(name, new[] { value });

    /// <summary>An int64 initializer; identical constants are shared.</summary>
    public string Int64(string name, long[] data, params long[] dims)
    {
        string key = string.Join(",", dims) + ":" + string.Join(",", data);
        if (_int64Constants.TryGetValue(key, out var existing)) return existing;
        var t = new TensorProto { Name = Unique(name), DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.AddRange(dims);
        t.Int64Data.AddRange(data);
        _graph.Initializer.Add(t);
        return _int64Constants[key] = t.Name;
    }

    /// <summary>A 1-D int64 vector constant.</summary>
    public string Ints(string name, params long[] data) => Int64(name, data, data.Length);

    /// <summary>An int64 scalar constant (shape []).</summary>
    public string IntScalar(string name, long value) => Int64(name, new[] { value });

    /// <summary>Adds a node; returns its (first) output's name.</summary>
    public string Node(string op, string output, string[] inputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = Unique("n_" + output) };
        node.Input.AddRange(inputs);
        var o = Unique(output);
        node.Output.Add(o);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return o;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto IntList(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    // Shorthands for the operators the exports use.
    public string MatMul(string a, string b, string o = "mm") => Node("MatMul", o, new[] { a, b });
    public string Add(string a, string b, string o = "add") => Node("Add", o, new[] { a, b });
    public string Sub(string a, string b, string o = "sub") => Node("Sub", o, new[] { a, b });
    public string Mul(string a, string b, string o = "mul") => Node("Mul", o, new[] { a, b });
    public string Div(string a, string b, string o = "div") => Node("Div", o, new[] { a, b });
    public string Concat(long axis, string o, params string[] parts) => parts.Length == 1 ? parts[0] : Node("Concat", o, parts, Int("axis", axis));
    public string Unsqueeze(string a, long axis, string o = "unsq") => Node("Unsqueeze", o, new[] { a, Ints("axes", axis) });
    public string Transpose(string a, string o = "tr", params long[] perm) => Node("Transpose", o, new[] { a }, IntList("perm", perm.Length == 0 ? new long[] { 1, 0 } : perm));
    /// <summary>Columns <paramref name="cols"/> of a 2-D tensor (Gather on axis 1).</summary>
    public string Columns(string a, int[] cols, string o = "cols") => Node("Gather", o, new[] { a, Ints("idx", cols.Select(c => (long)c).ToArray()) }, Int("axis", 1));

    public void Input(string name, params object[] dims) => _graph.Input.Add(ValueInfo(name, RealType, dims));
    public void Output(string tensor, string name, int elementType, params object[] dims)
    {
        if (tensor != name) Node("Identity", name, new[] { tensor });
        _graph.Output.Add(ValueInfo(name, elementType, dims));
    }

    /// <summary>Dimensions are numbers (fixed) or strings (symbolic, e.g. "n").</summary>
    private static ValueInfoProto ValueInfo(string name, int elementType, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is string s ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture) });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } } };
    }

    public ModelProto Build(string doc, IReadOnlyDictionary<string, string> metadata)
    {
        _graph.DocString = doc;
        var m = new ModelProto { IrVersion = IrVersion, ProducerName = "MorIcl", ProducerVersion = typeof(OnnxGraph).Assembly.GetName().Version?.ToString() ?? "", Graph = _graph, DocString = doc };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (k, v) in metadata) m.MetadataProps.Add(new StringStringEntryProto { Key = k, Value = v });
        return m;
    }
}
