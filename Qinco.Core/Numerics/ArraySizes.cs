using System;

namespace Qinco.Core.Numerics;

/// <summary>
/// Buffer sizes computed in 64 bits and checked against what one .NET array holds (<see cref="Array.MaxLength"/>),
/// so a size that would overflow <c>int</c> is a clear <see cref="ArgumentException"/> before any work, not an
/// <see cref="OverflowException"/> (or a wrapped-around length) part-way through.
/// </summary>
internal static class ArraySizes
{
    /// <summary>
    /// Returns <paramref name="elements"/> as an <c>int</c> when one array can hold that many; otherwise throws an
    /// <see cref="ArgumentException"/> naming <paramref name="what"/> (which should name the options that set the size)
    /// and the memory it would need.
    /// </summary>
    /// <param name="elements">The element count, computed in 64 bits (non-negative).</param>
    /// <param name="bytesPerElement">Bytes per element, for the memory named in the message.</param>
    /// <param name="what">What the buffer is and which options size it, e.g. "RQ codebooks of Steps 1024 × K 4096 × dimension 512".</param>
    /// <param name="advice">What the caller can change.</param>
    /// <param name="paramName">The parameter the exception names.</param>
    public static int Require(long elements, int bytesPerElement, string what, string advice, string? paramName)
    {
        if (elements < 0 || elements > Array.MaxLength)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"{what} is {elements:N0} elements ({Describe(elements, bytesPerElement)}) in one buffer, more than one array holds ({Array.MaxLength:N0} elements). {advice}"), paramName);
        }
        return (int)elements;
    }

    /// <summary>A 64-bit product of non-negative factors, saturating at <see cref="long.MaxValue"/>.</summary>
    public static long Product(params ReadOnlySpan<long> factors)
    {
        long result = 1;
        foreach (long f in factors)
        {
            if (f != 0 && result > long.MaxValue / f)
            {
                return long.MaxValue;
            }
            result *= f;
        }
        return result;
    }

    /// <summary>The memory of <paramref name="elements"/> elements of <paramref name="bytesPerElement"/> bytes, in GiB.</summary>
    public static string Describe(long elements, int bytesPerElement)
    {
        double gib = (double)elements * bytesPerElement / (1L << 30);
        return FormattableString.Invariant($"{gib:F1} GiB");
    }
}
