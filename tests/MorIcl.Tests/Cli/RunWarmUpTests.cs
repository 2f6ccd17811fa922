using System.Diagnostics;
using MorIcl.Cli.Commands;
using MorIcl.Mixture;
using Xunit;

namespace MorIcl.Tests.Cli;

/// <summary>`run`'s warm-up before timing: at least its fixed passes, then on while the JIT compiles, within its budget.</summary>
public sealed class RunWarmUpTests
{
    private static readonly RegressionData Examples = new(20, 2, new double[40], new double[20]);

    [Fact]
    public void WithoutBudgetItRunsExactlyItsFixedPassesOnAtMostEightExamples()
    {
        int calls = 0;
        int passes = RunCommand.Warm(Examples, d => { Assert.Equal(8, d.N); Assert.Equal(2, d.D); calls++; }, budget: 0).Passes;
        Assert.Equal(RunCommand.WarmPasses, passes);
        Assert.Equal(RunCommand.WarmPasses, calls);
    }

    [Fact]
    public void WhileTheJitCompilesItRunsOnUntilItsBudgetAndNoLonger()
    {
        // Each pass compiles a new method (a fresh dynamic method per call), so the JIT is never quiet: the warm-up must run
        // past its fixed passes and stop at the budget. A warm-up that ignored the JIT stops at 30; one that ignored the budget never.
        const double budget = 0.4;
        int calls = 0;
        var clock = Stopwatch.StartNew();
        var (passes, quiet) = RunCommand.Warm(Examples, _ => CompileOne(calls++), budget);
        double seconds = clock.Elapsed.TotalSeconds;
        Assert.False(quiet);   // reported: `run` then says its timed passes may include unoptimised code
        Assert.True(passes > RunCommand.WarmPasses, $"{passes} passes");
        Assert.True(seconds >= budget, $"{seconds} s");
        Assert.True(seconds < budget + 1, $"{seconds} s");
    }

    [Fact]
    public void AComputationThatRefusesThePromptEndsTheWarmUp()
    {
        var (passes, quiet) = RunCommand.Warm(Examples, _ => throw new SpecificationException("refused"), budget: 1);
        Assert.Equal(0, passes);
        Assert.True(quiet);
    }

    [Fact]
    public void TheWholePromptWarmUpRunsNothingWithoutBudgetAndOnWhileTheJitCompiles()
    {
        int calls = 0;
        Assert.Equal((0, false), RunCommand.UntilQuiet(() => calls++, minPasses: 0, budget: 0));
        Assert.Equal(0, calls);
        var (passes, quiet) = RunCommand.UntilQuiet(() => CompileOne(1000 + calls++), minPasses: 0, budget: 0.2);
        Assert.True(passes > 1 && !quiet, $"{passes} passes, quiet {quiet}");
    }

    private static void CompileOne(int i)
    {
        var m = new System.Reflection.Emit.DynamicMethod($"warm{i}", typeof(int), Type.EmptyTypes);
        var il = m.GetILGenerator();
        il.Emit(System.Reflection.Emit.OpCodes.Ldc_I4, i);
        il.Emit(System.Reflection.Emit.OpCodes.Ret);
        Assert.Equal(i, ((Func<int>)m.CreateDelegate(typeof(Func<int>)))());
    }
}
