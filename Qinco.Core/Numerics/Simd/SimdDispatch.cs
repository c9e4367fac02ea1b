using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Qinco.Core.Numerics;

/// <summary>Maps a <see cref="KernelVariant"/> and a loop length to the operator struct a SIMD kernel runs with.</summary>
internal static class SimdDispatch
{
    /// <summary>
    /// Runs <paramref name="kernel"/> at the widest width that <paramref name="variant"/> allows and whose vector fits
    /// in <paramref name="length"/> floats (Vector512, then Vector256, then Vector128, then scalar), so a driver may
    /// assume <c>length &gt;= TOps.Count</c>.
    /// </summary>
    /// <remarks>
    /// <paramref name="variant"/> never exceeds <see cref="Kernels.Best"/>, so the chosen width is accelerated. The
    /// width depends only on the variant and the length: a batch with one row length runs one width throughout.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TResult Run<TKernel, TResult>(TKernel kernel, KernelVariant variant, int length)
        where TKernel : struct, ISimdKernel<TResult>, allows ref struct
    {
        if (variant >= KernelVariant.Vector512 && length >= Vector512<float>.Count)
        {
            return kernel.Run<Vector512Ops, Vector512<float>>();
        }
        if (variant >= KernelVariant.Vector256 && length >= Vector256<float>.Count)
        {
            return kernel.Run<Vector256Ops, Vector256<float>>();
        }
        if (variant >= KernelVariant.Vector128 && length >= Vector128<float>.Count)
        {
            return kernel.Run<Vector128Ops, Vector128<float>>();
        }
        return kernel.Run<ScalarOps, float>();
    }
}
