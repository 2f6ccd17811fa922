using System.Runtime.CompilerServices;
using MorIcl.Construction;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Runtime;
using MorIcl.Runtime.Structured;

namespace MorIcl.Tests.Runtime;

/// <summary>
/// An executor and its rounding analysis are garbage once the caller drops them. Their workspaces and
/// bound passes are pooled; a pool whose storage is thread-local (ConcurrentBag) and whose items refer back
/// to their owner keeps the whole executor alive from the thread's static slots for as long as the thread
/// lives. `bounds --cases 200` was OOM-killed that way at 19.7 GB (every case's analysis retained).
/// </summary>
public class ExecutorLifetimeTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ADroppedExecutorReleasesItsModel(bool boundRounding)
    {
        var dropped = RunAndDrop(boundRounding);
        for (int i = 0; i < 3; i++) { GC.Collect(); GC.WaitForPendingFinalizers(); }
        Assert.False(dropped.IsAlive, "the model is still reachable after the caller dropped its executor");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference RunAndDrop(bool boundRounding)
    {
        var model = Compiler.Compile(new ConstructionSpec(2, 2, 0.5, null, 1, 1, 0.5));
        var truth = new MixtureSpec(RegressionVectors.DrawNormalised(2, 2, SeedSequence.Create(3, 2, 3)), new[] { 0.5, 0.5 }, 0.5, MixtureMode.PerSample);
        var prompt = PromptSampler.Sample(truth, 12, 3, 0);
        var exec = new ModelExecutor<double>(model, ExecutorKind.Structured, boundRounding);
        exec.Forward(prompt.Examples, prompt.Query);
        return new WeakReference(model);
    }
}
