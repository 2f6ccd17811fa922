using System.Text.Json.Nodes;
using MorIcl.Tests.Support;

namespace MorIcl.Tests.Cli;

/// <summary>
/// `mor-icl em --variance per-component|shared` from a given init, tolerance 1e-10, reaches the same
/// fixed point as an established independent implementation: mixtools::regmixEM (R), run by
/// Fixtures/mixtools/generate.R to ε = 1e-14 from the same init, on synthetic data and on two real
/// data sets (mixtools' NOdata, flexmix's NPreg). Coefficients must agree within 1e-6.
/// </summary>
public class EmAgainstMixtoolsTests
{
    [Theory]
    [InlineData("k2_d3")]
    [InlineData("k3_d4")]
    [InlineData("k2_d2_lowsnr")]
    [InlineData("k2_d3_shared")]
    [InlineData("nodata")]
    [InlineData("npreg")]
    public void SameFixedPointAsMixtools(string name)
    {
        var expected = JsonNode.Parse(File.ReadAllText(CliRunner.Fixture("mixtools", name + ".expected.json")))!.AsObject();
        var beta = expected["beta"]!.AsArray();
        using var cli = new CliRunner();
        var r = cli.Run("em", "--data", CliRunner.Fixture("mixtools", name + ".csv"), "--components", beta.Count.ToString(),
            "--variance", expected["variance"]!.GetValue<string>(), "--init", CliRunner.Fixture("mixtools", name + ".init.json"),
            "--tolerance", "1e-10", "--max-iterations", "100000", "--json");
        Assert.True(r.ExitCode == 0, r.Err);
        var got = JsonNode.Parse(r.Out)!.AsObject();
        Assert.True(got["converged"]!.GetValue<bool>());
        double maxDiff = 0;
        for (int k = 0; k < beta.Count; k++)
        {
            for (int a = 0; a < beta[k]!.AsArray().Count; a++)
                maxDiff = Math.Max(maxDiff, Math.Abs(got["beta"]![k]![a]!.GetValue<double>() - beta[k]![a]!.GetValue<double>()));
            maxDiff = Math.Max(maxDiff, Math.Abs(got["mixing"]![k]!.GetValue<double>() - expected["mixing"]![k]!.GetValue<double>()));
            maxDiff = Math.Max(maxDiff, Math.Abs(got["sigma"]![k]!.GetValue<double>() - expected["sigma"]![k]!.GetValue<double>()));
        }
        Assert.True(maxDiff <= 1e-6, $"{name}: largest parameter difference to mixtools {maxDiff}");
        Assert.Equal(expected["logLikelihood"]!.GetValue<double>(), got["logLikelihood"]!.GetValue<double>(), 6);
    }
}
