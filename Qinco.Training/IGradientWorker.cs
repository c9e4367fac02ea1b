using System;
using System.Collections.Generic;
using System.Threading;

namespace Qinco.Training;

/// <summary>
/// Computes the loss and gradients for a shard of a batch on the host parameters, for the
/// <see cref="CpuTrainingDevice"/>. Workers run concurrently with each other, never with an optimiser step.
/// </summary>
public interface IGradientWorker
{
    /// <summary>
    /// Computes the <b>sum</b> over <paramref name="rows"/> of the per-row loss and <b>adds</b> its gradient with
    /// respect to parameter i to <paramref name="gradientBuffers"/>[i] (zeroed before the call, same order and
    /// lengths as <see cref="ITrainableModel.Parameters"/>). The device divides the reduced loss and gradients by the
    /// batch size once, so the training loss is the mean per-row loss.
    /// </summary>
    /// <param name="rows">Training row indices of this shard (may be empty).</param>
    /// <param name="gradientBuffers">This worker's own gradient buffers; never shared with another worker.</param>
    /// <param name="cancellationToken">Optional early exit by throwing <see cref="OperationCanceledException"/>; the batch is then discarded.</param>
    /// <returns>The summed loss of the shard.</returns>
    double ComputeLossAndGradients(ReadOnlySpan<int> rows, IReadOnlyList<float[]> gradientBuffers, CancellationToken cancellationToken);
}
