using System;
using System.Runtime.Intrinsics;
using System.Threading;

namespace Qinco.Core.Numerics;

/// <summary>Chooses the <see cref="KernelVariant"/> that the numeric kernels run with.</summary>
public static class Kernels
{
    /// <summary>The environment variable that forces a variant (<c>Scalar</c>, <c>Vector128</c>, <c>Vector256</c>, <c>Vector512</c>).</summary>
    public const string ForceVariable = "QINCO_KERNEL";

    /// <summary>The widest variant this CPU accelerates, ignoring any forcing.</summary>
    public static KernelVariant Best { get; } =
        Vector512.IsHardwareAccelerated ? KernelVariant.Vector512
        : Vector256.IsHardwareAccelerated ? KernelVariant.Vector256
        : Vector128.IsHardwareAccelerated ? KernelVariant.Vector128
        : KernelVariant.Scalar;

    // Declared after Best on purpose: static initialisers run in textual order and Resolve reads Best.
    private static readonly KernelVariant s_default = Resolve(Environment.GetEnvironmentVariable(ForceVariable));
    private static readonly AsyncLocal<KernelVariant?> s_override = new();

    /// <summary>The variant kernels use now: a scoped override (tests), else <c>QINCO_KERNEL</c>, else <see cref="Best"/>.</summary>
    public static KernelVariant Active => s_override.Value ?? s_default;

    /// <summary>Whether this CPU can run <paramref name="variant"/> accelerated.</summary>
    public static bool IsSupported(KernelVariant variant) => variant <= Best;

    /// <summary>
    /// Forces <paramref name="variant"/> for the current async flow until the returned scope is disposed.
    /// Meant for tests and benchmarks that compare variants in one process.
    /// </summary>
    /// <exception cref="NotSupportedException">The CPU cannot run <paramref name="variant"/>.</exception>
    public static IDisposable Force(KernelVariant variant)
    {
        if (!IsSupported(variant))
        {
            throw new NotSupportedException($"Kernel variant {variant} is not accelerated on this CPU (best: {Best}).");
        }
        KernelVariant? previous = s_override.Value;
        s_override.Value = variant;
        return new Scope(previous);
    }

    internal static KernelVariant Resolve(string? forced)
    {
        if (string.IsNullOrWhiteSpace(forced))
        {
            return Best;
        }
        if (!Enum.TryParse(forced.Trim(), ignoreCase: true, out KernelVariant wanted) || !Enum.IsDefined(wanted))
        {
            throw new InvalidOperationException($"{ForceVariable}='{forced}' is not a kernel variant; use one of {string.Join(", ", Enum.GetNames<KernelVariant>())}.");
        }
        return wanted <= Best ? wanted : Best;
    }

    private sealed class Scope(KernelVariant? previous) : IDisposable
    {
        public void Dispose() => s_override.Value = previous;
    }
}
