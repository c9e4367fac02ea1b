using System;
using Qinco.Core.Numerics;

namespace Qinco.Core;

/// <summary>Argument checks every quantizer applies at its public boundary, with messages that name the problem.</summary>
internal static class QuantizerInput
{
    /// <summary>Checks a row-major batch of vectors and returns how many it holds.</summary>
    public static int CountVectors(ReadOnlySpan<float> vectors, int dimension, string parameterName)
    {
        if (vectors.Length % dimension != 0)
        {
            throw new ArgumentException($"The input holds {vectors.Length} floats, which is not a whole number of {dimension}-dimensional vectors.", parameterName);
        }
        CheckFinite(vectors, dimension, parameterName);
        return vectors.Length / dimension;
    }

    public static void CheckFinite(ReadOnlySpan<float> vectors, int dimension, string parameterName)
    {
        int bad = FiniteCheck.IndexOfNonFinite(vectors);
        if (bad >= 0)
        {
            throw new ArgumentException($"Vector {bad / dimension}, component {bad % dimension} is {vectors[bad]}: every value must be finite.", parameterName);
        }
    }

    public static void CheckSet(VectorSet? set, int dimension, string parameterName, bool allowEmpty = false)
    {
        ArgumentNullException.ThrowIfNull(set, parameterName);
        if (set.Dimension != dimension)
        {
            throw new ArgumentException($"The vectors have dimension {set.Dimension}, but the quantizer was built for dimension {dimension}.", parameterName);
        }
        if (!allowEmpty && set.Count == 0)
        {
            throw new ArgumentException("The vector set is empty.", parameterName);
        }
        CheckFinite(set.Data, dimension, parameterName);
    }

    public static int CountCodes(ReadOnlySpan<byte> codes, int codeSize, string parameterName)
    {
        if (codes.Length % codeSize != 0)
        {
            throw new ArgumentException($"The codes hold {codes.Length} bytes, which is not a whole number of {codeSize}-byte codes.", parameterName);
        }
        return codes.Length / codeSize;
    }

    public static void CheckDestination(int needed, int available, string what)
    {
        if (available < needed)
        {
            throw new ArgumentException($"The destination holds {available} {what}; the batch needs {needed}.", "destination");
        }
    }

    public static int CheckPrefix(int steps, int maxSteps)
    {
        if (steps < 0 || steps > maxSteps)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), $"Cannot decode a prefix of {steps} steps: the code has {maxSteps}.");
        }
        return steps == 0 ? maxSteps : steps;
    }

    public static void CheckTrained(bool trained, string kind)
    {
        if (!trained)
        {
            throw new InvalidOperationException($"The {kind} quantizer is not trained: call Fit or load a saved model first.");
        }
    }
}
