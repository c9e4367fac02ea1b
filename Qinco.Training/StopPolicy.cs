using System;
using System.Threading;

namespace Qinco.Training;

/// <summary>
/// The one owner of the decision to end a run. The trainer asks it before every epoch, before and after every batch's
/// gradients and after every epoch; it answers with a <see cref="StopReason"/> (<see cref="StopReason.None"/> to go
/// on). It also keeps the best-validation record, because one improvement rule decides both early stopping and the
/// best-parameter snapshot.
/// </summary>
/// <remarks>
/// Precedence, as the questions come: the epoch limit, then cancellation, then the time budget (before an epoch that has
/// not started and before each batch); a non-finite batch loss; cancellation before validation; after the epoch the
/// schedule's own stop rule (plateau) wins over the early-stopping patience. A validation or worker that throws
/// <see cref="OperationCanceledException"/> for a cancelled token also ends the run as
/// <see cref="StopReason.Cancelled"/>.
/// </remarks>
internal sealed class StopPolicy(TrainingOptions options, LearningRateSchedule schedule)
{
    /// <summary>Before epoch <see cref="TrainingRunState.NextEpoch"/>: the epoch limit, and cancellation and the budget when the epoch has not started.</summary>
    public StopReason BeforeEpoch(TrainingRunState state, TimeSpan elapsed, CancellationToken cancellationToken) =>
        state.NextEpoch >= options.MaxEpochs ? StopReason.MaxEpochsReached
        : state.Phase == EpochPhase.NotStarted ? BeforeBatch(elapsed, cancellationToken)
        : StopReason.None;

    /// <summary>Before a batch: cancellation, then the time budget.</summary>
    public StopReason BeforeBatch(TimeSpan elapsed, CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested ? StopReason.Cancelled
        : options.MaxDuration is TimeSpan max && elapsed >= max ? StopReason.MaxDurationReached
        : StopReason.None;

    /// <summary>After a batch's gradients, before its step: a loss that is not finite stops the run and the step is not taken.</summary>
    public static StopReason AfterGradients(double batchLossSum) =>
        double.IsFinite(batchLossSum) ? StopReason.None : StopReason.NonFiniteLoss;

    /// <summary>Before validation (the batches of the epoch are done): cancellation only.</summary>
    public static StopReason BeforeValidation(CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested ? StopReason.Cancelled : StopReason.None;

    /// <summary>
    /// Records a validation value of <paramref name="epoch"/> (−1 = the starting parameters). It improves on the best
    /// unless it is NaN or not below best − <see cref="TrainingOptions.EarlyStoppingMinDelta"/>; the first value
    /// always improves (Keras semantics).
    /// </summary>
    /// <returns>True when the value is the new best: the caller refreshes the best-parameter snapshot.</returns>
    public bool RecordValidation(TrainingRunState state, int epoch, double metric)
    {
        bool noBestYet = state.BestEpoch < 0 && double.IsPositiveInfinity(state.BestMetric);
        if (double.IsNaN(metric) || !(noBestYet || metric < state.BestMetric - options.EarlyStoppingMinDelta))
        {
            state.EpochsSinceImprovement++;
            return false;
        }
        state.BestMetric = metric;
        state.BestEpoch = epoch;
        state.EpochsSinceImprovement = 0;
        return true;
    }

    /// <summary>After epoch <paramref name="epoch"/>: tells the schedule its validation value (it may decay the rate or stop), then applies the patience.</summary>
    public StopReason AfterEpoch(TrainingRunState state, int epoch, double? metric)
    {
        StopReason scheduleDecision = schedule.OnEpochCompleted(epoch, metric);
        if (scheduleDecision != StopReason.None)
        {
            return scheduleDecision;
        }
        return options.EarlyStoppingPatience > 0 && state.EpochsSinceImprovement >= options.EarlyStoppingPatience
            ? StopReason.EarlyStopping
            : StopReason.None;
    }
}
