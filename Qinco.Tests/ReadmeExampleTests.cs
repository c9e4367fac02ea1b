using System;
using System.IO;
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
    public void Readme_ShowsThisExample() => ReadmeBlocks.AssertShows("library", Path.Combine("Qinco.Tests", "ReadmeExampleTests.cs"));

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
}
