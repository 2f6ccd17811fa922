using System.Globalization;
using MorIcl.Mixture;

namespace MorIcl.Cli.Commands;

/// <summary>Parsing of option values that System.CommandLine leaves as strings.</summary>
internal static class OptionParsing
{
    /// <summary>A comma-separated list of finite numbers, e.g. <c>--mixing 0.3,0.7</c>.</summary>
    public static double[] Numbers(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var r = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out r[i]))
                throw new SpecificationException($"{option}: '{parts[i]}' is not a number");
            if (!double.IsFinite(r[i])) throw new SpecificationException($"{option}: {parts[i]} is not a finite number");
        }
        return r;
    }

    public static double[] Mixing(string? text, int k, string option)
    {
        if (text is null) return Enumerable.Repeat(1.0 / k, k).ToArray();
        var m = Numbers(text, option);
        try { MixtureSpec.ValidateMixing(m, k, option); }
        catch (SpecificationException e) { throw new SpecificationException(e.Message); }
        return m;
    }

    public static MixtureMode Mode(string text) => text switch
    {
        "per-sample" => MixtureMode.PerSample,
        "per-prompt" => MixtureMode.PerPrompt,
        _ => throw new SpecificationException($"--mode: '{text}' is not a mode; use per-sample or per-prompt"),
    };

    public static string Format(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    public static string Vector(IEnumerable<double> v) => "[" + string.Join(", ", v.Select(Format)) + "]";
}
