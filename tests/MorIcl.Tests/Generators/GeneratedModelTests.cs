using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Mixture;
using MorIcl.Runtime;
using MorIcl.Tests.Generated;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Generators;

/// <summary>
/// The consumers built by the generator at compile time (Generated/GeneratedModels.cs): their weights
/// are bit-identical to the runtime construction (= `mor-icl construct`) for the same specification,
/// and running them equals reference gradient EM.
/// </summary>
public class GeneratedModelTests
{
    public static TheoryData<string> Names => new() { nameof(TwoComponentModel), nameof(SymmetricModel), nameof(ThreeComponentModel) };

    private static TransformerModel Generated(string name) => name switch
    {
        nameof(TwoComponentModel) => TwoComponentModel.Model,
        nameof(SymmetricModel) => SymmetricModel.Model,
        nameof(ThreeComponentModel) => ThreeComponentModel.Model,
        _ => throw new ArgumentException(name),
    };

    internal static void AssertBitIdentical(TransformerModel expected, TransformerModel actual)
    {
        Assert.Equal(expected.Spec, actual.Spec);
        Assert.Equal(expected.Layout.RowNames(), actual.Layout.RowNames());
        Assert.Equal(expected.Embedding.AuxiliaryNames, actual.Embedding.AuxiliaryNames);
        Assert.Equal(expected.ReadOut.Prediction, actual.ReadOut.Prediction);
        Assert.Equal(expected.Layers.Count, actual.Layers.Count);
        for (int l = 0; l < expected.Layers.Count; l++)
        {
            Assert.Equal(expected.Layers[l].Provenance.Statement, actual.Layers[l].Provenance.Statement);
            Assert.Equal(expected.Layers[l].Provenance.Decode, actual.Layers[l].Provenance.Decode);
            switch (expected.Layers[l])
            {
                case AttentionLayer a:
                    var b = Assert.IsType<AttentionLayer>(actual.Layers[l]);
                    Assert.Equal(a.Heads.Length, b.Heads.Length);
                    for (int h = 0; h < a.Heads.Length; h++)
                    {
                        Assert.True(a.Heads[h].Query.Equals(b.Heads[h].Query), $"layer {l} head {h} Q");
                        Assert.True(a.Heads[h].Key.Equals(b.Heads[h].Key), $"layer {l} head {h} K");
                        Assert.True(a.Heads[h].Value.Equals(b.Heads[h].Value), $"layer {l} head {h} V");
                        Assert.Equal(a.Heads[h].Admission, b.Heads[h].Admission);
                        Assert.Equal(a.Heads[h].PositionalDims, b.Heads[h].PositionalDims);
                        Assert.Equal(a.Heads[h].Activation, b.Heads[h].Activation);
                    }
                    break;
                case MlpLayer m:
                    var n = Assert.IsType<MlpLayer>(actual.Layers[l]);
                    Assert.True(m.W1.Equals(n.W1) && m.W2.Equals(n.W2), $"layer {l} MLP weights");
                    Assert.Equal(m.B2.Select(BitConverter.DoubleToInt64Bits), n.B2.Select(BitConverter.DoubleToInt64Bits));
                    break;
            }
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void GeneratedWeightsAreBitIdenticalToTheRuntimeConstruction(string name)
    {
        var generated = Generated(name);
        AssertBitIdentical(Compiler.Compile(generated.Spec), generated);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void GeneratedModelEqualsReferenceGradientEm(string name)
    {
        var model = Generated(name);
        var spec = model.Spec;
        var truth = spec.Symmetric
            ? MixtureSpec.SymmetricTwoComponent(Fixtures.Spec(spec.Dimension, 1, spec.Sigma, 9).Beta[0], spec.Mixing[0], spec.Sigma)
            : Fixtures.Spec(spec.Dimension, spec.Components, spec.Sigma, 9, spec.Mixing);
        foreach (int n in new[] { 15, 80, 300 })
        {
            var prompt = PromptSampler.Sample(truth, n, n, 0);
            var run = new ModelExecutor<double>(model).Forward(prompt.Examples, prompt.Query);
            var reference = ReferenceRun.Of(spec, prompt.Examples, prompt.Query);
            Assert.True(run.Certificate.InDomain, run.Certificate.Summary());
            Assert.True(TraceDecoder.RelativeError(run.Beta, reference.Beta) < 1e-10);
            Assert.True(Math.Abs(run.Prediction - reference.Prediction) < 1e-10 * Math.Max(1, Math.Abs(reference.Prediction)));
        }
    }
}
