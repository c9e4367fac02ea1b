using System;

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
