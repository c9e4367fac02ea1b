namespace Qinco.Training;

/// <summary>How far the current epoch has got; stored in checkpoints as one byte, so the values are part of the format.</summary>
internal enum EpochPhase : byte
{
    /// <summary>Nothing done yet: the epoch starts with the optimiser reset and <see cref="ITrainableModel.OnEpochStart"/>.</summary>
    NotStarted = 0,

    /// <summary>Inside the batches: the next batch is <see cref="TrainingRunState.NextBatch"/>.</summary>
    InBatches = 1,

    /// <summary>Batches and <see cref="ITrainableModel.OnEpochEnd"/> done; validation and the epoch's record remain.</summary>
    BatchesDone = 2,
}
