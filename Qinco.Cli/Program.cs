using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Qinco.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // The first Ctrl+C asks the running command to stop cleanly; a second one ends the process.
            if (!cancellation.IsCancellationRequested)
            {
                e.Cancel = true;
                cancellation.Cancel();
            }
        };
        // SIGTERM (kill, a job scheduler's stop) is handled as Ctrl+C: the command stops cleanly, removes its temporary
        // file and saves what training has so far, instead of dying with a half-written file beside the output.
        using PosixSignalRegistration terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            if (!cancellation.IsCancellationRequested)
            {
                context.Cancel = true;
                cancellation.Cancel();
            }
        });
        return CliApp.Run(args, Console.Out, Console.Error, cancellation.Token);
    }
}
