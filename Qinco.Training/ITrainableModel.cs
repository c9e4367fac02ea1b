using System;
using System.Threading;

namespace Qinco.Training;

/// <summary>
/// What the <see cref="Trainer"/> needs from a model: its parameters, a way to make gradient workers, and a
/// validation metric. The model owns its training data; the trainer only hands out row indices.
/// </summary>
/// <remarks>
/// Call sequence per run: the <see cref="CpuTrainingDevice"/> calls <see cref="CreateWorker"/> for worker 0..W−1
/// (once; another <see cref="ITrainingDevice"/> may compute gradients its own way), then per epoch
/// <see cref="OnEpochStart"/>, the batches (workers run concurrently; the parameters are read-only meanwhile),
/// <see cref="OnEpochEnd"/>, <see cref="Validate"/>. All hooks run on the calling thread, between optimiser steps, and
/// see the current host parameters.
/// </remarks>
public interface ITrainableModel
{
    /// <summary>The trainable parameters. The set must not change (count, order, shapes) during training.</summary>
    ParameterSet Parameters { get; }

    /// <summary>Number of training rows; the trainer draws row indices in [0, TrainingRowCount).</summary>
    int TrainingRowCount { get; }

    /// <summary>
    /// Creates worker <paramref name="workerIndex"/> (0-based, fewer than the number of workers). Each worker may
    /// keep its own scratch memory; a worker that implements <see cref="IDisposable"/> is disposed after the run.
    /// </summary>
    IGradientWorker CreateWorker(int workerIndex);

    /// <summary>Validation metric of the current parameters (lower is better), e.g. validation MSE.</summary>
    /// <param name="cancellationToken">May cancel a long validation by throwing <see cref="OperationCanceledException"/>.</param>
    double Validate(CancellationToken cancellationToken);

    /// <summary>Called before the first batch of epoch <paramref name="epoch"/> (0-based). Not called again when a run resumes inside that epoch.</summary>
    void OnEpochStart(int epoch)
    {
    }

    /// <summary>Called after the last batch of epoch <paramref name="epoch"/>, before validation. May modify
    /// parameter values (e.g. dead-codeword resets).</summary>
    void OnEpochEnd(int epoch)
    {
    }
}
