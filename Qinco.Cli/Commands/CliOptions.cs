using System;
using System.CommandLine;
using System.Linq;
using System.CommandLine.Parsing;
using System.Collections.Generic;
using System.Globalization;
using Qinco.Core;
using Qinco.Core.IO;

namespace Qinco.Cli.Commands;

/// <summary>Option factories shared by the commands: files, row ranges, thread counts, invariant-culture numbers.</summary>
internal static class CliOptions
{
    /// <summary>A file path option.</summary>
    public static Option<string> File(string name, string description, bool required, string helpName = "FILE") => new(name)
    {
        Description = description,
        Required = required,
        HelpName = helpName,
    };

    /// <summary>A command with its options, in help order.</summary>
    public static Command Command(string name, string description, params Option[] options)
    {
        var command = new Command(name, description);
        foreach (Option option in options)
        {
            command.Options.Add(option);
        }
        return command;
    }

    /// <summary>An <c>A:B</c> row range (<see cref="RowRange.Parse"/>); absent means the whole file.</summary>
    public static Option<RowRange?> Rows(string name, string description) => new(name)
    {
        Description = description + " Written A:B (rows A..B-1), A: or :B; default: every row.",
        HelpName = "A:B",
        CustomParser = ParseRowRange,
    };

    /// <summary>The <c>--threads</c> option: -1 (default) uses all processors.</summary>
    public static Option<int> Threads() => new("--threads")
    {
        Description = "Threads to use; -1 uses all processors.",
        DefaultValueFactory = _ => -1,
        CustomParser = result =>
        {
            int value = ParseInt(result, "--threads");
            try
            {
                _ = new Parallelism(value); // the library's rule, checked once
            }
            catch (ArgumentOutOfRangeException)
            {
                result.AddError($"--threads must be -1 (all processors) or at least 1; got {value.ToString(CultureInfo.InvariantCulture)}.");
            }
            return value;
        },
    };

    /// <summary>An integer option with a default and a range, checked while parsing (invariant culture).</summary>
    public static Option<int> Int(string name, string description, int? defaultValue, int min = int.MinValue, int max = int.MaxValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = defaultValue is { } value ? _ => value : null,
        CustomParser = result =>
        {
            int value = ParseInt(result, name);
            if (result.Errors.Any())
            {
                return value;
            }
            bool ok = value >= min && value <= max;
            if (!ok)
            {
                string range = max == int.MaxValue ? $"at least {min}" : $"{min}..{max}";
                result.AddError($"{name} must be {range}; got {value.ToString(CultureInfo.InvariantCulture)}.");
            }
            return value;
        },
    };

    /// <summary>A positive floating-point option parsed in the invariant culture; <paramref name="defaultValue"/> null means "not set".</summary>
    /// <summary>A number option (finite; its range is the library's to check, <see cref="ValidateWithLibrary"/>).</summary>
    public static Option<double?> Double(string name, string description, double? defaultValue)
    {
        var option = new Option<double?>(name)
        {
            Description = description,
            CustomParser = result =>
            {
                string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
                {
                    result.AddError($"{name} expects a number such as 0.001; got '{text}'.");
                    return null;
                }
                return value;
            },
        };
        if (defaultValue is double d)
        {
            option.DefaultValueFactory = _ => d;
        }
        return option;
    }

    /// <summary>
    /// Runs <paramref name="build"/>, which builds the library's options from the command line so that the library
    /// validates them, once, with its own ranges; an invalid value becomes a <see cref="CliUsageException"/> naming the
    /// flag (via <paramref name="flags"/>: option name → flag).
    /// </summary>
    public static T ValidateWithLibrary<T>(IReadOnlyDictionary<string, string> flags, Func<T> build)
    {
        try
        {
            return build();
        }
        catch (ArgumentOutOfRangeException ex) when (ex.ParamName is not null)
        {
            string flag = flags.TryGetValue(ex.ParamName, out string? f) ? f : ex.ParamName;
            string message = ex.Message;
            int at = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
            throw new CliUsageException($"{flag}: {(at > 0 ? message[..at] : message)}");
        }
    }

    public static Option<bool> Bool(string name, string description, bool defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        Arity = ArgumentArity.ZeroOrOne,
    };

    /// <summary>Whether the user wrote <paramref name="option"/> on the command line (rather than taking its default).</summary>
    public static bool IsGiven(SymbolResult result, Option option)
    {
        OptionResult? found = result.GetResult(option);
        return found is not null && !found.Implicit;
    }

    /// <summary>The value of an option without a default, or null when the user did not write it.</summary>
    public static int? ValueIfGiven(ParseResult parse, Option<int> option) => IsGiven(parse.CommandResult, option) ? parse.GetValue(option) : null;

    private static int ParseInt(ArgumentResult result, string name)
    {
        string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value))
        {
            result.AddError($"{name} expects an integer; got '{text}'.");
            return 0;
        }
        return value;
    }

    private static RowRange? ParseRowRange(ArgumentResult result)
    {
        string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
        try
        {
            return RowRange.Parse(text);
        }
        catch (FormatException ex)
        {
            result.AddError(ex.Message);
            return null;
        }
    }
}
