using System.CommandLine;

namespace MorIcl.Cli.Hosting;

/// <summary>Parse errors in words a user can act on: an unknown or missing command names the commands there are.</summary>
internal static class ParseErrors
{
    public static IEnumerable<string> Describe(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        string where = string.Join(" ", Path(parse.CommandResult));
        var subcommands = command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).ToArray();
        var unmatched = parse.UnmatchedTokens;
        if (subcommands.Length > 0)
        {
            var unknown = unmatched.FirstOrDefault(t => !t.StartsWith('-'));
            yield return unknown is not null
                ? $"unknown command '{unknown}' for '{where}'; the commands are {string.Join(", ", subcommands)}"
                : $"'{where}' needs a command: {string.Join(", ", subcommands)}";
            foreach (var t in unmatched.Where(t => t.StartsWith('-'))) yield return $"unknown option '{t}' for '{where}'";
            yield break;
        }
        foreach (var t in unmatched) yield return t.StartsWith('-') ? $"unknown option '{t}' for '{where}'" : $"unexpected argument '{t}' for '{where}'";
        var matched = new HashSet<string>(unmatched.Select(t => $"Unrecognized command or argument '{t}'."));
        foreach (var e in parse.Errors.Where(e => !matched.Contains(e.Message))) yield return InWords(e.Message);
    }

    private static readonly System.Text.RegularExpressions.Regex NotOfType =
        new(@"^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']+)' as expected type 'System\.(?<type>\w+)'\.$");

    /// <summary>System.CommandLine's "as expected type 'System.Int32'" said as what the option takes.</summary>
    internal static string InWords(string message)
    {
        var m = NotOfType.Match(message);
        if (!m.Success) return message;
        string? kind = m.Groups["type"].Value switch
        {
            "Int32" or "Int64" => "a whole number",
            "Double" or "Single" => "a number",
            "Boolean" => "true or false",
            _ => null,
        };
        return kind is null ? message : $"{m.Groups["option"].Value}: '{m.Groups["value"].Value}' is not {kind}";
    }

    private static IEnumerable<string> Path(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new Stack<string>();
        for (System.CommandLine.Parsing.SymbolResult? r = result; r is not null; r = r.Parent)
            if (r is System.CommandLine.Parsing.CommandResult c) names.Push(c.Parent is null ? "mor-icl" : c.Command.Name);
        return names;
    }
}
