using System;
using Microsoft.Extensions.Logging;
using Qinco.Training;

namespace Qinco.Core;

/// <summary>Fluent builder of <see cref="QincoQuantizer"/>; every method returns the builder, <see cref="Build"/> validates.</summary>
public sealed class QincoQuantizerBuilder
{
    private QincoOptions _options;

    internal QincoQuantizerBuilder(QincoOptions options) => _options = options;

    /// <summary>The options gathered so far.</summary>
    public QincoOptions Options => _options;

    /// <summary>Number of code indices M (default 8).</summary>
    public QincoQuantizerBuilder WithSteps(int steps) => Set(_options with { Steps = steps });

    /// <summary>Bits per code index (default 8).</summary>
    public QincoQuantizerBuilder WithCodebookBits(int bits) => Set(_options with { CodebookBits = bits });

    /// <summary>Residual blocks per step, L (default 2).</summary>
    public QincoQuantizerBuilder WithResidualBlocks(int blocks) => Set(_options with { ResidualBlocks = blocks });

    /// <summary>Hidden width of the residual blocks, h (default 256).</summary>
    public QincoQuantizerBuilder WithHiddenSize(int hidden) => Set(_options with { HiddenSize = hidden });

    /// <summary>Whether the layers start at zero so the untrained model equals its RQ initialisation (default true).</summary>
    public QincoQuantizerBuilder WithZeroInitialization(bool enabled) => Set(_options with { ZeroInitialization = enabled });

    /// <summary>Encoder beam width (default 1, greedy) and pre-selected candidates per beam (default 0: all K).</summary>
    public QincoQuantizerBuilder WithEncoding(int beamWidth, int candidates = 0) => Set(_options with { BeamWidth = beamWidth, Candidates = candidates });

    /// <summary>The training objective (default: the sum over all steps, as the reference).</summary>
    public QincoQuantizerBuilder WithLoss(QincoLoss loss) => Set(_options with { Loss = loss });

    /// <summary>Beam width of the initialising RQ (default 1).</summary>
    public QincoQuantizerBuilder WithInitializationBeamWidth(int beamWidth) => Set(_options with { InitializationBeamWidth = beamWidth });

    /// <summary>Seed of the initialisations (default 1234); the training shuffle has its own seed (<see cref="TrainingOptions.Seed"/>).</summary>
    public QincoQuantizerBuilder WithSeed(int seed) => Set(_options with { Seed = seed });

    /// <summary>Threads for encoding and RQ initialisation; -1 (default) uses all processors.</summary>
    public QincoQuantizerBuilder WithThreads(int maxDegreeOfParallelism) => Set(_options with { MaxDegreeOfParallelism = maxDegreeOfParallelism });

    /// <summary>Logs fitting to <paramref name="loggerFactory"/>.</summary>
    public QincoQuantizerBuilder WithLogging(ILoggerFactory loggerFactory) => Set(_options with { LoggerFactory = loggerFactory });

    /// <summary>Adjusts the training settings, e.g. <c>t =&gt; t.LearningRate(1e-3).MaxEpochs(200).Workers(2)</c>.</summary>
    public QincoQuantizerBuilder WithTraining(Func<TrainingBuilder, TrainingBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return Set(_options with { Training = configure(new TrainingBuilder(_options.Training)).Options });
    }

    /// <summary>Validates the options and creates an untrained quantizer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid; the exception names it.</exception>
    public QincoQuantizer Build() => new(_options);

    private QincoQuantizerBuilder Set(QincoOptions options)
    {
        _options = options;
        return this;
    }
}
