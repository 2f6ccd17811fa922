using System.Globalization;
using MorIcl.Construction;

namespace MorIcl.Cli.Commands;

/// <summary>A model's claimed specification in one line (verify --model).</summary>
internal static class VerifyModelText
{
    public static string Describe(ConstructionSpec s) => string.Create(CultureInfo.InvariantCulture,
        $"{(s.Symmetric ? "symmetric" : $"K = {s.Components}")}, d = {s.Dimension}, σ = {s.Sigma}, π = ({string.Join(", ", s.Mixing)}), S = {s.EmIterations}, T = {s.GradientSteps}, α = {s.StepSize}, n ≤ {s.MaxPromptLength}{(s.EstimateMixing ? ", π estimated" : "")}");
}
