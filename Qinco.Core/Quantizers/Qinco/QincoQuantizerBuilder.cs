using System;
using Microsoft.Extensions.Logging;
using Qinco.Training;

namespace Qinco.Core;

/// <summary>Fluent builder of <see cref="QincoQuantizer"/>: <c>Quantizer.Qinco(d).WithSteps(8).WithTraining(t =&gt; t.MaxEpochs(20)).Build()</c>.</summary>
public sealed class QincoQuantizerBuilder : QuantizerBuilder<QincoQuantizerBuilder, QincoOptions, QincoQuantizer>
{
    internal QincoQuantizerBuilder(QincoOptions options)
        : base(options)
    {
    }

    /// <summary>Residual blocks per step, L (default 2).</summary>
    public QincoQuantizerBuilder WithResidualBlocks(int blocks) => Set(Options with { ResidualBlocks = blocks });

    /// <summary>Hidden width of the residual blocks, h (default 256).</summary>
    public QincoQuantizerBuilder WithHiddenSize(int hidden) => Set(Options with { HiddenSize = hidden });

    /// <summary>Whether the layers start at zero so the untrained model equals its RQ initialisation (default true).</summary>
    public QincoQuantizerBuilder WithZeroInitialization(bool enabled) => Set(Options with { ZeroInitialization = enabled });

    /// <summary>
    /// The encoder's search, in training too (default beam 5 × 16 candidates): <paramref name="beamWidth"/> beams and
    /// <paramref name="candidates"/> pre-selected codewords per beam (0 = all K; null keeps the current count).
    /// <c>WithEncoding(1, 0)</c> is QINCo1's greedy exhaustive search.
    /// </summary>
    public QincoQuantizerBuilder WithEncoding(int beamWidth, int? candidates = null) =>
        Set(Options with { Search = new EncoderSearch(beamWidth, candidates ?? Options.Search.Candidates) });

    /// <summary>The training objective (default: the sum over all steps, as the reference).</summary>
    public QincoQuantizerBuilder WithLoss(QincoLoss loss) => Set(Options with { Loss = loss });

    /// <summary>Beam width of the RQ that initialises the codebooks (default 5; the QINCo1 reference uses 1).</summary>
    public QincoQuantizerBuilder WithInitializationBeamWidth(int beamWidth) => Set(Options with { InitializationBeamWidth = beamWidth });

    /// <summary>Adjusts the training settings, e.g. <c>t =&gt; t.LearningRate(1e-3).MaxEpochs(200).Workers(2)</c>.</summary>
    public QincoQuantizerBuilder WithTraining(Func<TrainingBuilder, TrainingBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return Set(Options with { Training = configure(new TrainingBuilder(Options.Training)).Options });
    }

    /// <inheritdoc/>
    public override QincoQuantizer Build() => new(Options);
}

/// <summary>Fluent adjustments of <see cref="TrainingOptions"/>, used by <see cref="QincoQuantizerBuilder.WithTraining"/>.</summary>
public sealed class TrainingBuilder
{
    internal TrainingBuilder(TrainingOptions options) => Options = options;

    /// <summary>The options gathered so far.</summary>
    public TrainingOptions Options { get; private set; }

    /// <summary>Initial learning rate.</summary>
    public TrainingBuilder LearningRate(double value) => Set(Options with { LearningRate = value });

    /// <summary>Largest number of epochs.</summary>
    public TrainingBuilder MaxEpochs(int value) => Set(Options with { MaxEpochs = value });

    /// <summary>Wall-clock budget; training stops between optimiser steps once it is spent.</summary>
    public TrainingBuilder MaxDuration(TimeSpan value) => Set(Options with { MaxDuration = value });

    /// <summary>Vectors per optimiser step.</summary>
    public TrainingBuilder BatchSize(int value) => Set(Options with { BatchSize = value });

    /// <summary>Data-parallel workers a batch is split over.</summary>
    public TrainingBuilder Workers(int value) => Set(Options with { Workers = value });

    /// <summary>Seed of the per-epoch shuffles.</summary>
    public TrainingBuilder Seed(int value) => Set(Options with { Seed = value });

    /// <summary>Shuffle every epoch as NumPy's <c>RandomState(seed + epoch).permutation</c> (see <see cref="TrainingOptions.NumpyCompatibleShuffle"/>).</summary>
    public TrainingBuilder NumpyCompatibleShuffle(bool value = true) => Set(Options with { NumpyCompatibleShuffle = value });

    /// <summary>Optimiser kind (Adam or AdamW) and its decoupled or L2 weight decay.</summary>
    public TrainingBuilder Optimizer(OptimizerKind kind, double weightDecay = 0) => Set(Options with { Optimizer = kind, WeightDecay = weightDecay });

    /// <summary>Whether the optimiser's moments are reset at every epoch, as the QINCo1 reference does.</summary>
    public TrainingBuilder ResetOptimizerEachEpoch(bool value) => Set(Options with { ResetOptimizerEachEpoch = value });

    /// <summary>Learning-rate schedule kind.</summary>
    public TrainingBuilder Schedule(ScheduleKind kind) => Set(Options with { Schedule = kind });

    /// <summary>Plateau schedule: epochs without improvement before the rate is divided, and before training stops.</summary>
    public TrainingBuilder Plateau(int patience, int stopPatience) => Set(Options with { PlateauPatience = patience, PlateauStopPatience = stopPatience });

    /// <summary>Any other change: <c>t =&gt; t.With(o =&gt; o with { GradientClipValue = 0.1 })</c>.</summary>
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
