using System;
using Microsoft.Extensions.Logging;
using Qinco.Training;

namespace Qinco.Core;

/// <summary>The QINCo settings of a fluent builder (shared by <see cref="QincoQuantizerBuilder"/> and <see cref="IvfQincoQuantizerBuilder"/>).</summary>
/// <typeparam name="TBuilder">The concrete builder.</typeparam>
/// <typeparam name="TOptions">Its options record.</typeparam>
/// <typeparam name="TQuantizer">The quantizer built.</typeparam>
public abstract class QincoBuilderBase<TBuilder, TOptions, TQuantizer> : QuantizerBuilder<TBuilder, TOptions, TQuantizer>
    where TBuilder : QincoBuilderBase<TBuilder, TOptions, TQuantizer>
    where TOptions : QincoOptions
{
    private protected QincoBuilderBase(TOptions options)
        : base(options)
    {
    }

    /// <summary>
    /// QINCo2 with a preset's architecture, search and training recipe (ALGORITHM.md §5.9, <see cref="QincoOptions.WithQinco2Preset"/>):
    /// S (L = 2, De = 128, Dh = 256), M (L = 4, De = Dh = 384) or L (L = 16, De = Dh = 384). Call it before the settings it should
    /// not overwrite (blocks, hidden size, encoding, training).
    /// </summary>
    public TBuilder WithQinco2(Qinco2Preset preset = Qinco2Preset.S) => Set((TOptions)Options.WithQinco2Preset(preset));

    /// <summary>The step architecture (default <see cref="QincoVersion.Qinco1"/>); <see cref="WithQinco2"/> also sets QINCo2's preset.</summary>
    public TBuilder WithVersion(QincoVersion version) => Set((TOptions)((QincoOptions)Options with { Version = version }));

    /// <summary>QINCo2's width inside a step, De (null: D, no projections).</summary>
    public TBuilder WithEmbeddingSize(int? embedding) => Set((TOptions)((QincoOptions)Options with { EmbeddingSize = embedding }));

    /// <summary>Residual blocks per step, L (default 2).</summary>
    public TBuilder WithResidualBlocks(int blocks) => Set((TOptions)((QincoOptions)Options with { ResidualBlocks = blocks }));

    /// <summary>Hidden width of the residual blocks, h (default 256).</summary>
    public TBuilder WithHiddenSize(int hidden) => Set((TOptions)((QincoOptions)Options with { HiddenSize = hidden }));

    /// <summary>Whether the layers start at zero so the untrained model equals its RQ initialisation (default true).</summary>
    public TBuilder WithZeroInitialization(bool enabled) => Set((TOptions)((QincoOptions)Options with { ZeroInitialization = enabled }));

    /// <summary>
    /// The encoder's search (default beam 5 × 16 candidates), which validation uses and training too unless
    /// <see cref="WithTrainingSearch"/> sets another: <paramref name="beamWidth"/> beams and <paramref name="candidates"/>
    /// pre-selected codewords per beam (0 = all K; null keeps the current count). <c>WithEncoding(1, 0)</c> is QINCo1's
    /// greedy exhaustive search.
    /// </summary>
    public TBuilder WithEncoding(int beamWidth, int? candidates = null) =>
        Set((TOptions)((QincoOptions)Options with { Search = new EncoderSearch(beamWidth, candidates ?? Options.Search.Candidates) }));

    /// <summary>
    /// How training encodes each batch before the gradient step (<see cref="QincoOptions.TrainingSearch"/>; null: the
    /// encoder's search). The warm-up cosine recipe sets beam 1 × 16 candidates; call this after <see cref="WithTrainingRecipe"/>
    /// to choose another. The encoder's search still encodes, validates and is saved.
    /// </summary>
    public TBuilder WithTrainingSearch(EncoderSearch? search) => Set((TOptions)((QincoOptions)Options with { TrainingSearch = search }));

    /// <summary>The training objective (default: the sum over all steps, as the reference).</summary>
    public TBuilder WithLoss(QincoLoss loss) => Set((TOptions)((QincoOptions)Options with { Loss = loss }));

    /// <summary>Beam width of the RQ that initialises the codebooks (default 5; the QINCo1 reference uses 1).</summary>
    public TBuilder WithInitializationBeamWidth(int beamWidth) => Set((TOptions)((QincoOptions)Options with { InitializationBeamWidth = beamWidth }));

    /// <summary>
    /// The training recipe (<see cref="QincoOptions.WithTrainingRecipe"/>): <see cref="QincoTrainingRecipe.Plateau"/>
    /// (QINCo1's default) or <see cref="QincoTrainingRecipe.WarmupCosine"/> (QINCo2's). Keeps the workers, budget and seed;
    /// call <see cref="WithTraining"/> afterwards to change single settings.
    /// </summary>
    public TBuilder WithTrainingRecipe(QincoTrainingRecipe recipe) => Set((TOptions)Options.WithTrainingRecipe(recipe));

    /// <summary>
    /// The recipe <see cref="QincoOptions.ChooseRecipe"/> picks for <paramref name="trainingRows"/> training vectors
    /// (warm-up cosine from <see cref="QincoOptions.LargeTrainingSetRows"/> on, the plateau recipe below).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="trainingRows"/> is negative.</exception>
    public TBuilder WithTrainingRecipeFor(long trainingRows) => WithTrainingRecipe(QincoOptions.ChooseRecipe(trainingRows));

    /// <summary>Adjusts the training settings, e.g. <c>t =&gt; t.LearningRate(1e-3).MaxEpochs(200).Workers(2)</c>.</summary>
    public TBuilder WithTraining(Func<TrainingBuilder, TrainingBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return Set((TOptions)((QincoOptions)Options with { Training = configure(new TrainingBuilder(Options.Training)).Options }));
    }
}

/// <summary>Fluent builder of <see cref="QincoQuantizer"/>: <c>Quantizer.Qinco(d).WithSteps(8).WithTraining(t =&gt; t.MaxEpochs(20)).Build()</c>.</summary>
public sealed class QincoQuantizerBuilder : QincoBuilderBase<QincoQuantizerBuilder, QincoOptions, QincoQuantizer>
{
    internal QincoQuantizerBuilder(QincoOptions options)
        : base(options)
    {
    }

    /// <inheritdoc/>
    public override QincoQuantizer Build() => new(Options);
}

/// <summary>Fluent builder of <see cref="IvfQincoQuantizer"/>: <c>Quantizer.IvfQinco(d).WithLists(1024).WithSteps(8).Build()</c>.</summary>
public sealed class IvfQincoQuantizerBuilder : QincoBuilderBase<IvfQincoQuantizerBuilder, IvfQincoOptions, IvfQincoQuantizer>
{
    internal IvfQincoQuantizerBuilder(IvfQincoOptions options)
        : base(options)
    {
    }

    /// <summary>Number of inverted lists N (default: chosen from the training size, <see cref="IvfQincoOptions.DefaultLists"/>).</summary>
    public IvfQincoQuantizerBuilder WithLists(int? lists) => Set(Options with { Lists = lists });

    /// <summary>Lists whose centroids start the encoder's beams (default 1: the nearest).</summary>
    public IvfQincoQuantizerBuilder WithProbedLists(int lists) => Set(Options with { ProbedLists = lists });

    /// <summary>Lloyd iterations of the coarse k-means (default 10).</summary>
    public IvfQincoQuantizerBuilder WithCoarseIterations(int iterations) => Set(Options with { CoarseIterations = iterations });

    /// <inheritdoc/>
    public override IvfQincoQuantizer Build() => new(Options);
}
