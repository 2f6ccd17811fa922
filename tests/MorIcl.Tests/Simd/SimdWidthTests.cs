using System.Diagnostics;
using MorIcl.Numerics.Simd;
using Xunit.Abstractions;

namespace MorIcl.Tests.Simd;

/// <summary>
/// Bit-identity across SIMD widths, as a user on another CPU would see it: child processes of this
/// test assembly with AVX-512 switched off (Vector256) and with AVX2 switched off (Vector128 only, as
/// on ARM64's NEON; FMA goes with it on x86) run <see cref="WidthCases"/> and must print exactly the
/// lines this process prints. Each child first reports the width it ran on, so a runtime that ignored
/// the switch fails the test instead of passing it vacuously. The two children run side by side, in a
/// collection of their own that runs after the parallel tests, so they never slow a timed test down.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class SimdWidthTests(ITestOutputHelper output)
{
    /// <summary>Both names of the AVX-512 switch (.NET 8/9: EnableAVX512F; .NET 10: EnableAVX512).</summary>
    private static readonly (string Name, SimdWidth Width, (string, string)[] Environment)[] Configurations =
    {
        ("AVX-512 off", SimdWidth.Vector256, new[] { ("DOTNET_EnableAVX512F", "0"), ("DOTNET_EnableAVX512", "0") }),
        ("AVX2 off", SimdWidth.Vector128, new[] { ("DOTNET_EnableAVX2", "0") }),
    };

    [Fact]
    public void Narrower_widths_give_the_same_bits_in_child_processes()
    {
        var children = Configurations.Where(c => c.Width < SimdSpan.Width).Select(c => (c.Name, c.Width, Task: Task.Run(() => RunChild(c.Environment)))).ToArray();
        var want = WidthCases.Lines().ToArray();
        output.WriteLine(string.Join("\n", want));
        Assert.True(children.Length > 0 || SimdSpan.Width == SimdWidth.Vector128, "no narrower width to compare with");
        foreach (var (name, width, task) in children)
        {
            var got = task.Result;
            Assert.Equal($"width: {width}", got.FirstOrDefault());
            Assert.Equal(want.Length, got.Length);
            for (int i = 1; i < want.Length; i++) Assert.True(want[i] == got[i], $"{name}: {got[i]}\n  differs from the default path's {want[i]}");
        }
    }

    [Fact]
    public void A_child_with_a_different_computation_is_caught()
    {
        // The comparison above is not vacuous: a case line changes with a single bit of one number.
        var lines = WidthCases.Lines().Take(2).ToArray();
        Assert.StartsWith("forward/double/gd", lines[1]);
        Assert.NotEqual(lines[1], WidthCases.Lines().Skip(2).First());
    }

    private static string[] RunChild((string, string)[] environment)
    {
        string assembly = typeof(SimdWidthTests).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(assembly);
        psi.ArgumentList.Add("simd-width-cases");
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        psi.Environment.Remove("DOTNET_PreferredVectorBitWidth");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException("the child process did not finish in 120 s"); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"child exited with {p.ExitCode}: {stderr.Result}");
        return stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}

/// <summary>Tests that start child processes: not run in parallel with the others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ChildProcessCollection
{
    public const string Name = "Child processes";
}
