using System;

namespace Qinco.Training;

/// <summary>A constant learning rate; never stops training.</summary>
public sealed class ConstantSchedule : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="learningRate"/> is not positive and finite.</exception>
    public ConstantSchedule(double learningRate)
    {
        Require.PositiveFinite(learningRate);
        LearningRate = learningRate;
    }

    /// <summary>The learning rate.</summary>
    public double LearningRate { get; }

    /// <inheritdoc />
    public override ScheduleKind Kind => ScheduleKind.Constant;

    /// <inheritdoc />
    public override double GetLearningRate(int epoch, int batch, int batchesPerEpoch) => LearningRate;

    /// <inheritdoc />
    public override StopReason OnEpochCompleted(int epoch, double? validationMetric) => StopReason.None;

    /// <inheritdoc />
    public override double[] ExportState() => [];

    /// <inheritdoc />
    public override void ImportState(ReadOnlySpan<double> state)
    {
        if (state.Length != 0)
        {
            throw new ArgumentException("A constant schedule has no state.", nameof(state));
        }
    }
}
