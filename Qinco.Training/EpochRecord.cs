namespace Qinco.Training;

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
