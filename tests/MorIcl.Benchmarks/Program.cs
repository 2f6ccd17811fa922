using BenchmarkDotNet.Running;

namespace MorIcl.Benchmarks;

public static class Program
{
    // dotnet run -c Release --project tests/MorIcl.Benchmarks -- --filter '*EmIteration*'
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
