namespace MorIcl.Training;

/// <summary>
/// Adam (Kingma &amp; Ba 2015) and, with <see cref="WeightDecay"/> &gt; 0, AdamW (Loshchilov &amp; Hutter 2019,
/// decoupled decay θ ← θ − lr·wd·θ) on a flat parameter vector. Its state (moments and step count) is
/// public so a checkpoint can save and restore it exactly.
/// </summary>
public sealed class Adam
{
    public double LearningRate { get; }
    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Epsilon { get; }
    public double WeightDecay { get; }
    public double[] FirstMoment { get; }
    public double[] SecondMoment { get; }
    public long Step { get; private set; }

    public Adam(int parameters, double learningRate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
    {
        if (!(learningRate > 0)) throw new SpecificationException($"learning rate must be > 0, got {learningRate}");
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) throw new SpecificationException($"Adam betas must lie in [0, 1), got {beta1}, {beta2}");
        if (!(weightDecay >= 0)) throw new SpecificationException($"weight decay must be ≥ 0, got {weightDecay}");
        LearningRate = learningRate; Beta1 = beta1; Beta2 = beta2; Epsilon = epsilon; WeightDecay = weightDecay;
        FirstMoment = new double[parameters];
        SecondMoment = new double[parameters];
    }

    /// <summary>Restores a saved state (moments copied, step count set).</summary>
    public void Restore(double[] first, double[] second, long step)
    {
        if (first.Length != FirstMoment.Length || second.Length != SecondMoment.Length) throw new SpecificationException("optimiser state does not match the parameter count");
        first.CopyTo(FirstMoment, 0); second.CopyTo(SecondMoment, 0); Step = step;
    }

    /// <summary>One update of <paramref name="theta"/> with gradient <paramref name="gradient"/>.</summary>
    public void Update(Span<double> theta, ReadOnlySpan<double> gradient) => Update(theta, gradient, LearningRate);

    /// <summary>One update with this step's learning rate (a schedule's), instead of the constant one.</summary>
    public void Update(Span<double> theta, ReadOnlySpan<double> gradient, double learningRate)
    {
        if (theta.Length != FirstMoment.Length || gradient.Length != FirstMoment.Length) throw new ArgumentException("parameter and gradient lengths must match the optimiser");
        Step++;
        double c1 = 1 - Math.Pow(Beta1, Step), c2 = 1 - Math.Pow(Beta2, Step);
        for (int i = 0; i < theta.Length; i++)
        {
            double g = gradient[i];
            FirstMoment[i] = Beta1 * FirstMoment[i] + (1 - Beta1) * g;
            SecondMoment[i] = Beta2 * SecondMoment[i] + (1 - Beta2) * g * g;
            double mHat = FirstMoment[i] / c1, vHat = SecondMoment[i] / c2;
            if (WeightDecay > 0) theta[i] -= learningRate * WeightDecay * theta[i];
            theta[i] -= learningRate * mHat / (Math.Sqrt(vHat) + Epsilon);
        }
    }
}
