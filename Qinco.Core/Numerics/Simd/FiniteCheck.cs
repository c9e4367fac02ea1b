using System;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Qinco.Core.Numerics;

/// <summary>Finds NaN and infinities fast enough to validate every input batch.</summary>
internal static class FiniteCheck
{
    /// <summary>Index of the first NaN or infinite value, or -1 when all are finite (SIMD of the <see cref="Kernels.Active"/> width).</summary>
    public static int IndexOfNonFinite(ReadOnlySpan<float> values) =>
        SimdDispatch.Run<NonFiniteKernel, int>(new NonFiniteKernel(values), Kernels.Active, values.Length);

    private readonly ref struct NonFiniteKernel(ReadOnlySpan<float> values) : ISimdKernel<int>
    {
        private readonly ReadOnlySpan<float> _values = values;

        public int Run<TOps, TVec>()
            where TOps : struct, ISimdOps<TVec>
            where TVec : struct
        {
            ref float start = ref MemoryMarshal.GetReference(_values);
            int n = _values.Length, w = TOps.Count;
            int p = 0;
            for (; p <= n - w; p += w)
            {
                int lane = FirstNonFiniteLane<TOps, TVec>(TOps.LoadUnsafe(ref start, (nuint)p));
                if (lane >= 0)
                {
                    return p + lane;
                }
            }
            if (p < n)
            {
                // The overlapping last vector: its lanes before p were found finite already.
                int lane = FirstNonFiniteLane<TOps, TVec>(TOps.LoadUnsafe(ref start, (nuint)(n - w)));
                return lane >= 0 ? n - w + lane : -1;
            }
            return -1;
        }

        /// <summary>x - x is 0 for finite x and NaN for NaN or infinity, so one equality per lane finds both.</summary>
        private static int FirstNonFiniteLane<TOps, TVec>(TVec v)
            where TOps : struct, ISimdOps<TVec>
            where TVec : struct
        {
            ulong finite = TOps.EqualBits(TOps.Subtract(v, v), TOps.Broadcast(0f));
            ulong all = (1UL << TOps.Count) - 1;
            return finite == all ? -1 : BitOperations.TrailingZeroCount(~finite);
        }
    }
}
