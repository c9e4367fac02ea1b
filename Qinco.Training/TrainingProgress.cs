using System;
using System.Collections.Generic;

namespace Qinco.Training;

/// <summary>A progress report of the <see cref="Trainer"/>.</summary>
public sealed record TrainingProgress
{
    /// <summary>What the report is about.</summary>
    public required TrainingPhase Phase { get; init; }

    /// <summary>0-based epoch index.</summary>
    public required int Epoch { get; init; }

    /// <summary>0-based batch index inside the epoch (for <see cref="TrainingPhase.EpochCompleted"/>: the batch count).</summary>
    public required int Batch { get; init; }

    /// <summary>Batches per epoch.</summary>
    public required int BatchesPerEpoch { get; init; }

    /// <summary>Mean per-row training loss: of this batch for <see cref="TrainingPhase.BatchCompleted"/>, of the epoch otherwise (NaN when no batch has run).</summary>
    public required double TrainLoss { get; init; }

    /// <summary>Validation value of this epoch (only for <see cref="TrainingPhase.EpochCompleted"/> with validation).</summary>
    public double? ValidationMetric { get; init; }

    /// <summary>Best validation value so far, null before the first validation.</summary>
    public double? BestValidationMetric { get; init; }

    /// <summary>Learning rate of the last optimiser step (for epoch reports: the rate the next epoch starts with).</summary>
    public required double LearningRate { get; init; }

    /// <summary>Wall-clock time of the run, including time before a resume.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>Rough time until <see cref="TrainingOptions.MaxEpochs"/> or <see cref="TrainingOptions.MaxDuration"/>, null when unknown.</summary>
    public TimeSpan? EstimatedRemaining { get; init; }

    /// <summary>Why the run ended (only for <see cref="TrainingPhase.Stopped"/>).</summary>
    public StopReason StopReason { get; init; }
}

/// <summary>One epoch of a training run's history.</summary>
public sealed record EpochRecord
{
    /// <summary>0-based epoch index.</summary>
    public required int Epoch { get; init; }

    /// <summary>Mean per-row training loss over the epoch.</summary>
    public required double TrainLoss { get; init; }

    /// <summary>Validation value after the epoch, null when not validated.</summary>
    public double? ValidationMetric { get; init; }

    /// <summary>Learning rate of the epoch's last optimiser step.</summary>
    public required double LearningRate { get; init; }
}

/// <summary>The outcome of <see cref="Trainer.Train"/> or <see cref="Trainer.Resume"/>.</summary>
public sealed class TrainingResult
{
    internal TrainingResult(int epochsCompleted, int? bestEpoch, double? bestValidationMetric, StopReason stopReason, IReadOnlyList<EpochRecord> history, TimeSpan elapsed, bool restoredBest, TrainingCheckpoint checkpoint)
    {
        EpochsCompleted = epochsCompleted;
        BestEpoch = bestEpoch;
        BestValidationMetric = bestValidationMetric;
        StopReason = stopReason;
        History = history;
        Elapsed = elapsed;
        RestoredBestParameters = restoredBest;
        Checkpoint = checkpoint;
    }

    /// <summary>Number of fully completed epochs (including those before a resume).</summary>
    public int EpochsCompleted { get; }

    /// <summary>
    /// Validation value of the starting parameters, measured when <see cref="TrainingOptions.ValidateInitialParameters"/>
    /// is set and the run did not resume; otherwise null.
    /// </summary>
    public double? InitialValidationMetric { get; init; }

    /// <summary>0-based epoch with the best validation value, null when never validated.</summary>
    public int? BestEpoch { get; }

    /// <summary>Best validation value, null when never validated.</summary>
    public double? BestValidationMetric { get; }

    /// <summary>Why the run ended.</summary>
    public StopReason StopReason { get; }

    /// <summary>Per-epoch history (including epochs before a resume).</summary>
    public IReadOnlyList<EpochRecord> History { get; }

    /// <summary>Total wall-clock time (including time before a resume).</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>True when the model's parameters were set back to the best-validation snapshot at the end.</summary>
    public bool RestoredBestParameters { get; }

    /// <summary>
    /// The state at the moment the run stopped, taken <b>before</b> the best parameters were restored, so that
    /// <see cref="Trainer.Resume"/> continues exactly where the run stopped (e.g. after a cancellation).
    /// </summary>
    public TrainingCheckpoint Checkpoint { get; }
}
