namespace MorIcl.Cli;

public static class Program
{
    public static int Main(string[] args) => MorIclCli.Run(args, Console.Out, Console.Error);
}
