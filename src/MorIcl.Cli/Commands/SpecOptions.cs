using System.CommandLine;
using MorIcl.Construction;
using MorIcl.IO;

namespace MorIcl.Cli.Commands;

/// <summary>The construction specification's flags, shared by <c>construct</c> and <c>inspect</c>.</summary>
internal sealed class SpecOptions
{
    public readonly Option<int> Dim = new("--dim") { Description = "Dimension d." };
    public readonly Option<int> Components = new("--components") { Description = "Components K (2 with --symmetric)." };
    public readonly Option<int> EmIterations = new("--em-iterations") { Description = "Outer EM iterations S." };
    public readonly Option<int> GdSteps = new("--gd-steps") { Description = "Inner gradient steps T per M-step." };
    public readonly Option<double> StepSize = new("--step-size") { Description = "Step size α." };
    public readonly Option<double> Sigma = new("--sigma") { Description = "Known noise level σ." };
    public readonly Option<string?> Mixing = new("--mixing") { Description = "Known mixing weights π (default uniform; symmetric: π, 1 − π)." };
    public readonly Option<bool> Symmetric = new("--symmetric") { Description = "The symmetric two-component program (tanh form)." };
    public readonly Option<string?> Init = new("--init") { Description = "β⁽⁰⁾ as JSON (the 'beta' field of the em --init format)." };
    public readonly Option<double> Margin = new("--margin") { Description = "Margin R of positional and exclusion scores.", DefaultValueFactory = _ => ConstructionSpec.DefaultMargin };
    public readonly Option<bool> EstimateMixing = new("--estimate-mixing") { Description = "Estimate π in context (--mixing is then π⁽⁰⁾); adds an approximate log operator." };
    public readonly Option<int> MaxLength = new("--max-prompt-length") { Description = "Longest prompt the positional scheme encodes.", DefaultValueFactory = _ => ConstructionSpec.DefaultMaxPromptLength };

    private Option[] Required => new Option[] { Dim, Components, EmIterations, GdSteps, StepSize, Sigma };

    public void AddTo(Command cmd, bool required)
    {
        foreach (var o in Required) { o.Required = required; cmd.Add(o); }
        cmd.Add(Mixing); cmd.Add(Symmetric); cmd.Add(Init); cmd.Add(Margin); cmd.Add(MaxLength); cmd.Add(EstimateMixing);
    }

    /// <summary>True when any of the required specification flags was given.</summary>
    public bool AnyGiven(ParseResult r) => Required.Any(o => r.GetResult(o) is not null);

    public ConstructionSpec Build(ParseResult r)
    {
        foreach (var o in Required)
            if (r.GetResult(o) is null) throw new SpecificationException($"{o.Name} is required to specify a construction");
        int d = r.GetValue(Dim), k = r.GetValue(Components);
        if (k < 1) throw new SpecificationException($"--components must be at least 1, got {k}");
        bool symmetric = r.GetValue(Symmetric);
        var mixingText = r.GetValue(Mixing);
        double[]? mixing = mixingText is null ? (symmetric ? new[] { 0.5, 0.5 } : null) : OptionParsing.Mixing(mixingText, k, "--mixing");
        double[][]? beta0 = null;
        var initPath = r.GetValue(Init);
        Func<double[][]?, ConstructionSpec> make = b => new ConstructionSpec(d, k, r.GetValue(Sigma), mixing, r.GetValue(EmIterations), r.GetValue(GdSteps),
            r.GetValue(StepSize), b, r.GetValue(Margin), r.GetValue(MaxLength), symmetric, r.GetValue(EstimateMixing));
        if (initPath is not null)
        {
            beta0 = ParametersJson.Read(initPath).Beta;
            try { return make(beta0); }
            catch (ConstructionException e) when (e.Parameter == "InitialBeta") { throw new InputException($"{initPath}: {e.Message}"); }
        }
        return make(beta0);
    }
}
