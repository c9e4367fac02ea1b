using System;
using System.Globalization;
using System.Runtime.InteropServices;
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
        PreferPassiveOpenMpThreads();
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

    /// <summary>
    /// Sets <c>OMP_WAIT_POLICY=PASSIVE</c> in the native environment (unless set) before libtorch's OpenMP starts: on a
    /// machine shared with other jobs, or with two CPU replicas on two cores, spinning OpenMP workers slowed training
    /// steps about fivefold here (4.7 s against 0.94 s a step in TorchThroughputBenchmark under a load average of 15).
    /// .NET's <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not reach the C library's environment on Unix.
    /// </summary>
    private static void PreferPassiveOpenMpThreads()
    {
        if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null)
        {
            _ = NativeMethods.setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
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

/// <summary>The C library's <c>setenv</c> (Linux).</summary>
internal static partial class NativeMethods
{
    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int setenv(string name, string value, int overwrite);
}
