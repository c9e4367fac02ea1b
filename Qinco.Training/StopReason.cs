namespace Qinco.Training;

/// <summary>Why a training run ended.</summary>
public enum StopReason
{
    /// <summary>Not stopped (yet).</summary>
    None = 0,

    /// <summary><see cref="TrainingOptions.MaxEpochs"/> epochs were completed.</summary>
    MaxEpochsReached = 1,

    /// <summary><see cref="TrainingOptions.MaxDuration"/> elapsed (checked between optimiser steps).</summary>
    MaxDurationReached = 2,

    /// <summary>The plateau schedule saw no improvement for its stop patience.</summary>
    PlateauPatienceExhausted = 3,

    /// <summary>The plateau schedule's learning rate fell below its minimum.</summary>
    LearningRateBelowMinimum = 4,

    /// <summary>No improvement larger than <see cref="TrainingOptions.EarlyStoppingMinDelta"/> for <see cref="TrainingOptions.EarlyStoppingPatience"/> epochs.</summary>
    EarlyStopping = 5,

    /// <summary>The cancellation token was signalled.</summary>
    Cancelled = 6,

    /// <summary>A batch loss was NaN or infinite; its step was not applied.</summary>
    NonFiniteLoss = 7,
}
