using System.CommandLine;

namespace MorIcl.Cli.Hosting;

/// <summary>
/// <c>--threads N</c>, the one thread-count option: add it to every command that computes in
/// parallel (<see cref="AddTo"/>); <see cref="MorIclCli.Run"/> reads it before the command runs and
/// applies it process-wide (<see cref="MorIcl.Numerics.Parallelism.Use"/>, and in the real process
/// <see cref="CpuAffinity"/>), so a command body never handles it.
/// </summary>
internal static class ThreadsOption
{
    public const string Name = "--threads";
    public const int Maximum = 1024;

    public static void AddTo(Command cmd) => cmd.Add(new Option<int?>(Name)
    {
        Description = "Threads for parallel work (default: all cores, as DOTNET_PROCESSOR_COUNT says). Results are identical for every N.",
    });

    /// <summary>The value given to the invoked command, or null (all cores); throws for N &lt; 1 or N &gt; 1024.</summary>
    public static int? Read(ParseResult parse)
    {
        var option = parse.CommandResult.Command.Options.OfType<Option<int?>>().FirstOrDefault(o => o.Name == Name);
        if (option is null || parse.GetValue(option) is not int n) return null;
        if (n < 1 || n > Maximum) throw new SpecificationException($"{Name} must be between 1 and {Maximum}, got {n}");
        return n;
    }
}
