namespace MorIcl.Verification;

/// <summary>
/// A statement of a seed paper that has no numerical check, with the reason and what was tried; the
/// verify report lists these after the checks, so that a reader sees what is not covered and why.
/// </summary>
public sealed record UncheckedStatement(string Name, string Statement, string Reason, string Details)
{
    /// <summary>Every statement that is not checked (docs/math.md §10.12 for Theorem 2.3).</summary>
    public static IReadOnlyList<UncheckedStatement> All { get; } = new[]
    {
        new UncheckedStatement(
            "Theorem2_3",
            "seed 000 Theorem 2.3: constrained ERM (12) over L-layer, M-head transformers with norm ≤ B_θ and clipped predictions, pre-trained on B prompts, has excess test risk Õ(1/√B)",
            "no available optimiser reaches the constrained empirical minimum of this class, so a measured generalisation gap would test the optimiser, not the theorem",
            "Tried: the trainable constructed architecture (symmetric d = 2, σ = 0.2, π = 0.7, S = 2, T = 1, α = 1, n = 10), ‖θ‖₂ ≤ 1.1‖θ_c‖₂ by projection after every step, "
            + "predictions clipped to ±3√(E y²), projected Adam (batch 32, 300 steps) from the construction θ_c with and without N(0, 0.01²) noise, learning rates 1e−3 and 1e−4, "
            + "margins R = 4096 and 64, pools B ∈ {64, 256, 1024}, two pools each, test risk on 2 000 fresh prompts. The training risk rose above the construction's own test risk "
            + "(5.35 at B = 64, 1.13 at 256, 1.02 at 1024, against 0.84), some pools gave non-finite predictions, and the gap was negative at B = 1024 (−0.027): a step of 1e−3 in one "
            + "positional weight moves a score by up to 31²·1e−3 ≈ 1, which breaks the exact positional scores that keep non-admitted ReLU scores ≤ 0. Derivation and details: docs/math.md §10.12."),
    };
}
