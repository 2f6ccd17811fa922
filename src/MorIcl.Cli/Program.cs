namespace MorIcl.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        using var interrupt = new Hosting.Interrupt();
        int code = MorIclCli.Run(args, Console.Out, Console.Error, interrupt.Token, ownsProcess: true);
        // A command that finished before it noticed the signal still reports the interrupt.
        return interrupt.ExitCode != 0 && code is ExitCodes.Ok or ExitCodes.Interrupted ? interrupt.ExitCode : code;
    }
}
