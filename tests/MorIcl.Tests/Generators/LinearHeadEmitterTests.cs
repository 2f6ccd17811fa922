extern alias generators;
using System.Reflection;
using Microsoft.CodeAnalysis;
using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Tests.Support;
using G = generators::MorIcl.Construction;
using GM = generators::MorIcl.Construction.Model;

namespace MorIcl.Tests.Generators;

/// <summary>
/// The generator's emitter on a model with linear heads (which no specification produces, so the
/// snapshots do not contain one): it writes <c>Activation.Linear</c> and a "linear" head comment, the
/// emitted code compiles, and the model it builds is bit-identical to the one it was given.
/// </summary>
public class LinearHeadEmitterTests
{
    private static readonly ConstructionSpec Spec = new(2, 2, 0.3, null, 1, 1, 0.5, maxPromptLength: 20);

    /// <summary><see cref="LinearHeads.Replace"/> on the generator's linked copy of the construction types.</summary>
    private static GM.TransformerModel GeneratorSide(int layer)
    {
        var m = G.Compiler.Compile(new G.ConstructionSpec(2, 2, 0.3, null, 1, 1, 0.5, maxPromptLength: 20));
        int roles = GM.TokenRoles.Count(m.Embedding.AuxiliaryCount);
        var layers = m.Layers.Select((x, l) => x is GM.AttentionLayer a && l == layer
            ? new GM.AttentionLayer(a.Heads.Select(h => new GM.AttentionHead(h.Name + "_lin", GM.Activation.Linear, h.Query, h.Key, h.Value, h.PositionalDims, GM.Admission.All(roles), h.Description)).ToArray(),
                a.Provenance, "linear attention (every pair admitted; finite)")
            : x).ToList();
        return new GM.TransformerModel(m.Spec, m.Layout, m.Embedding, layers, m.ReadOut, m.Margin);
    }

    [Fact]
    public void EmitsAndRebuildsLinearHeads()
    {
        var expected = Compiler.Compile(Spec);
        int layer = LinearHeads.AttentionLayers(expected)[1];
        expected = LinearHeads.Replace(expected, l => l == layer);
        var request = new generators::MorIcl.Generators.TransformerRequest { Namespace = "Demo", ClassName = "Lin", Accessibility = "public" };
        string source = generators::MorIcl.Generators.Emitter.Emit(request, GeneratorSide(layer));
        Assert.Contains("Activation.Linear", source);
        Assert.Contains("_lin, linear): ", source);

        var compilation = GeneratorHarness.Compilation(source);
        using var dll = new MemoryStream();
        var emitted = compilation.Emit(dll);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        var type = Assembly.Load(dll.ToArray()).GetType("Demo.Lin")!;
        var built = (TransformerModel)type.GetProperty("Model", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
        GeneratedModelTests.AssertBitIdentical(expected, built);
        Assert.All(((AttentionLayer)built.Layers[layer]).Heads, h => Assert.Equal(Activation.Linear, h.Activation));
    }
}
