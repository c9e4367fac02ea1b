using System;
using System.IO;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Qinco.Tests;

/// <summary>
/// Checks that a README code block (the <c>```csharp</c> block after <c>&lt;!-- example:NAME --&gt;</c>) is exactly the
/// code between <c>// README example begins</c> and <c>// README example ends</c> of a test file, which runs it.
/// Shared with Qinco.TorchSharp.Tests (linked).
/// </summary>
internal static class ReadmeBlocks
{
    /// <summary>Fails unless README.md's block <paramref name="name"/> is the marked code of <paramref name="testFile"/> (relative to the repository root), up to indentation.</summary>
    public static void AssertShows(string name, string testFile)
    {
        string root = Path.GetDirectoryName(FindReadme())!;
        string readme = File.ReadAllText(Path.Combine(root, "README.md"));
        Match block = Regex.Match(readme, $"<!-- example:{name} -->\\s*```csharp\\n(?<code>.*?)```", RegexOptions.Singleline);
        Assert.That(block.Success, $"README.md has a ```csharp block after <!-- example:{name} -->");
        Assert.That(Normalize(block.Groups["code"].Value), Is.EqualTo(Normalize(MarkedSource(Path.Combine(root, testFile)))),
            $"README.md's {name} example and the marked code of {testFile} differ: copy one into the other.");
    }

    /// <summary>The lines between the marker comments, as written in the file.</summary>
    private static string MarkedSource(string path)
    {
        string source = File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal);
        const string begin = "// README example begins\n", end = "// README example ends";
        int start = source.IndexOf(begin, StringComparison.Ordinal) + begin.Length;
        int stop = source.LastIndexOf('\n', source.IndexOf(end, StringComparison.Ordinal)) + 1;
        return source[start..stop];
    }

    /// <summary>Drops the indentation, trailing spaces and line-ending differences.</summary>
    private static string Normalize(string code)
    {
        string[] lines = code.Replace("\r\n", "\n", StringComparison.Ordinal).Trim('\n').Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            lines[i] = lines[i].Trim();
        }
        return string.Join('\n', lines);
    }

    private static string FindReadme()
    {
        for (DirectoryInfo? dir = new(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "README.md");
            if (File.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "Qinco.sln")))
            {
                return candidate;
            }
        }
        Assert.Fail("README.md not found above the test directory.");
        return string.Empty;
    }
}
