using System;
using System.Globalization;
using System.Threading;
using NUnit.Framework;

namespace Qinco.TorchSharp.Tests;

/// <summary>
/// Runs before any test of the assembly, before any torch call: applies the GLIBCXX work-around where it is needed
/// (<see cref="GlibcxxWorkaround"/>) and records whether TorchSharp's runtime loads. Tests that need it call
/// <see cref="RequireRuntime"/>, which skips them with the loader's reason where it does not.
/// </summary>
[SetUpFixture]
public sealed class TorchSetup
{
    private static string? _skipReason;

    [OneTimeSetUp]
    public void ApplyWorkaroundAndLoad()
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        Thread.CurrentThread.CurrentCulture = CultureInfo.InvariantCulture;
        string? workaround = null;
        try
        {
            workaround = GlibcxxWorkaround.ApplyIfNeeded();
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.IO.IOException or UnauthorizedAccessException)
        {
            workaround = ex.Message;
        }
        if (workaround is not null)
        {
            TestContext.Progress.WriteLine("Qinco.TorchSharp.Tests: " + workaround);
        }
        if (!TorchRuntime.IsAvailable(out string? reason))
        {
            _skipReason = "TorchSharp's runtime does not load here, so the TorchSharp tests are skipped. " + (workaround is null ? string.Empty : workaround + " ") + reason;
            TestContext.Progress.WriteLine(_skipReason);
        }
        else
        {
            // Two intra-op threads: the CI machine has two cores, and the data-parallel tests run two replicas.
            global::TorchSharp.torch.set_num_threads(Math.Min(2, Environment.ProcessorCount));
        }
    }

    /// <summary>Skips the calling test (with the reason) when TorchSharp's runtime does not load.</summary>
    public static void RequireRuntime()
    {
        if (_skipReason is not null)
        {
            Assert.Ignore(_skipReason);
        }
    }
}
