using System;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Qinco.Core.Numerics;

/// <summary>Finds NaN and infinities fast enough to validate every input batch.</summary>
internal static class FiniteCheck
{
    /// <summary>Index of the first NaN or infinite value, or -1 when all are finite.</summary>
    public static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        ref float start = ref MemoryMarshal.GetReference(values);
        int i = 0;
        // x - x is 0 for finite x and NaN for NaN/Inf, so one equality test per lane finds both.
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= values.Length - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var v = Vector512.LoadUnsafe(ref start, (nuint)i);
                if (!Vector512.EqualsAll(v - v, Vector512<float>.Zero))
                {
                    break;
                }
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= values.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.LoadUnsafe(ref start, (nuint)i);
                if (!Vector256.EqualsAll(v - v, Vector256<float>.Zero))
                {
                    break;
                }
            }
        }
        for (; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }
        return -1;
    }
}
