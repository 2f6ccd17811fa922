using MorIcl.Construction;
using MorIcl.Construction.Model;
using MorIcl.Numerics;

namespace MorIcl.Cli.Commands;

/// <summary>
/// What compiling a construction needs, estimated before compiling it, so that S and T this machine
/// cannot hold are refused with exit code 2. The layer count is linear, L = c + S·(a + b·T) (per EM
/// iteration one E-step block and T gd_step blocks), and so is the weight count per layer: both are
/// measured on three small compilations (S, T ∈ {1, 2}) of the same specification and extrapolated,
/// at 40 bytes per non-zero weight (value, row and column index, list overhead) and 4 kB per layer.
/// </summary>
internal static class ConstructionMemory
{
    public static void Require(ConstructionSpec spec)
    {
        if (spec.EmIterations <= 2 && spec.GradientSteps <= 2) return;
        (double Layers, double Weights) Probe(int s, int t)
        {
            var m = Compiler.Compile(new ConstructionSpec(spec.Dimension, spec.Components, spec.Sigma, spec.Mixing.ToArray(), s, t, spec.StepSize,
                spec.InitialBeta, spec.Margin, spec.MaxPromptLength, spec.Symmetric, spec.EstimateMixing, spec.MixingFloor));
            return (m.Layers.Count, m.Layers.Sum(InspectCommand.NonZeros));
        }
        var p11 = Probe(1, 1); var p12 = Probe(1, 2); var p21 = Probe(2, 1);
        double S = spec.EmIterations, T = spec.GradientSteps;
        double Extrapolate(double v11, double v12, double v21)
        {
            double perIteration = v21 - v11, perStep = v12 - v11, fixedPart = v11 - perIteration;
            return fixedPart + S * (perIteration - perStep + perStep * T);
        }
        double layers = Extrapolate(p11.Layers, p12.Layers, p21.Layers), weights = Extrapolate(p11.Weights, p12.Weights, p21.Weights);
        MemoryBudget.Require(40 * weights + 4096 * layers, $"--em-iterations {spec.EmIterations} with --gd-steps {spec.GradientSteps} ({layers:G3} layers, {weights:G3} weights)");
    }
}
