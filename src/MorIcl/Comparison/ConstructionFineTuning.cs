using System.Numerics.Tensors;
using MorIcl.Baselines;
using MorIcl.Construction;
using MorIcl.Mixture;
using MorIcl.Numerics;
using MorIcl.Training;
using MorIcl.Training.Constructed;

namespace MorIcl.Comparison;

/// <summary>
/// The learning-rate schedule for training from the construction (docs/math.md §11): a geometric
/// warm-up from lr·<see cref="WarmupStart"/> to the peak lr over <see cref="WarmupSteps"/> steps,
/// then a cosine decay to lr/100 at the last step; and a backoff — when a step's loss is not finite
/// or exceeds <see cref="BlowUp"/> times the loss at the start, the parameters and Adam's state go back
/// to those before the step and every later rate is divided by 10. The construction sits where the
/// loss is extremely sharp (the positional scores carry R·p² ≈ 4·10⁶, so a weight change δ moves a
/// score by ≈ 4·10⁶·δ and breaks a restriction), which is why a constant rate that trains a random
/// model (1e-3) destroys it in one step.
/// </summary>
public sealed record FineTuningSchedule(double PeakLearningRate, int Steps, int WarmupSteps, double WarmupStart = 1e-4, double BlowUp = 10)
{
    public double At(int step, double backoff)
    {
        double lr = step < WarmupSteps
            ? PeakLearningRate * Math.Pow(WarmupStart, 1 - (double)step / WarmupSteps)
            : PeakLearningRate * (0.01 + 0.99 * 0.5 * (1 + Math.Cos(Math.PI * (step - WarmupSteps) / Math.Max(1, Steps - WarmupSteps))));
        return lr * backoff;
    }
}

/// <summary>One measurement along a run from the construction.</summary>
public sealed record FineTuningPoint(double PeakLearningRate, int Step, double LearningRate, double Loss, double Distance, double RelativeDistance, double MaxChange,
    double SpdGradientEm, double ExcessMse, double GradientEmExcessMse, int Backoffs, double GradientNorm);

/// <summary>
/// Trains the constructed architecture (<see cref="ConstructedArchitectureModel"/>) starting exactly at
/// the construction's weights, with Adam and a <see cref="FineTuningSchedule"/>, on the task's prompts
/// (fresh every step, seeded). Every <c>every</c> steps it reports the training loss, the distance
/// ‖θ − θ₀‖ of the weights from the construction (also relative to ‖θ₀‖, and the largest change of one
/// weight), the SPD of the model's predictions against the gradient EM it was constructed from, and its
/// excess MSE against the oracle next to gradient EM's, on a fixed evaluation set.
/// </summary>
public static class ConstructionFineTuning
{
    public static List<FineTuningPoint> Run(ConstructionSpec spec, TrainingTask task, FineTuningSchedule schedule, int batch, int every, int evaluationPrompts, int seed, Action<string>? log = null)
    {
        if (batch < 1 || every < 1 || evaluationPrompts < 2 || schedule.Steps < 1) throw new SpecificationException("batch, reporting interval, evaluation prompts and steps must be positive (evaluation prompts ≥ 2)");
        var template = Compiler.Compile(spec);
        var model = ConstructedArchitectureModel.FromConstruction(template, 0, seed);
        var theta0 = (double[])model.Parameters.Clone();
        double norm0 = Math.Sqrt(Numerics.Simd.SimdSpan.Dot<double>(theta0, theta0));
        var truth = task.Spec();
        var eval = PromptSampler.SampleBatch(truth, task.PromptLength, evaluationPrompts, SeedSequence.Derive(seed, 1, 0xF1E7));
        var labels = eval.Select(p => p.QueryLabel).ToArray();
        var oracle = eval.Select(p => OraclePredictor.Predict(truth, p)).ToArray();
        var gem = new GradientEmPredictor(spec);
        var gemPredictions = eval.Select(p => gem.Predict(p.Examples, p.Query)).ToArray();
        double gemExcess = Metrics.ExcessMse(gemPredictions, oracle, labels);
        var adam = new Adam(theta0.Length, schedule.PeakLearningRate);
        var gradient = new double[theta0.Length];
        var points = new List<FineTuningPoint>();
        double backoff = 1, startLoss = double.NaN;
        int backoffs = 0;
        var saved = (double[])theta0.Clone();
        var savedM = new double[theta0.Length]; var savedV = new double[theta0.Length];
        long savedStep = 0;

        void Measure(int step, double lr, double loss, double gradNorm)
        {
            var pred = model.Predict(eval.Select(p => (p.Examples, p.Query)).ToArray());
            double spd = 0;
            for (int i = 0; i < pred.Length; i++) { double e = pred[i] - gemPredictions[i]; spd += e * e; }
            spd /= pred.Length * task.D;
            var diff = new double[theta0.Length];
            TensorPrimitives.Subtract<double>(model.Parameters, theta0, diff);
            double dist = Math.Sqrt(Numerics.Simd.SimdSpan.Dot<double>(diff, diff));
            double excess = pred.All(double.IsFinite) ? Metrics.ExcessMse(pred, oracle, labels) : double.NaN;
            points.Add(new FineTuningPoint(schedule.PeakLearningRate, step, lr, loss, dist, dist / norm0, Math.Abs(TensorPrimitives.MaxMagnitude<double>(diff)), spd, excess, gemExcess, backoffs, gradNorm));
        }

        for (int step = 0; step <= schedule.Steps; step++)
        {
            var prompts = Enumerable.Range(0, batch).Select(i => PromptSampler.Sample(truth, task.PromptLength, SeedSequence.Derive(seed, step, 0xF1E8), i)).ToArray();
            double loss = model.LossAndGradient(prompts, gradient);
            double gradNorm = Math.Sqrt(Numerics.Simd.SimdSpan.Dot<double>(gradient, gradient));
            if (step == 0) startLoss = loss;
            bool blown = !double.IsFinite(loss) || !double.IsFinite(gradNorm) || loss > schedule.BlowUp * startLoss;
            if (blown && step > 0)
            {
                // Back to the weights before the last step; every later rate ÷ 10.
                saved.CopyTo(model.Parameters, 0);
                adam.Restore(savedM, savedV, savedStep);
                backoff /= 10; backoffs++;
                log?.Invoke($"lr {schedule.PeakLearningRate:G3}: step {step}: loss {loss:G3} (start {startLoss:G3}) — back to step {step - 1}, rates ÷ 10");
                loss = model.LossAndGradient(prompts, gradient);
                gradNorm = Math.Sqrt(Numerics.Simd.SimdSpan.Dot<double>(gradient, gradient));
            }
            double lr = schedule.At(step, backoff);
            if (step % every == 0 || step == schedule.Steps) Measure(step, lr, loss, gradNorm);
            if (step == schedule.Steps) break;
            model.Parameters.CopyTo(saved, 0);
            adam.FirstMoment.CopyTo(savedM, 0); adam.SecondMoment.CopyTo(savedV, 0); savedStep = adam.Step;
            adam.Update(model.Parameters, gradient, lr);
        }
        log?.Invoke($"lr {schedule.PeakLearningRate:G3}: distance {points[^1].Distance:G3} (relative {points[^1].RelativeDistance:G3}), SPD vs gradient EM {points[^1].SpdGradientEm:G3}, excess MSE {points[^1].ExcessMse:G3} (gradient EM {gemExcess:G3}), {backoffs} backoffs");
        return points;
    }
}
