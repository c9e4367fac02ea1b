using System;

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
