using System;

namespace Qinco.Training;

/// <summary>
/// Fluent adjustments of <see cref="TrainingOptions"/>, e.g. <c>t =&gt; t.LearningRate(1e-3).MaxEpochs(200).Workers(2)</c>
/// (Qinco.Core's <c>QincoQuantizerBuilder.WithTraining</c> passes one). Every method returns the builder; a setting not
/// adjusted keeps its value in the options the builder started from, which need not be the
/// <see cref="TrainingOptions"/> defaults (QINCo starts from <c>QincoOptions.DefaultTraining()</c>). Nothing is
/// validated here: the trainer (or the quantizer's <c>Build</c>) validates the result.
/// </summary>
public sealed class TrainingBuilder
{
    /// <summary>Starts from <paramref name="options"/>.</summary>
    /// <param name="options">The options to adjust; null starts from <c>new TrainingOptions()</c>.</param>
    public TrainingBuilder(TrainingOptions? options = null) => Options = options ?? new TrainingOptions();

    /// <summary>The options gathered so far.</summary>
    public TrainingOptions Options { get; private set; }

    /// <summary>Sets <see cref="TrainingOptions.LearningRate"/>, the base (initial) learning rate; positive and finite.</summary>
    public TrainingBuilder LearningRate(double value) => Set(Options with { LearningRate = value });

    /// <summary>Sets <see cref="TrainingOptions.MaxEpochs"/>, the largest number of epochs; at least 1.</summary>
    public TrainingBuilder MaxEpochs(int value) => Set(Options with { MaxEpochs = value });

    /// <summary>Sets <see cref="TrainingOptions.MaxDuration"/>, the wall-clock budget, checked between optimiser steps; positive.</summary>
    public TrainingBuilder MaxDuration(TimeSpan value) => Set(Options with { MaxDuration = value });

    /// <summary>Sets <see cref="TrainingOptions.BatchSize"/>, the training rows (vectors) per optimiser step; at least 1.</summary>
    public TrainingBuilder BatchSize(int value) => Set(Options with { BatchSize = value });

    /// <summary>Sets <see cref="TrainingOptions.Workers"/>, the data-parallel gradient workers a batch is split over; at least 1.</summary>
    public TrainingBuilder Workers(int value) => Set(Options with { Workers = value });

    /// <summary>Sets <see cref="TrainingOptions.Seed"/>, the seed of the per-epoch shuffles (not of any model initialisation).</summary>
    public TrainingBuilder Seed(int value) => Set(Options with { Seed = value });

    /// <summary>Sets <see cref="TrainingOptions.NumpyCompatibleShuffle"/>: shuffle as NumPy's <c>RandomState(Seed + epoch).permutation</c>.</summary>
    public TrainingBuilder NumpyCompatibleShuffle(bool value = true) => Set(Options with { NumpyCompatibleShuffle = value });

    /// <summary>
    /// Sets <see cref="TrainingOptions.Optimizer"/> and <see cref="TrainingOptions.WeightDecay"/> together: L2 decay for
    /// Adam, decoupled for AdamW. The weight decay is replaced even when omitted (0, not torch's AdamW default of 0.01).
    /// </summary>
    public TrainingBuilder Optimizer(OptimizerKind kind, double weightDecay = 0) => Set(Options with { Optimizer = kind, WeightDecay = weightDecay });

    /// <summary>Sets <see cref="TrainingOptions.ResetOptimizerEachEpoch"/>: zero the optimiser's moments every epoch, as QINCo1's reference re-creates Adam.</summary>
    public TrainingBuilder ResetOptimizerEachEpoch(bool value) => Set(Options with { ResetOptimizerEachEpoch = value });

    /// <summary>Sets <see cref="TrainingOptions.Schedule"/>, the learning-rate schedule.</summary>
    public TrainingBuilder Schedule(ScheduleKind kind) => Set(Options with { Schedule = kind });

    /// <summary>
    /// Sets the plateau schedule's <see cref="TrainingOptions.PlateauPatience"/> (epochs without a new best before the
    /// rate is divided) and <see cref="TrainingOptions.PlateauStopPatience"/> (before training stops); both at least 1.
    /// Does not select the plateau schedule.
    /// </summary>
    public TrainingBuilder Plateau(int patience, int stopPatience) => Set(Options with { PlateauPatience = patience, PlateauStopPatience = stopPatience });

    /// <summary>
    /// Selects QINCo2's warm-up cosine schedule (ALGORITHM.md (5.8)) with <paramref name="warmupEpochs"/> of linear warm-up
    /// and <paramref name="cosineEpochs"/> of quarter cosine; with <paramref name="followBudget"/> it also advances with the
    /// share of <see cref="TrainingOptions.MaxDuration"/> spent (<see cref="TrainingOptions.ScheduleFollowsBudget"/>).
    /// </summary>
    public TrainingBuilder WarmupCosine(double warmupEpochs = 3, double cosineEpochs = 60, bool followBudget = true) =>
        Set(Options with { Schedule = ScheduleKind.WarmupCosine, WarmupEpochs = warmupEpochs, CosineEpochs = cosineEpochs, ScheduleFollowsBudget = followBudget });

    /// <summary>Any other change: <c>t =&gt; t.With(o =&gt; o with { GradientClipValue = 0.1 })</c>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="change"/> is null.</exception>
    public TrainingBuilder With(Func<TrainingOptions, TrainingOptions> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return Set(change(Options));
    }

    private TrainingBuilder Set(TrainingOptions options)
    {
        Options = options;
        return this;
    }
}
