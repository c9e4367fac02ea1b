using System;
using System.Collections.Generic;

namespace Qinco.Training;

/// <summary>
/// A deep copy of an optimiser's mutable state (step count and per-parameter moment buffers), for checkpoints.
/// </summary>
public sealed class OptimizerState
{
    /// <summary>Creates a state object. The arrays are taken over, not copied.</summary>
    /// <param name="stepCount">Number of optimiser steps taken since the last reset.</param>
    /// <param name="firstMoments">One array per parameter, in <see cref="ParameterSet"/> order.</param>
    /// <param name="secondMoments">One array per parameter, in <see cref="ParameterSet"/> order.</param>
    /// <exception cref="ArgumentException">The two lists differ in length or the step count is negative.</exception>
    public OptimizerState(long stepCount, IReadOnlyList<float[]> firstMoments, IReadOnlyList<float[]> secondMoments)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stepCount);
        ArgumentNullException.ThrowIfNull(firstMoments);
        ArgumentNullException.ThrowIfNull(secondMoments);
        if (firstMoments.Count != secondMoments.Count)
        {
            throw new ArgumentException("First and second moment lists must have the same length.", nameof(secondMoments));
        }
        StepCount = stepCount;
        FirstMoments = firstMoments;
        SecondMoments = secondMoments;
    }

    /// <summary>Number of optimiser steps since creation or the last reset (PyTorch's <c>state["step"]</c>).</summary>
    public long StepCount { get; }

    /// <summary>First-moment (<c>exp_avg</c>) buffers, one per parameter.</summary>
    public IReadOnlyList<float[]> FirstMoments { get; }

    /// <summary>Second-moment (<c>exp_avg_sq</c>) buffers, one per parameter.</summary>
    public IReadOnlyList<float[]> SecondMoments { get; }
}
