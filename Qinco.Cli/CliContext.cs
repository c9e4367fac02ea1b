using System;
using System.IO;
using System.Threading;
using Spectre.Console;

namespace Qinco.Cli;

/// <summary>Where a command writes (results to <see cref="Out"/>, progress and errors to <see cref="Error"/>) and its cancellation.</summary>
internal sealed class CliContext
{
    private readonly Lazy<IAnsiConsole> _console;

    public CliContext(TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        Out = stdout;
        Error = stderr;
        CancellationToken = cancellationToken;
        _console = new Lazy<IAnsiConsole>(() => CreateConsole(stdout));
    }

    /// <summary>Results: summaries, tables, JSON.</summary>
    public TextWriter Out { get; }

    /// <summary>Progress lines and error messages.</summary>
    public TextWriter Error { get; }

    /// <summary>Signalled by Ctrl+C.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>A Spectre console over <see cref="Out"/> for tables (no colour codes when the output is not a terminal).</summary>
    public IAnsiConsole Console => _console.Value;

    private static IAnsiConsole CreateConsole(TextWriter writer)
    {
        bool terminal = ReferenceEquals(writer, System.Console.Out) && !System.Console.IsOutputRedirected;
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        if (!terminal)
        {
            console.Profile.Width = 160;
        }
        return console;
    }
}
