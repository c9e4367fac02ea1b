using System.IO;
using NUnit.Framework;

namespace Qinco.Tests;

/// <summary>
/// Locates the shared real datasets (<c>shared/datasets</c>, see its README) from the test directory: for each
/// ancestor of <see cref="TestContext.CurrentContext"/>'s test directory it checks <c>&lt;ancestor&gt;/shared/datasets</c>
/// and <c>&lt;ancestor&gt;/../shared/datasets</c>.
/// </summary>
public static class TestData
{
    private static readonly string? s_datasetsDirectory = Locate();

    /// <summary>The datasets folder, or null where it is absent (outside this project's machines).</summary>
    public static string? DatasetsDirectory => s_datasetsDirectory;

    /// <summary>
    /// The full path of a file under the datasets folder (e.g. <c>"sift10k/sift10k_base.fvecs"</c>); marks the test as
    /// ignored, with a message, when the folder or the file is absent.
    /// </summary>
    public static string RequireDataset(string relativePath)
    {
        if (s_datasetsDirectory is null)
        {
            Assert.Ignore($"The shared datasets folder (shared/datasets next to an ancestor of {TestContext.CurrentContext.TestDirectory}) is absent; skipping a test that needs {relativePath}.");
        }
        string path = Path.GetFullPath(Path.Combine(s_datasetsDirectory!, relativePath));
        if (!File.Exists(path))
        {
            Assert.Ignore($"The dataset file {path} is absent; skipping.");
        }
        return path;
    }

    /// <summary>
    /// The full path of a file under the shared failing-inputs folder (<c>shared/cases</c>, see its README); marks the
    /// test as ignored, with a message, when it is absent.
    /// </summary>
    public static string RequireCase(string relativePath)
    {
        string? cases = s_datasetsDirectory is null ? null : Path.GetFullPath(Path.Combine(s_datasetsDirectory, "..", "cases", relativePath));
        if (cases is null || !File.Exists(cases))
        {
            Assert.Ignore($"The shared cases file {relativePath} (shared/cases beside shared/datasets) is absent; skipping.");
        }
        return cases!;
    }

    private static string? Locate()
    {
        for (DirectoryInfo? dir = new(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (string candidate in new[] { Path.Combine(dir.FullName, "shared", "datasets"), Path.Combine(dir.FullName, "..", "shared", "datasets") })
            {
                if (Directory.Exists(candidate))
                {
                    return Path.GetFullPath(candidate);
                }
            }
        }
        return null;
    }
}
