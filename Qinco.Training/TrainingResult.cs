using System;
using System.Collections.Generic;

namespace Qinco.Training;

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
