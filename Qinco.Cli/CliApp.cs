using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Threading;
using Qinco.Cli.Commands;

namespace Qinco.Cli;

/// <summary>The <c>qinco</c> command line, callable in-process: parses, validates and runs one command.</summary>
internal static class CliApp
{
    /// <summary>Exit code of a successful run.</summary>
    public const int Success = 0;

    /// <summary>Exit code of a run that failed on its input (missing or corrupt file, inconsistent data).</summary>
    public const int Failure = 1;

    /// <summary>Exit code of a bad command line (unknown command or option, missing or malformed value).</summary>
    public const int Usage = 2;

    /// <summary>The command was interrupted (Ctrl+C): 128 + SIGINT, as shells report it.</summary>
    public const int Interrupted = 130;

    /// <summary>Runs the command line <paramref name="args"/>, writing results to <paramref name="stdout"/> and progress and errors to <paramref name="stderr"/>.</summary>
    /// <returns>0 on success, 1 when the command failed on its input, 2 for a bad command line.</returns>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var context = new CliContext(stdout, stderr, cancellationToken);
        RootCommand root = CreateRoot(context);
        var configuration = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };

        ParseResult result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            // A custom parser may run more than once for one token; print each message once.
            foreach (string message in result.Errors.Select(e => e.Message).Distinct(StringComparer.Ordinal))
            {
                stderr.WriteLine($"error: {message}");
            }
            stderr.WriteLine();
            WriteUsage(result, stderr);
            return Usage;
        }
        return result.Invoke(configuration);
    }

    /// <summary>Builds the root command with every sub-command.</summary>
    internal static RootCommand CreateRoot(CliContext context)
    {
        var root = new RootCommand("qinco: train, encode, decode and evaluate vector quantizers (RQ with beam search, QINCo1, QINCo2, IVF-QINCo), search compressed indexes; import and export the PyTorch reference's QINCo1 and QINCo2 models.");
        root.Subcommands.Add(TrainCommand.Create(context));
        root.Subcommands.Add(EncodeCommand.Create(context));
        root.Subcommands.Add(DecodeCommand.Create(context));
        root.Subcommands.Add(EvalCommand.Create(context));
        root.Subcommands.Add(IndexCommand.Create(context));
        root.Subcommands.Add(SearchCommand.Create(context));
        root.Subcommands.Add(TuneCommand.Create(context));
        root.Subcommands.Add(ReferenceCommands.Import(context));
        root.Subcommands.Add(ReferenceCommands.Export(context));
        root.Subcommands.Add(DemoCommand.Create(context));
        return root;
    }

    /// <summary>Writes the help of the command the parse stopped in (the root when none was named).</summary>
    internal static void WriteUsage(ParseResult result, TextWriter writer)
    {
        var path = new List<string>();
        for (var command = result.CommandResult; command is not null; command = command.Parent as System.CommandLine.Parsing.CommandResult)
        {
            if (command.Parent is not null)
            {
                path.Insert(0, command.Command.Name);
            }
        }
        path.Add("--help");
        ParseResult help = result.RootCommandResult.Command.Parse(path);
        help.Invoke(new InvocationConfiguration { Output = writer, Error = writer, EnableDefaultExceptionHandler = false });
    }
}
