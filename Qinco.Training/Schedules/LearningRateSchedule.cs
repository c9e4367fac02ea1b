using System;

namespace Qinco.Training;

/// <summary>
/// A learning-rate policy driven by the <see cref="Trainer"/>: it is asked for the rate right before each
/// optimiser step and told the validation value after each epoch, when it may also ask training to stop.
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>Which kind of schedule this is (stored in checkpoints).</summary>
    public abstract ScheduleKind Kind { get; }

    /// <summary>The learning rate to use for the optimiser step of batch <paramref name="batch"/> of epoch <paramref name="epoch"/>.</summary>
    /// <param name="epoch">0-based epoch index.</param>
    /// <param name="batch">0-based batch index inside the epoch.</param>
    /// <param name="batchesPerEpoch">Number of batches in an epoch (at least 1).</param>
    public abstract double GetLearningRate(int epoch, int batch, int batchesPerEpoch);

    /// <summary>
    /// The learning rate for batch <paramref name="batch"/> of epoch <paramref name="epoch"/> when
    /// <paramref name="budgetUsed"/> of the run's time budget (<see cref="TrainingOptions.MaxDuration"/>, 0..1; 0 without one)
    /// has been spent. The default ignores the budget; <see cref="WarmupCosineSchedule"/> can follow it.
    /// </summary>
    public virtual double GetLearningRate(int epoch, int batch, int batchesPerEpoch, double budgetUsed) =>
        GetLearningRate(epoch, batch, batchesPerEpoch);

    /// <summary>Called once after each epoch with its validation value (lower is better; null when not validated).</summary>
    /// <param name="epoch">0-based index of the epoch just completed.</param>
    /// <param name="validationMetric">The validation value, or null.</param>
    /// <returns><see cref="StopReason.None"/> to go on, otherwise why training must stop.</returns>
    public abstract StopReason OnEpochCompleted(int epoch, double? validationMetric);

    /// <summary>The schedule's mutable state as numbers, for checkpoints.</summary>
    public abstract double[] ExportState();

    /// <summary>Restores state exported by <see cref="ExportState"/> of a schedule with the same settings.</summary>
    /// <exception cref="ArgumentException">The state is malformed.</exception>
    public abstract void ImportState(ReadOnlySpan<double> state);
}
