using MorIcl.Numerics;
using MorIcl.Training;

namespace MorIcl.Seed003;

/// <summary>Training of seed 003's model: GD on the closed-form population loss (eq. (10)), or Adam.</summary>
public static class Seed003Training
{
    /// <summary>
    /// Gradient descent on the population loss with separate rates (eq. (10)): Q_h ← Q_h − η_Q ∂L/∂Q_h,
    /// w_h ← w_h − η_w ∂L/∂w_h. Returns L(θ_t) for t = 0 … steps (the model is updated in place).
    /// </summary>
    public static double[] GradientDescent(SoftmaxAttentionModel model, PopulationLoss loss, double etaQ, double etaW, int steps, Action<int, double>? onStep = null)
    {
        var trace = new double[steps + 1];
        int qCount = model.H * model.Task.D * model.Task.D;
        var p = model.Parameters;
        for (int t = 0; ; t++)
        {
            trace[t] = loss.Evaluate(model, out var g);
            onStep?.Invoke(t, trace[t]);
            if (!double.IsFinite(trace[t])) throw new NumericalException($"the population loss became {trace[t]} at step {t}");
            if (t == steps) break;
            for (int i = 0; i < qCount; i++) p[i] -= etaQ * g[i];
            for (int i = qCount; i < p.Length; i++) p[i] -= etaW * g[i];
        }
        return trace;
    }

    /// <summary>
    /// Adam on the population loss (seed 003 Figure 4: "we use the population loss (9)") or, when
    /// <paramref name="batch"/> &gt; 0, on batches of freshly sampled prompts (seed 003 §4: batch 256, lr 1e−4).
    /// Returns the population loss L(θ_t) for t = 0 … steps.
    /// </summary>
    public static double[] Adam(SoftmaxAttentionModel model, PopulationLoss loss, double learningRate, int steps, int batch, int seed, Action<int, double>? onStep = null)
    {
        var adam = new Adam(model.Parameters.Length, learningRate);
        var trace = new double[steps + 1];
        for (int t = 0; ; t++)
        {
            var s = model.AttentionWeights();
            var a = model.EffectiveWeights(s);
            trace[t] = loss.Evaluate(a, out var g);
            onStep?.Invoke(t, trace[t]);
            if (!double.IsFinite(trace[t])) throw new NumericalException($"the population loss became {trace[t]} at step {t}");
            if (t == steps) break;
            if (batch > 0)
            {
                var rng = SeedSequence.Create(seed, t, 0x3ADA);
                var prompts = Enumerable.Range(0, batch).Select(_ => model.Task.Sample(rng)).ToArray();
                PopulationLoss.Empirical(a, prompts, out g);
            }
            adam.Update(model.Parameters, model.Backward(s, g));
        }
        return trace;
    }
}
