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
