using System;
using System.IO;
using System.Text.RegularExpressions;
using NUnit.Framework;
using Qinco.Core;

namespace Qinco.Tests;

/// <summary>The README's library example, compiled and run here; a test checks the README holds exactly this code.</summary>
public sealed class ReadmeExampleTests
{
    [Test]
    public void Example_Runs()
    {
        string path = Path.Combine(Path.GetTempPath(), $"qinco-readme-{Guid.NewGuid():N}.qinco");
        try
        {
            Example(path);
            Assert.That(File.Exists(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Readme_ShowsThisExample()
    {
        string readme = File.ReadAllText(FindReadme());
        Match block = Regex.Match(readme, "<!-- example:library -->\\s*```csharp\\n(?<code>.*?)```", RegexOptions.Singleline);
        Assert.That(block.Success, "README.md has a ```csharp block after <!-- example:library -->");
        Assert.That(Normalize(block.Groups["code"].Value), Is.EqualTo(Normalize(ExampleSource())),
            "README.md's library example and ReadmeExampleTests.Example differ: copy one into the other.");
    }

    private static void Example(string path)
    {
        // README example begins
        VectorSet train = SyntheticData.Generate(count: 2000, dimension: 32, seed: 1);
        VectorSet database = SyntheticData.Generate(count: 500, dimension: 32, seed: 2);

        IQuantizer rq = Quantizer.Residual(dimension: 32).WithSteps(4).WithCodebookBits(6).WithBeamWidth(5).Build();
        rq.Fit(train);

        CodeSet codes = rq.Encode(database);                 // 500 codes of rq.CodeSize bytes (rq.Layout)
        VectorSet decoded = rq.Decode(codes);                // reconstructions
        VectorSet coarse = rq.Decode(codes, steps: 2);       // only the first 2 code indices

        rq.Save(path);                                       // atomic: written beside, then renamed
        IQuantizer loaded = Quantizer.Load(path);
        Console.WriteLine($"{loaded.Kind}: {loaded.CodeSize} bytes/vector, {decoded.Count} vectors decoded");
        // README example ends

        Assert.That(codes.Data, Has.Length.EqualTo(500 * rq.CodeSize));
        Assert.That(loaded.Encode(database).Data, Is.EqualTo(codes.Data));
        Assert.That(coarse.Count, Is.EqualTo(500));
    }

    /// <summary>The lines between the marker comments of <see cref="Example"/>, as written in this file.</summary>
    private static string ExampleSource()
    {
        string source = File.ReadAllText(Path.Combine(Path.GetDirectoryName(FindReadme())!, "Qinco.Tests", "ReadmeExampleTests.cs"));
        const string begin = "// README example begins\n", end = "// README example ends";
        source = source.Replace("\r\n", "\n", StringComparison.Ordinal);
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
