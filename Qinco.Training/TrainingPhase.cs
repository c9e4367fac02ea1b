namespace Qinco.Training;

/// <summary>What a <see cref="TrainingProgress"/> report is about.</summary>
public enum TrainingPhase
{
    /// <summary>An optimiser step was applied.</summary>
    BatchCompleted = 0,

    /// <summary>An epoch ended (after validation and the schedule update).</summary>
    EpochCompleted = 1,

    /// <summary>The run ended; <see cref="TrainingProgress.StopReason"/> says why.</summary>
    Stopped = 2,
}
