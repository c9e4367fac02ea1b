using System;
using System.CommandLine;
using System.IO;
using Qinco.Core.IO;
using Qinco.Core;

namespace Qinco.Cli.Commands;

/// <summary>Runs a command body, turning the failures a user can cause into a one-line message and exit code 1.</summary>
internal static class CommandRunner
{
    /// <summary>
    /// Runs <paramref name="body"/> once the path options given in <paramref name="parse"/> are checked
    /// (<see cref="PathOptions.CheckGiven"/>); a failure becomes <c>error: message</c> and its exit code.
    /// </summary>
    public static int Execute(CliContext context, Func<int> body, ParseResult? parse = null)
    {
        try
        {
            if (parse is not null)
            {
                PathOptions.CheckGiven(parse);
            }
            return body();
        }
        catch (CliUsageException ex)
        {
            context.Error.WriteLine($"error: {ex.Message}");
            if (parse is not null)
            {
                context.Error.WriteLine();
                CliApp.WriteUsage(parse, context.Error);
            }
            return CliApp.Usage;
        }
        catch (VectorFileException ex)
        {
            return Fail(context, ex.Message);
        }
        catch (ModelFormatException ex)
        {
            return Fail(context, ex.Message);
        }
        catch (FileNotFoundException ex)
        {
            return Fail(context, ex.FileName is null ? ex.Message : $"{ex.FileName}: no such file.");
        }
        catch (DirectoryNotFoundException ex)
        {
            return Fail(context, ex.Message);
        }
        catch (IOException ex)
        {
            return Fail(context, ex.Message);
        }
        catch (UnauthorizedAccessException ex)
        {
            return Fail(context, ex.Message);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // Ctrl+C or SIGTERM: every file is written whole at the end (atomically), so an interrupted command wrote none.
            context.Error.WriteLine("interrupted: nothing was written.");
            return CliApp.Interrupted;
        }
        catch (OperationCanceledException)
        {
            return Fail(context, "cancelled.");
        }
        catch (CliException ex)
        {
            return Fail(context, ex.Message);
        }
        catch (ArgumentException ex)
        {
            // The library validates data against the model (dimensions, code sizes, prefix lengths) with ArgumentExceptions.
            return Fail(context, StripParameter(ex));
        }
        catch (InvalidOperationException ex)
        {
            return Fail(context, ex.Message);
        }
    }

    private static int Fail(CliContext context, string message)
    {
        context.Error.WriteLine($"error: {message}");
        return CliApp.Failure;
    }

    /// <summary>The message without the " (Parameter 'x')" suffix .NET appends.</summary>
    internal static string StripParameter(ArgumentException ex)
    {
        string message = ex.Message;
        int at = ex.ParamName is null ? -1 : message.LastIndexOf(" (Parameter '", StringComparison.Ordinal);
        return at > 0 ? message[..at] : message;
    }
}

/// <summary>A failure of a command on its input, reported as <c>error: message</c> with exit code 1.</summary>
/// <summary>A command line that parsed but holds a value the library rejects: exit code 2 with the usage, like a parse error.</summary>
internal sealed class CliUsageException : Exception
{
    public CliUsageException()
    {
    }

    public CliUsageException(string message) : base(message)
    {
    }

    public CliUsageException(string message, Exception innerException) : base(message, innerException)
    {
    }
}

internal sealed class CliException : Exception
{
    public CliException()
    {
    }

    public CliException(string message) : base(message)
    {
    }

    public CliException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
