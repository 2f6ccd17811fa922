using System.CommandLine;
using MorIcl.Cli.Commands;
using Spectre.Console;

namespace MorIcl.Cli;

/// <summary>Exit codes of <c>mor-icl</c>.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int InternalError = 1;
    public const int BadInput = 2;
    public const int OutOfDomain = 3;
    /// <summary><c>verify</c>: a proof check failed.</summary>
    public const int CheckFailed = 4;
    /// <summary>Stopped by Ctrl-C (SIGINT) after a clean stop: nothing new was written (a training run saved its checkpoint).</summary>
    public const int Interrupted = 130;
}

/// <summary>Where a command writes: plain text and JSON to <see cref="Out"/>, tables through
/// <see cref="Console"/>, one-line errors to <see cref="Err"/>.</summary>
public sealed class CliContext
{
    public TextWriter Out { get; }
    public TextWriter Err { get; }
    public IAnsiConsole Console { get; }
    /// <summary>A console on <see cref="Err"/>, for progress bars of commands whose stdout is data (JSON); null unless stderr is a terminal.</summary>
    public IAnsiConsole? ErrConsole { get; }

    /// <summary>Cancelled by Ctrl-C in the real process (<see cref="Hosting.Interrupt"/>); never in-process.</summary>
    public CancellationToken Interrupt { get; }

    public CliContext(TextWriter output, TextWriter error, CancellationToken interrupt = default)
    {
        Out = output; Err = error; Interrupt = interrupt;
        Console = Create(output, ReferenceEquals(output, System.Console.Out));
        // Tables written to a file or pipe are not squeezed to 80 columns.
        if (!ReferenceEquals(output, System.Console.Out) || System.Console.IsOutputRedirected) Console.Profile.Width = 240;
        if (ReferenceEquals(error, System.Console.Error) && !System.Console.IsErrorRedirected) ErrConsole = Create(error, true);
    }

    private static IAnsiConsole Create(TextWriter writer, bool terminal) => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(writer),
        Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
        ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        Interactive = InteractionSupport.No,
    });
}

/// <summary>The <c>mor-icl</c> command line. Runs in-process so tests call it directly.</summary>
public static class MorIclCli
{
    /// <param name="interrupt">Cancelled by Ctrl-C (the real process); commands stop cleanly and exit 130.</param>
    /// <param name="ownsProcess">The caller is the process itself: <c>--threads</c> may also pin its cores (<see cref="Hosting.CpuAffinity"/>).</param>
    public static int Run(string[] args, TextWriter output, TextWriter error, CancellationToken interrupt = default, bool ownsProcess = false)
    {
        var ctx = new CliContext(output, error, interrupt);
        var root = Root(ctx);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in Hosting.ParseErrors.Describe(parse)) error.WriteLine($"mor-icl: error: {e}");
            error.WriteLine("Run 'mor-icl --help' for usage.");
            return ExitCodes.BadInput;
        }
        int? threads;
        try { threads = Hosting.ThreadsOption.Read(parse); }
        catch (SpecificationException e) { error.WriteLine($"mor-icl: error: {e.Message}"); return ExitCodes.BadInput; }
        if (ownsProcess && (threads ?? Environment.ProcessorCount) is int cores) Hosting.CpuAffinity.Limit(cores);
        using var parallelism = Numerics.Parallelism.Use(threads, interrupt);
        return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
    }

    /// <summary>Every command, as the parser sees them (tests parse README's command lines with it).</summary>
    internal static RootCommand Root(CliContext ctx) => new("MorIcl: transformers that learn mixtures of linear regressions in context — construction, runtime, reference EM and proof checks.")
    {
        DemoCommand.Create(ctx),
        SampleCommand.Create(ctx),
        EmCommand.Create(ctx),
        ConstructCommand.Create(ctx),
        RunCommand.Create(ctx),
        InspectCommand.Create(ctx),
        VerifyCommand.Create(ctx),
        Seed003Command.Create(ctx),
        TrainCommand.Create(ctx),
        CompareCommand.Create(ctx),
        Seed000Command.Create(ctx),
        ExportCommand.Create(ctx),
        ImportCommand.Create(ctx),
        ProbeCommand.Create(ctx),
        MatchCommand.Create(ctx),
        BoundsCommand.Create(ctx),
    };

    /// <summary>
    /// Runs a command body: user errors become one line on stderr and exit code 2 (bad input, an
    /// unwritable destination, too little memory for what was asked), Ctrl-C exit code 130; only a
    /// bug is an internal error (exit code 1).
    /// </summary>
    internal static int Guard(CliContext ctx, string command, Func<int> body)
    {
        try { return body(); }
        catch (Exception e) when (IsUserError(e))
        {
            ctx.Err.WriteLine($"mor-icl {command}: error: {UserMessage(e)}");
            return ExitCodes.BadInput;
        }
        catch (OperationCanceledException) when (ctx.Interrupt.IsCancellationRequested)
        {
            ctx.Err.WriteLine($"mor-icl {command}: interrupted; nothing was written");
            return ExitCodes.Interrupted;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("MORICL_DEBUG") is null)
        {
            ctx.Err.WriteLine($"mor-icl {command}: internal error: {e.GetType().Name}: {e.Message} (set MORICL_DEBUG=1 for the stack trace)");
            return ExitCodes.InternalError;
        }
    }

    private static bool IsUserError(Exception e) =>
        e is MorIclException or Construction.ConstructionException or OutOfMemoryException or IOException or UnauthorizedAccessException;

    private static string UserMessage(Exception e) => e switch
    {
        OutOfMemoryException => "not enough memory for this input (reduce the sizes asked for, e.g. --prompt-length, --prompts or --batch)",
        UnauthorizedAccessException => $"permission denied: {e.Message}",
        _ => e.Message,
    };
}
