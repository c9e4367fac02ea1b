using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;
using TorchSharp;

namespace Qinco.TorchSharp;

/// <summary>
/// Loads and checks TorchSharp's native runtime (libtorch and its LibTorchSharp binding) and resolves device lists, with
/// errors that say what is missing and how to fix it. Every type of this package calls it before its first torch call.
/// </summary>
/// <remarks>
/// The check loads LibTorchSharp itself first (<see cref="NativeLibrary.Load(string, System.Reflection.Assembly, DllImportSearchPath?)"/>)
/// and only then lets TorchSharp initialise: when the runtime is missing, TorchSharp's own loader would otherwise report
/// it as an unreferenced package even when the cause is a too old C++ library, and would copy every libtorch binary it
/// finds in the NuGet cache (hundreds of MB) into the application's folder. The outcome is computed once per process.
/// </remarks>
public static class TorchRuntime
{
    /// <summary>The libtorch version TorchSharp 0.107 binds (its runtime packages carry this version).</summary>
    public const string LibTorchVersion = "2.10.0";

    private static readonly Lazy<string?> LoadFailure = new(TryLoad);

    /// <summary>Whether TorchSharp's native runtime loads in this process.</summary>
    /// <param name="reason">Null when it loads; otherwise why not and how to fix it (the text of <see cref="TorchRuntimeException"/>).</param>
    public static bool IsAvailable(out string? reason)
    {
        reason = LoadFailure.Value;
        return reason is null;
    }

    /// <summary>Loads TorchSharp's native runtime, once per process.</summary>
    /// <exception cref="TorchRuntimeException">It does not load; the message names the cause and the fix.</exception>
    public static void EnsureAvailable()
    {
        if (LoadFailure.Value is string reason)
        {
            throw new TorchRuntimeException(reason);
        }
    }

    /// <summary>
    /// Parses a device list without loading anything: comma-separated <c>cpu</c>, <c>cuda</c> (every visible CUDA device),
    /// <c>cuda:N</c>, or <c>cuda:N</c>/<c>cpu</c> repeated (e.g. <c>"cpu,cpu"</c>: two CPU replicas, for tests).
    /// </summary>
    /// <param name="devices">The list, e.g. <c>"cuda:0,cuda:1"</c>; case and spaces are ignored.</param>
    /// <returns>The entries, lower case, in order (<c>cuda</c> stays unexpanded).</returns>
    /// <exception cref="ArgumentException">Empty, or an entry that is none of these; the message names it.</exception>
    public static IReadOnlyList<string> ParseDevices(string devices)
    {
        ArgumentNullException.ThrowIfNull(devices);
        var entries = new List<string>();
        foreach (string raw in devices.Split(','))
        {
            string entry = raw.Trim().ToLowerInvariant();
            bool valid = entry is "cpu" or "cuda"
                || (entry.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(entry.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out _));
            if (!valid)
            {
                throw new ArgumentException($"Device '{raw.Trim()}' in '{devices}' is not one of cpu, cuda, cuda:N (a comma-separated list, e.g. \"cuda:0,cuda:1\").", nameof(devices));
            }
            entries.Add(entry);
        }
        return entries;
    }

    /// <summary>
    /// Parses <paramref name="devices"/> (<see cref="ParseDevices"/>), loads the runtime and checks that every device
    /// exists: <c>cuda</c> expands to every visible CUDA device.
    /// </summary>
    /// <returns>The torch devices, one per replica, in the order given.</returns>
    /// <exception cref="ArgumentException">The list does not parse.</exception>
    /// <exception cref="TorchRuntimeException">The runtime does not load, CUDA is not available, or a CUDA index is not
    /// visible; the message names the device, what TorchSharp sees and the fix.</exception>
    public static IReadOnlyList<torch.Device> ResolveDevices(string devices)
    {
        IReadOnlyList<string> entries = ParseDevices(devices);
        EnsureAvailable();
        var resolved = new List<torch.Device>();
        foreach (string entry in entries)
        {
            if (entry == "cpu")
            {
                resolved.Add(torch.CPU);
                continue;
            }
            int count = CudaDeviceCount();
            if (count == 0)
            {
                throw new TorchRuntimeException(
                    $"Device '{entry}' was requested but CUDA is not available to TorchSharp: the process loaded a CPU-only libtorch, or no NVIDIA "
                    + $"GPU and driver are visible. Reference a CUDA runtime package of libtorch {LibTorchVersion} (libtorch-cuda-12.8-linux-x64 or "
                    + "libtorch-cuda-12.8-win-x64, or TorchSharp-cuda-linux / TorchSharp-cuda-windows) instead of libtorch-cpu-*, on a machine with a GPU; "
                    + "or train on \"cpu\".");
            }
            if (entry == "cuda")
            {
                for (int i = 0; i < count; i++)
                {
                    resolved.Add(new torch.Device(DeviceType.CUDA, i));
                }
                continue;
            }
            int index = int.Parse(entry.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture);
            if (index >= count)
            {
                throw new TorchRuntimeException(
                    $"Device '{entry}' was requested but TorchSharp sees {count} CUDA device{(count == 1 ? string.Empty : "s")} (cuda:0..cuda:{count - 1}); "
                    + "check CUDA_VISIBLE_DEVICES and nvidia-smi.");
            }
            resolved.Add(new torch.Device(DeviceType.CUDA, index));
        }
        return resolved;
    }

    /// <summary>Number of CUDA devices TorchSharp can use (0 without a CUDA runtime or GPU).</summary>
    /// <exception cref="TorchRuntimeException">The runtime does not load.</exception>
    public static int CudaDeviceCount()
    {
        EnsureAvailable();
        try
        {
            return torch.cuda.is_available() ? torch.cuda.device_count() : 0;
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or ExternalException or DllNotFoundException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Turns the dynamic loader's message for LibTorchSharp into a diagnosis and a fix. A GLIBCXX version error means the
    /// system's libstdc++ is older than the one TorchSharp was built with (0.107.0 needs GLIBCXX_3.4.32, GCC 13's;
    /// Debian 12 ships 3.4.30); a missing libtorch library means no runtime package is referenced.
    /// </summary>
    internal static string Explain(string loaderMessage)
    {
        const string Packages = "Reference one runtime package of libtorch " + LibTorchVersion + " in the application: libtorch-cpu-linux-x64 / "
            + "libtorch-cpu-win-x64 / libtorch-cpu-osx-arm64 (or TorchSharp-cpu), or for GPUs libtorch-cuda-12.8-linux-x64 / "
            + "libtorch-cuda-12.8-win-x64 (or TorchSharp-cuda-linux / TorchSharp-cuda-windows); Qinco.TorchSharp references only the managed "
            + "bindings (TorchSharp), so the choice is the application's.";
        string detail = " The loader said: " + Essential(loaderMessage);
        if (loaderMessage.Contains("GLIBCXX_", StringComparison.Ordinal) || loaderMessage.Contains("CXXABI_", StringComparison.Ordinal))
        {
            return "TorchSharp's native binding (LibTorchSharp, TorchSharp 0.107) needs a newer C++ runtime than this system's libstdc++.so.6 "
                + "(it was built with GCC 13 and asks for GLIBCXX_3.4.32; Debian 12 ships GLIBCXX_3.4.30). Start the process with a libstdc++.so.6 "
                + "from GCC 13 or later first on LD_LIBRARY_PATH, or run on a newer distribution (Debian 13, Ubuntu 24.04); TorchSharp's own "
                + "message for this case wrongly says that the libtorch package is not referenced. See docs/torchsharp.md." + detail;
        }
        if (loaderMessage.Contains("libtorch", StringComparison.OrdinalIgnoreCase) || loaderMessage.Contains("libc10", StringComparison.OrdinalIgnoreCase)
            || loaderMessage.Contains("torch_cpu", StringComparison.OrdinalIgnoreCase) || loaderMessage.Contains("LibTorchSharp", StringComparison.Ordinal))
        {
            return "TorchSharp's native runtime (libtorch) is not available to this application. " + Packages + detail;
        }
        return "TorchSharp's native runtime did not load. " + Packages + detail;
    }

    /// <summary>The loader's lines that say why, without the candidate paths it probed in vain (all of them if none says more).</summary>
    private static string Essential(string loaderMessage)
    {
        string[] lines = loaderMessage.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string[] causes = Array.FindAll(lines, l => !(l.StartsWith('/') && l.EndsWith("cannot open shared object file: No such file or directory", StringComparison.Ordinal))
            && !l.StartsWith("Unable to load shared library", StringComparison.Ordinal));
        return string.Join(" ", causes.Length > 0 ? causes : lines);
    }

    private static string? TryLoad()
    {
        try
        {
            NativeLibrary.Load("LibTorchSharp", typeof(torch).Assembly, null);
        }
        catch (DllNotFoundException ex)
        {
            return Explain(ex.Message);
        }
        catch (BadImageFormatException ex)
        {
            return Explain(ex.Message);
        }
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            return null;
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or DllNotFoundException or TypeInitializationException or ExternalException)
        {
            return Explain(ex.Message);
        }
    }
}

/// <summary>TorchSharp's native runtime or a requested torch device is not available; the message names the cause and the fix.</summary>
public sealed class TorchRuntimeException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is missing and how to fix it.</param>
    public TorchRuntimeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with no message.</summary>
    public TorchRuntimeException()
    {
    }

    /// <summary>Creates the exception around <paramref name="innerException"/>.</summary>
    /// <param name="message">What is missing and how to fix it.</param>
    /// <param name="innerException">The failure underneath.</param>
    public TorchRuntimeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
