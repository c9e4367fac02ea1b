using System.Collections.Generic;

namespace Qinco.Training;

/// <summary>
/// The mutable progress of a training run, updated in place by <see cref="TrainingRun"/>: position, the running epoch
/// loss, the best validation record and the history. A <see cref="TrainingCheckpoint"/> holds a deep copy of it (with the
/// parameters, optimiser and schedule state); a resumed run continues from a copy of that.
/// </summary>
internal sealed class TrainingRunState
{
    /// <summary>The epoch the run is in or starts next (0-based).</summary>
    public int NextEpoch;
    /// <summary>The batch of <see cref="NextEpoch"/> to run next.</summary>
    public int NextBatch;
    /// <summary>How far <see cref="NextEpoch"/> has got.</summary>
    public EpochPhase Phase;
    /// <summary>Sum of the batch losses of the current epoch so far (summed per-row losses).</summary>
    public double EpochLossSum;
    /// <summary>Rows behind <see cref="EpochLossSum"/>.</summary>
    public long EpochRows;
    /// <summary>Wall-clock ticks of the run up to the last capture (before a resume: of the earlier runs).</summary>
    public long ElapsedTicks;
    /// <summary>Epoch of the best validation value, −1 before any epoch beat the start.</summary>
    public int BestEpoch = -1;
    /// <summary>Best validation value so far (of the starting parameters when no epoch beat them); +∞ before any.</summary>
    public double BestMetric = double.PositiveInfinity;
    /// <summary>Validated epochs since the last improvement, for early stopping.</summary>
    public int EpochsSinceImprovement;
    /// <summary>Learning rate of the last optimiser step (the base rate before any).</summary>
    public double LastLearningRate;
    /// <summary>Flat copy of the best parameters (<see cref="ParameterSet.CopyValuesTo"/> layout), null when none is kept.</summary>
    public float[]? BestSnapshot;
    /// <summary>One record per completed epoch.</summary>
    public List<EpochRecord> History = [];

    /// <summary>The best validation value, null until an epoch set one.</summary>
    public double? BestValidationMetric => BestEpoch >= 0 ? BestMetric : null;

    /// <summary>The best epoch, null until an epoch set one.</summary>
    public int? BestEpochOrNull => BestEpoch >= 0 ? BestEpoch : null;

    /// <summary>Mean per-row training loss of the current epoch so far, NaN before its first batch.</summary>
    public double EpochTrainLoss => EpochRows > 0 ? EpochLossSum / EpochRows : double.NaN;

    /// <summary>A deep copy (the snapshot and the history are copied too).</summary>
    public TrainingRunState Clone()
    {
        var copy = (TrainingRunState)MemberwiseClone();
        copy.BestSnapshot = (float[]?)BestSnapshot?.Clone();
        copy.History = [.. History];
        return copy;
    }
}
