using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;

namespace Qinco.Cli.Commands;

/// <summary>
/// Path options that name a file a command reads or writes. <see cref="CommandRunner.Execute"/> checks every one the
/// user gave before the command body runs, so a wrong path fails at once, named as the user wrote it, rather than
/// after minutes of work or with a message about a temporary file the user never named.
/// </summary>
internal static class PathOptions
{
    /// <summary>What a path option names: a file to read (of <see cref="InputKind"/>) or to write (with one of <see cref="OutputExtensions"/>).</summary>
    private sealed record Role(string? InputKind, string[] OutputExtensions);

    // Weak keys: tests build many command trees, and an option's role must not outlive its command.
    private static readonly ConditionalWeakTable<Option, Role> Roles = new();

    /// <summary>An option naming a file to read; <paramref name="kind"/> completes "is a directory, not a(n) ... file".</summary>
    public static Option<string> Input(string name, string description, bool required, string kind, string helpName = "FILE")
    {
        Option<string> option = CliOptions.File(name, description, required, helpName);
        Roles.Add(option, new Role(kind, []));
        return option;
    }

    /// <summary>An option naming a file to write, with one of <paramref name="extensions"/> (none given: any).</summary>
    public static Option<string> Output(string name, string description, bool required, string helpName = "FILE", params string[] extensions)
    {
        Option<string> option = CliOptions.File(name, description, required, helpName);
        Roles.Add(option, new Role(null, extensions));
        return option;
    }

    /// <summary>
    /// Throws <see cref="CliException"/> for the first input path given that is a directory, then for the first output
    /// path given that cannot be written (<see cref="OutputPath.RequireWritable"/>). A missing input is left to its reader
    /// (it says "no such file" when it opens it), so that options the library rejects are reported first, as usage errors.
    /// </summary>
    public static void CheckGiven(ParseResult parse)
    {
        var given = new List<(string Flag, string Path, Role Role)>();
        foreach (OptionResult result in parse.CommandResult.Children.OfType<OptionResult>())
        {
            if (result.Option is Option<string> pathOption && Roles.TryGetValue(pathOption, out Role? role) && parse.GetValue(pathOption) is string path)
            {
                given.Add((pathOption.Name, path, role));
            }
        }
        foreach ((string flag, string path, Role role) in given)
        {
            if (role.InputKind is string kind)
            {
                RequireNotDirectory(path, flag, kind);
            }
        }
        foreach ((string flag, string path, Role role) in given)
        {
            if (role.InputKind is null)
            {
                OutputPath.RequireWritable(path, flag, role.OutputExtensions);
                RequireNotAnInput(flag, path, given);
            }
        }
    }

    /// <summary>
    /// Throws when an output is one of the command's inputs (decode --out over its --codes): the result would replace
    /// what it was computed from. Writing an index over its own --index is the documented in-place update, so allowed.
    /// </summary>
    private static void RequireNotAnInput(string outputFlag, string outputPath, List<(string Flag, string Path, Role Role)> given)
    {
        string output = Path.GetFullPath(outputPath);
        foreach ((string flag, string path, Role role) in given)
        {
            if (role.InputKind is not null && flag != "--index" && string.Equals(Path.GetFullPath(path), output, StringComparison.Ordinal))
            {
                throw new CliException($"{outputFlag} {outputPath} is also the {flag} input: writing it would replace what the command reads; choose another file.");
            }
        }
    }

    /// <summary>Throws <see cref="CliException"/>, naming <paramref name="path"/> as given, when it is a directory.</summary>
    public static void RequireNotDirectory(string path, string flag, string kind)
    {
        if (Directory.Exists(path))
        {
            // Opening a directory as a file reports "Access to the path is denied", which sends the user after permissions.
            throw new CliException($"{flag} {path} is a directory, not {Article(kind)} {kind} file.");
        }
    }

    private static string Article(string word) => "aeiou".Contains(char.ToLowerInvariant(word[0])) ? "an" : "a";
}
