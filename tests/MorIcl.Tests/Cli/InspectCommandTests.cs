using MorIcl.Construction;
using MorIcl.IO;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Cli;

public class InspectCommandTests
{
    private static readonly string[] Flags = { "--dim", "3", "--components", "2", "--em-iterations", "2", "--gd-steps", "1", "--step-size", "0.5", "--sigma", "0.5" };

    [Fact]
    public void SummaryListsLayoutAndEveryLayer()
    {
        using var c = new CliRunner();
        var r = c.Run(new[] { "inspect" }.Concat(Flags).ToArray());
        Assert.True(r.ExitCode == 0, r.Err);
        var model = Compiler.Compile(new ConstructionSpec(3, 2, 0.5, null, 2, 1, 0.5));
        foreach (var b in model.Layout.Blocks) Assert.Contains(b.Name, r.Out);
        foreach (var op in new[] { "copy_over", "product", "affine", "softmax", "gd_step", "read-out" }) Assert.Contains(op, r.Out);
        Assert.Contains($"{model.Layers.Count} layers", r.Out);
    }

    [Fact]
    public void LayerShowsNamedMatricesFromAModelFileToo()
    {
        using var c = new CliRunner();
        Assert.Equal(0, c.Run(new[] { "construct" }.Concat(Flags).Concat(new[] { "--out", c.PathOf("m.json") }).ToArray()).ExitCode);
        var r = c.Run("inspect", "--model", c.PathOf("m.json"), "--layer", "7");
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains("gd_step", r.Out);
        Assert.Contains("pos_sq[0]", r.Out);
        Assert.Contains("Nx[0]", r.Out);
        Assert.Equal(2, c.Run("inspect", "--model", c.PathOf("m.json"), "--layer", "999").ExitCode);
        Assert.Equal(2, c.Run(new[] { "inspect", "--model", c.PathOf("m.json") }.Concat(Flags).ToArray()).ExitCode);
        Assert.Equal(2, c.Run("inspect").ExitCode);
    }

    [Fact]
    public void EmitCSharpIsExactlyWhatTheGeneratorEmits()
    {
        using var c = new CliRunner();
        var r = c.Run(new[] { "inspect" }.Concat(Flags).Concat(new[] { "--emit-csharp", "--class-name", "Em" }).ToArray());
        Assert.True(r.ExitCode == 0, r.Err);
        var spec = new ConstructionSpec(3, 2, 0.5, null, 2, 1, 0.5);
        var source = $"namespace MorIcl.Generated;\n[MorIcl.ConstructedTransformer({MorIcl.Cli.Commands.GeneratorRunner.AttributeArguments(spec)})]\npublic static partial class Em {{ }}\n";
        var direct = GeneratorHarness.Run(source);
        Assert.Equal(direct.Source("Em"), r.Out);
        Assert.Contains("public static TransformerModel Model", r.Out);
    }

    [Fact]
    public void HeatmapWritesAPng()
    {
        using var c = new CliRunner();
        var r = c.Run(new[] { "inspect" }.Concat(Flags).Concat(new[] { "--layer", "6", "--heatmap", c.PathOf("l6.png") }).ToArray());
        Assert.True(r.ExitCode == 0, r.Err);
        var bytes = File.ReadAllBytes(c.PathOf("l6.png"));
        Assert.True(bytes.Length > 1000);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes.Take(4).ToArray());
        Assert.Equal(2, c.Run(new[] { "inspect" }.Concat(Flags).Concat(new[] { "--heatmap", c.PathOf("x.png") }).ToArray()).ExitCode);
    }
}
