using System.Text.RegularExpressions;

namespace MorIcl.Tests.Simd;

/// <summary>
/// The library calls whose results depend on the SIMD width (TensorPrimitives' reductions and
/// transcendental functions, the runtime's own Vector*.Sum, and fused multiply-adds, which x86 without
/// AVX2 does not have in hardware) appear nowhere in the shipped code except where documented, so every
/// kernel goes through SimdSpan/LaneMath's fixed orders. The one exception is the double-double
/// arithmetic of the high-precision reference executor, whose error-free product needs the exact fused
/// multiply-add (Math.FusedMultiplyAdd is correctly rounded on every instruction set, in software where
/// the CPU has none, so it is width-independent, only slower there).
/// </summary>
public sealed class WidthDependentCallTests
{
    private static readonly Regex Forbidden = new(
        @"TensorPrimitives\.(Sum|Dot|Exp|Log|Log2|Tanh|Sigmoid|SoftMax|Norm|Average|Distance|CosineSimilarity|ProductOf\w*|SumOf\w*|FusedMultiplyAdd|MultiplyAddEstimate)\b"
        + @"|TensorPrimitives\.(Max|Min)(<\w+>)?\(\s*\w+\s*\)"              // the one-span reductions (element-wise forms have more arguments)
        + @"|Vector(128|256|512)?\.(Sum|FusedMultiplyAdd|MultiplyAddEstimate)\b|\bFma\.|FusedMultiplyAdd\(");

    private static readonly string[] Allowed = { Path.Combine("MorIcl", "Numerics", "DoubleDouble.cs") };

    [Fact]
    public void Shipped_code_has_no_width_dependent_reductions_or_fused_multiply_adds()
    {
        string src = Path.Combine(RepositoryRoot(), "src");
        var hits = new List<string>();
        foreach (var file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") || Allowed.Contains(Path.GetRelativePath(src, file))) continue;
            var lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                string code = lines[i].Split("//")[0];
                if (Forbidden.IsMatch(code)) hits.Add($"{Path.GetRelativePath(src, file)}:{i + 1}: {lines[i].Trim()}");
            }
        }
        Assert.True(hits.Count == 0, "width-dependent calls:\n" + string.Join("\n", hits));
    }

    [Fact]
    public void The_pattern_rejects_the_calls_it_names()
    {
        foreach (var bad in new[] { "TensorPrimitives.Sum(x)", "TensorPrimitives.Max(s)", "TensorPrimitives.Max<double>(row)", "Vector512.Sum(acc)", "T.FusedMultiplyAdd(a, b, c)", "TensorPrimitives.Exp(l, l)" })
            Assert.Matches(Forbidden, bad);
        foreach (var good in new[] { "TensorPrimitives.Max(z, T.Zero, z)", "TensorPrimitives.MultiplyAdd(a, b, c, d)", "SimdSpan.Sum(x)", "TensorPrimitives.Add(a, b, a)" })
            Assert.DoesNotMatch(Forbidden, good);
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MorIcl.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("MorIcl.sln not found above the test directory");
    }
}
