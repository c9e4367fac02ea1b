using System;

namespace Qinco.Training;

/// <summary>
/// Settings of a <see cref="Trainer"/> run. Defaults follow QINCo1 (<c>train_qinco.py</c>) unless stated;
/// <see cref="Qinco2Preset"/> gives QINCo2's. Validated by <see cref="Validate"/> (called by the trainer's
/// constructor); every error is an <see cref="ArgumentOutOfRangeException"/> or <see cref="ArgumentException"/>
/// whose <see cref="ArgumentException.ParamName"/> is the option's name.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Rows per optimiser step (default 1024).</summary>
    public int BatchSize { get; init; } = 1024;

    /// <summary>When true, a final batch smaller than <see cref="BatchSize"/> is skipped (default false).</summary>
    public bool DropLastPartialBatch { get; init; }

    /// <summary>Maximum number of epochs (default 1000).</summary>
    public int MaxEpochs { get; init; } = 1000;

    /// <summary>Wall-clock budget, checked between optimiser steps (default null = unlimited).</summary>
    public TimeSpan? MaxDuration { get; init; }

    /// <summary>Base learning rate (default 1e-4, QINCo1's <c>--lr</c>).</summary>
    public double LearningRate { get; init; } = 1e-4;

    /// <summary>The optimiser (default <see cref="OptimizerKind.Adam"/>).</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>Adam β₁ (default 0.9).</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Adam β₂ (default 0.999).</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>Adam ε (default 1e-8).</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Weight decay: L2 for Adam, decoupled for AdamW (default 0).</summary>
    public double WeightDecay { get; init; }

    /// <summary>Clamp each gradient element to ±this before the step (default null = off; QINCo2: 0.1).</summary>
    public double? GradientClipValue { get; init; }

    /// <summary>Reset the optimiser's moments and step count at the start of every epoch, as QINCo1 re-creates Adam (default true).</summary>
    public bool ResetOptimizerEachEpoch { get; init; } = true;

    /// <summary>The learning-rate schedule (default <see cref="ScheduleKind.Plateau"/>).</summary>
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Plateau;

    /// <summary>Plateau: epochs without a new best before dividing the rate (default 10).</summary>
    public int PlateauPatience { get; init; } = 10;

    /// <summary>Plateau: epochs without a new best before stopping (default 50).</summary>
    public int PlateauStopPatience { get; init; } = 50;

    /// <summary>Plateau: divisor of the rate (default 10).</summary>
    public double PlateauDecayFactor { get; init; } = 10;

    /// <summary>Plateau: stop when the rate falls below this (default 2e-6).</summary>
    public double MinLearningRate { get; init; } = 2e-6;

    /// <summary>Warm-up cosine: warm-up epochs (default 3).</summary>
    public double WarmupEpochs { get; init; } = 3;

    /// <summary>Warm-up cosine: cosine epochs (default 60).</summary>
    public double CosineEpochs { get; init; } = 60;

    /// <summary>Warm-up cosine: floor of the rate factor (default 1e-3).</summary>
    public double CosineMinFactor { get; init; } = 1e-3;

    /// <summary>
    /// With <see cref="ScheduleKind.WarmupCosine"/> and a <see cref="MaxDuration"/>: whether the warm-up and the cosine
    /// also advance with the share of the budget spent, so a budget that ends the run after a few epochs still sees the
    /// whole schedule (<see cref="WarmupCosineSchedule.FollowsBudget"/>; default false, true in <see cref="Qinco2Preset"/>).
    /// </summary>
    public bool ScheduleFollowsBudget { get; init; }

    /// <summary>Early stopping: stop after this many epochs without an improvement larger than <see cref="EarlyStoppingMinDelta"/> (default 0 = off; QINCo2: 10).</summary>
    public int EarlyStoppingPatience { get; init; }

    /// <summary>Minimum decrease of the validation value that counts as an improvement, for early stopping and for the best-parameter snapshot alike (default 0: any decrease; QINCo2: 1e-6).</summary>
    public double EarlyStoppingMinDelta { get; init; }

    /// <summary>Put the best-validation parameters back into the model when the run ends (default true).</summary>
    public bool RestoreBestParameters { get; init; } = true;

    /// <summary>
    /// Validate the starting parameters before the first batch and let them compete with every epoch (default
    /// false): when no epoch beats the start, the run ends with the starting parameters restored and
    /// <see cref="TrainingResult.BestEpoch"/> null. Useful when training starts from a good model (e.g. QINCo from RQ).
    /// </summary>
    public bool ValidateInitialParameters { get; init; }

    /// <summary>Validate after every epoch (default true). Required by the plateau schedule, early stopping and best-parameter restore.</summary>
    public bool ValidateEveryEpoch { get; init; } = true;

    /// <summary>Number of gradient workers W; each batch is split into W contiguous shards (default 1).</summary>
    public int Workers { get; init; } = 1;

    /// <summary>Seed of the shuffles: epoch e uses the permutation of seed <c>Seed + e</c> (default 123, QINCo1's).</summary>
    public int Seed { get; init; } = 123;

    /// <summary>Draw a fresh permutation of the training rows every epoch (default true); false visits rows in order.</summary>
    public bool ShuffleEachEpoch { get; init; } = true;

    /// <summary>
    /// Draw each epoch's permutation exactly as NumPy's <c>RandomState(Seed + epoch).permutation(n)</c> (default false:
    /// the library's own <see cref="SplitMix64"/> shuffle). With <see cref="Seed"/> 123 a run sees the QINCo1 reference's batches, in
    /// its order; <see cref="Seed"/> + epoch must then stay within 0..2³²−1.
    /// </summary>
    public bool NumpyCompatibleShuffle { get; init; }

    /// <summary>Creates the <see cref="ITrainingDevice"/> of each <see cref="Trainer.Train"/> or <see cref="Trainer.Resume"/> call from the model and these options, e.g. one that keeps the parameters on a GPU; the trainer disposes it (default null: a <see cref="CpuTrainingDevice"/> with <see cref="Workers"/> workers).</summary>
    public Func<ITrainableModel, TrainingOptions, ITrainingDevice>? DeviceFactory { get; init; }

    /// <summary>Invoke <see cref="Trainer.CheckpointSink"/> after every this many epochs (default 0 = never).</summary>
    public int CheckpointIntervalEpochs { get; init; }

    /// <summary>QINCo2's settings (ALGORITHM.md §5.7): AdamW lr 8e-4, weight decay 0.1, clip 0.1, warm-up cosine (following the time budget when one is set), 71 epochs, early stopping 10/1e-6.</summary>
    public static TrainingOptions Qinco2Preset() => new()
    {
        LearningRate = 8e-4,
        Optimizer = OptimizerKind.AdamW,
        WeightDecay = 0.1,
        GradientClipValue = 0.1,
        ResetOptimizerEachEpoch = false,
        Schedule = ScheduleKind.WarmupCosine,
        ScheduleFollowsBudget = true,
        MaxEpochs = 71,
        EarlyStoppingPatience = 10,
        EarlyStoppingMinDelta = 1e-6,
    };

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; <see cref="ArgumentException.ParamName"/> names it.</exception>
    /// <exception cref="ArgumentException">Options contradict each other; <see cref="ArgumentException.ParamName"/> names one.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxEpochs, 1);
        if (MaxDuration is TimeSpan d && d <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDuration), d, "Must be positive, or null for no limit.");
        }
        Require.PositiveFinite(LearningRate);
        if (!Enum.IsDefined(Optimizer))
        {
            throw new ArgumentOutOfRangeException(nameof(Optimizer), Optimizer, "Unknown optimiser.");
        }
        ToAdamOptions().Validate();
        if (!Enum.IsDefined(Schedule))
        {
            throw new ArgumentOutOfRangeException(nameof(Schedule), Schedule, "Unknown schedule.");
        }
        if (NumpyCompatibleShuffle && (Seed < 0 || (long)Seed + MaxEpochs > uint.MaxValue))
        {
            throw new ArgumentOutOfRangeException(nameof(Seed), Seed, "NumPy's RandomState takes seeds in 0..2^32-1: with NumpyCompatibleShuffle, Seed + epoch must stay in that range.");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(PlateauPatience, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(PlateauStopPatience, 1);
        Require.That(PlateauDecayFactor > 1 && double.IsFinite(PlateauDecayFactor), PlateauDecayFactor, "Must be greater than 1 and finite.");
        Require.NonNegativeFinite(MinLearningRate);
        Require.NonNegativeFinite(WarmupEpochs);
        Require.PositiveFinite(CosineEpochs);
        Require.That(CosineMinFactor >= 0 && CosineMinFactor <= 1, CosineMinFactor, "Must be in [0, 1].");
        ArgumentOutOfRangeException.ThrowIfNegative(EarlyStoppingPatience);
        Require.NonNegativeFinite(EarlyStoppingMinDelta);
        ArgumentOutOfRangeException.ThrowIfLessThan(Workers, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(CheckpointIntervalEpochs);
        if (!ValidateEveryEpoch)
        {
            if (Schedule == ScheduleKind.Plateau)
            {
                throw new ArgumentException("The plateau schedule needs a validation value every epoch; set ValidateEveryEpoch or choose another schedule.", nameof(ValidateEveryEpoch));
            }
            if (EarlyStoppingPatience > 0)
            {
                throw new ArgumentException("Early stopping needs a validation value every epoch.", nameof(ValidateEveryEpoch));
            }
        }
    }

    internal AdamOptions ToAdamOptions() => new()
    {
        Beta1 = Beta1,
        Beta2 = Beta2,
        Epsilon = Epsilon,
        WeightDecay = WeightDecay,
        GradientClipValue = GradientClipValue,
    };

    internal LearningRateSchedule CreateSchedule() => Schedule switch
    {
        ScheduleKind.Plateau => new PlateauSchedule(LearningRate, PlateauPatience, PlateauStopPatience, PlateauDecayFactor, MinLearningRate),
        ScheduleKind.WarmupCosine => new WarmupCosineSchedule(LearningRate, WarmupEpochs, CosineEpochs, CosineMinFactor, ScheduleFollowsBudget),
        _ => new ConstantSchedule(LearningRate),
    };

    internal Optimizer CreateOptimizer(ParameterSet parameters) => Optimizer == OptimizerKind.AdamW
        ? new AdamW(parameters, ToAdamOptions())
        : new Adam(parameters, ToAdamOptions());
}
