using System;
using System.IO;
using System.Linq;

namespace Qinco.Cli.Commands;

/// <summary>Checks an output path before any work, so a long run never fails at its end on a path it could not write.</summary>
internal static class OutputPath
{
    /// <summary>
    /// Throws <see cref="CliException"/>, naming <paramref name="path"/> as the user gave it, when it is a directory, has
    /// another extension than <paramref name="extensions"/> (none given: any), lies in a missing folder, or its
    /// folder cannot be written (probed with a temporary file, removed at once).
    /// </summary>
    public static void RequireWritable(string path, string flag, params string[] extensions)
    {
        // A directory first: its name usually has no extension, and "is a directory" is the fix the user needs.
        if (Directory.Exists(path))
        {
            throw new CliException($"{flag} {path} is a directory; give a file name.");
        }
        string extension = Path.GetExtension(path);
        if (extensions.Length > 0 && !extensions.Contains(extension, StringComparer.OrdinalIgnoreCase))
        {
            throw new CliException($"{flag} {path}: the extension '{extension}' is not one this command writes ({string.Join(", ", extensions)}).");
        }
        string folder = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        if (!Directory.Exists(folder))
        {
            throw new CliException($"{flag} {path}: the folder {folder} does not exist.");
        }
        string probe = Path.Combine(folder, $".qinco-write-probe-{Guid.NewGuid():N}");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw new CliException($"{flag} {path}: cannot write into {folder} ({ex.Message})");
        }
    }
}
