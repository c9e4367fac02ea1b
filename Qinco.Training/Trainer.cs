using System;
using System.Threading;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Qinco.Training;

/// <summary>
/// The training loop: shuffled mini-batches, data-parallel gradients with a deterministic reduction, Adam/AdamW
/// steps under a learning-rate schedule, per-epoch validation, early stopping with best-parameter restore,
/// budgets, progress, logging, cancellation and checkpoint/resume. Knows nothing of quantizers: any
/// <see cref="ITrainableModel"/> can be trained, on the CPU or on any <see cref="ITrainingDevice"/>.
/// </summary>
/// <remarks>
/// <para><b>Batches.</b> Epoch e visits the training rows in the permutation drawn from seed
/// <c>Seed + e</c> (or in order), cut into consecutive batches of <see cref="TrainingOptions.BatchSize"/>.</para>
/// <para><b>Devices.</b> The gradients, their reduction and the optimiser steps happen on the device made by
/// <see cref="TrainingOptions.DeviceFactory"/>, by default a <see cref="CpuTrainingDevice"/> (W data-parallel workers
/// reduced in a fixed order); the model's hooks and validation read the host parameters, which the trainer
/// synchronises with the device around them (see <see cref="ITrainingDevice"/>).</para>
/// <para><b>Determinism.</b> For a given seed, W and instruction set, runs are bit-identical, whatever the thread
/// timing; different W differ only by float rounding of the reduction (and of the model's own sums).</para>
/// <para><b>Stopping.</b> One policy decides: the epoch limit, the time budget, cancellation, a non-finite loss, the
/// schedule's own rule and early stopping (see <see cref="StopReason"/>).</para>
/// <para><b>Cancellation.</b> The token is checked only between optimiser steps (and passed to workers and
/// validation, which may abandon the current batch or validation). A cancelled run does <b>not throw</b>: it
/// returns a <see cref="TrainingResult"/> with <see cref="StopReason.Cancelled"/>, the model holding the
/// best-validation parameters (or the parameters after the last complete step when there is no best snapshot),
/// never a half-applied step; <see cref="TrainingResult.Checkpoint"/> resumes the run exactly.</para>
/// </remarks>
public sealed class Trainer
{
    private readonly ITrainableModel _model;
    private readonly TrainingOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates a trainer for <paramref name="model"/>.</summary>
    /// <param name="model">The model to train.</param>
    /// <param name="options">Settings (null = defaults); validated here.</param>
    /// <param name="loggerFactory">Optional logging (default: <see cref="NullLoggerFactory"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the exception names it.</exception>
    /// <exception cref="ArgumentException">Options contradict each other; the exception names one.</exception>
    public Trainer(ITrainableModel model, TrainingOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new TrainingOptions();
        options.Validate();
        _model = model;
        _options = options;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<Trainer>();
    }

    /// <summary>The model being trained.</summary>
    public ITrainableModel Model => _model;

    /// <summary>The validated options.</summary>
    public TrainingOptions Options => _options;

    /// <summary>
    /// Receives a checkpoint after every <see cref="TrainingOptions.CheckpointIntervalEpochs"/> epochs (on the
    /// training thread, between epochs), e.g. to save it to disk. Null = none.
    /// </summary>
    public Action<TrainingCheckpoint>? CheckpointSink { get; set; }

    /// <summary>Trains from the model's current parameters.</summary>
    /// <param name="progress">Optional progress reports (one per batch, per epoch and at the end).</param>
    /// <param name="cancellationToken">Stops the run between optimiser steps; see the type's remarks.</param>
    /// <returns>The outcome; the model holds the best (or last) parameters.</returns>
    /// <exception cref="InvalidOperationException">The model has no training rows or no full batch, or the device factory returned null.</exception>
    public TrainingResult Train(IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Run(null, progress, cancellationToken);

    /// <summary>
    /// Continues a run from <paramref name="checkpoint"/>: its parameters, optimiser state, schedule state,
    /// position and history replace the model's and the trainer's. With the same options (same W) the final
    /// parameters are bit-identical to those of an uninterrupted run.
    /// </summary>
    /// <param name="checkpoint">A checkpoint of a run of the same model with the same seed, batch size, optimiser and schedule.</param>
    /// <param name="progress">Optional progress reports.</param>
    /// <param name="cancellationToken">Stops the run between optimiser steps.</param>
    /// <returns>The outcome, including the epochs before the checkpoint.</returns>
    /// <exception cref="ArgumentException">The checkpoint does not fit the model or the options.</exception>
    /// <exception cref="InvalidOperationException">The model has no training rows or no full batch, or the device factory returned null.</exception>
    public TrainingResult Resume(TrainingCheckpoint checkpoint, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        return Run(checkpoint, progress, cancellationToken);
    }

    private TrainingResult Run(TrainingCheckpoint? resume, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        using var run = new TrainingRun(_model, _options, _logger, resume)
        {
            CheckpointSink = CheckpointSink,
            Progress = progress,
            CancellationToken = cancellationToken,
        };
        return run.Execute(validateStart: resume is null && _options.ValidateInitialParameters);
    }
}
