using System.Globalization;

namespace MorIcl.Training.Gpt;

/// <summary>
/// Hyper-parameters of the GPT-2-style encoder (<see cref="GptModel"/>): input dimension d, L blocks,
/// width D, H heads of width D/H, and the standard deviation s of the initial weights. The named sizes
/// follow the Garg et al. (2022) / Bai et al. (2023) harness: "tiny" L = 3, D = 64, H = 2 and
/// "small" L = 6, D = 128, H = 4.
/// </summary>
public sealed record GptConfig
{
    public int InputDimension { get; }
    public int Layers { get; }
    public int Width { get; }
    public int Heads { get; }
    public double InitScale { get; }

    /// <summary>The GPT-2 initial weight scale.</summary>
    public const double DefaultInitScale = 0.02;

    public GptConfig(int inputDimension, int layers, int width, int heads, double initScale = DefaultInitScale)
    {
        if (inputDimension < 1) throw new SpecificationException($"the input dimension d must be at least 1, got {inputDimension}");
        if (layers < 1) throw new SpecificationException($"the number of layers L must be at least 1, got {layers}");
        if (width < 1) throw new SpecificationException($"the width D must be at least 1, got {width}");
        if (heads < 1) throw new SpecificationException($"the number of heads H must be at least 1, got {heads}");
        if (width % heads != 0) throw new SpecificationException($"the width D = {width} is not divisible by the number of heads H = {heads}");
        if (!(initScale > 0) || !double.IsFinite(initScale)) throw new SpecificationException($"the initial weight scale must be a finite number > 0, got {initScale.ToString("R", CultureInfo.InvariantCulture)}");
        InputDimension = inputDimension; Layers = layers; Width = width; Heads = heads; InitScale = initScale;
    }

    /// <summary>Width of one head, D/H.</summary>
    public int HeadWidth => Width / Heads;
    /// <summary>Width of the MLP's hidden layer, 4D.</summary>
    public int HiddenWidth => 4 * Width;
    /// <summary>Width of a token, d + 1 (x and y).</summary>
    public int TokenWidth => InputDimension + 1;

    /// <summary>"tiny": L = 3, D = 64, H = 2.</summary>
    public static GptConfig Tiny(int inputDimension, double initScale = DefaultInitScale) => new(inputDimension, 3, 64, 2, initScale);
    /// <summary>"small": L = 6, D = 128, H = 4.</summary>
    public static GptConfig Small(int inputDimension, double initScale = DefaultInitScale) => new(inputDimension, 6, 128, 4, initScale);

    /// <summary>A named size ("tiny" or "small", case-insensitive).</summary>
    public static GptConfig Named(string size, int inputDimension, double initScale = DefaultInitScale) =>
        (size ?? "").Trim().ToLowerInvariant() switch
        {
            "tiny" => Tiny(inputDimension, initScale),
            "small" => Small(inputDimension, initScale),
            _ => throw new SpecificationException($"unknown GPT size '{size}': expected 'tiny' (L = 3, D = 64, H = 2) or 'small' (L = 6, D = 128, H = 4)"),
        };

    /// <summary>Canonical JSON of the configuration (fixed key order, invariant round-trip numbers).</summary>
    public string ToCanonicalJson() =>
        string.Create(CultureInfo.InvariantCulture,
            $"{{\"d\":{InputDimension},\"L\":{Layers},\"D\":{Width},\"H\":{Heads},\"initScale\":{InitScale.ToString("R", CultureInfo.InvariantCulture)}}}");
}
