namespace Qinco.Core.Numerics;

/// <summary>The SIMD width a numeric kernel runs with.</summary>
/// <remarks>
/// The library picks the widest variant the CPU accelerates (<see cref="Kernels.Active"/>). Set the environment
/// variable <c>QINCO_KERNEL</c> to one of the names below (case-insensitive) to force a narrower one, e.g. to compare
/// variants in benchmarks; a variant the CPU cannot run falls back to the next narrower one.
/// </remarks>
public enum KernelVariant
{
    /// <summary>Plain scalar loops; runs everywhere.</summary>
    Scalar = 0,

    /// <summary>128-bit vectors (SSE on x86, AdvSimd on Arm64).</summary>
    Vector128 = 1,

    /// <summary>256-bit vectors (AVX2 + FMA on x86).</summary>
    Vector256 = 2,

    /// <summary>512-bit vectors (AVX-512 on x86).</summary>
    Vector512 = 3,
}
