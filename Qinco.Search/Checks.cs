using System;
using System.Globalization;
using System.Numerics.Tensors;

namespace Qinco.Search;

/// <summary>Argument checks shared by the search types.</summary>
internal static class Checks
{
    /// <summary>The first index of a NaN or infinity, or -1.</summary>
    public static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>The largest magnitude of a centroid or codeword component an index accepts: 2^40 (as core's model tensors).</summary>
    public const float MaxComponent = 1099511627776f;

    /// <summary>The largest magnitude of a stored squared norm: 2^110, so that a few of them and the table sums stay below float32's 2^128.</summary>
    public const float MaxSquaredNorm = 1.2980742e33f;

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming <paramref name="what"/> when a value is NaN, infinite or beyond
    /// ±<paramref name="limit"/>: finite values that large would overflow the float32 distance sums of a search.
    /// </summary>
    public static void Representable(ReadOnlySpan<float> values, float limit, string what, string paramName)
    {
        float max = values.IsEmpty ? 0f : MathF.Abs(TensorPrimitives.MaxMagnitude(values));
        if (!(max <= limit))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The {what} hold {max:G4}: every value must be finite and within ±{limit:G3}, or float32 distance sums overflow."), paramName);
        }
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming <paramref name="name"/> unless <paramref name="value"/> is in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static void InRange(long value, long min, long max, string name)
    {
        if (value < min || value > max)
        {
            string range = max == long.MaxValue || max == int.MaxValue ? $"at least {min}" : $"in {min}..{max}";
            throw new ArgumentOutOfRangeException(name, value, $"{name} = {value} must be {range}.");
        }
    }

    /// <summary>Throws unless the degree of parallelism is -1 (all processors) or positive.</summary>
    public static void Parallelism(int maxDegreeOfParallelism, string name = "maxDegreeOfParallelism")
    {
        if (maxDegreeOfParallelism != -1 && maxDegreeOfParallelism < 1)
        {
            throw new ArgumentOutOfRangeException(name, maxDegreeOfParallelism, "The degree of parallelism must be -1 (all processors) or at least 1.");
        }
    }
}
