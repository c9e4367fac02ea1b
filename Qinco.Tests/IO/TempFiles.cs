using System;
using System.IO;
using NUnit.Framework;

namespace Qinco.Tests.IO;

/// <summary>A base fixture giving each test its own temporary folder, deleted afterwards.</summary>
public abstract class TempFiles
{
    private string? _directory;

    /// <summary>The current test's temporary folder.</summary>
    protected string Directory => _directory ?? throw new InvalidOperationException("No test is running.");

    [SetUp]
    public void CreateTempDirectory()
    {
        _directory = Path.Combine(Path.GetTempPath(), "qinco-io-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(_directory);
    }

    [TearDown]
    public void DeleteTempDirectory()
    {
        if (_directory is not null && System.IO.Directory.Exists(_directory))
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
        _directory = null;
    }

    /// <summary>A path in the temporary folder.</summary>
    protected string PathOf(string fileName) => Path.Combine(Directory, fileName);
}
