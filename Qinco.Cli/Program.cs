namespace Qinco.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        System.Console.WriteLine("qinco: commands arrive with the RQ issue.");
        return args.Length == 0 ? 0 : 2;
    }
}
