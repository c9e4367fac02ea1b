using System;
using Qinco.Training;

namespace Qinco.Core;

/// <summary>Settings of a <see cref="QincoQuantizer"/>. Create through <see cref="Quantizer.Qinco(int)"/> or directly.</summary>
public record QincoOptions : QuantizerOptions
{
    /// <summary>
    /// The step architecture (default <see cref="QincoVersion.Qinco1"/>). <see cref="QincoVersion.Qinco2"/> (ALGORITHM.md
    /// §5): a codeword skip term (f = P_out·z_L + c), optional in/out projections to <see cref="EmbeddingSize"/>, a
    /// pre-selection codebook per step trained by the auxiliary loss of (5.7), mean/std normalisation (§5.2) and
    /// dead-codeword resets at the end of every epoch (§5.8). Use <see cref="Qinco2(int, Qinco2Preset)"/> for its presets.
    /// </summary>
    public QincoVersion Version { get; init; } = QincoVersion.Qinco1;

    /// <summary>QINCo2's width inside a step, De, 1..65,536 (default null: D, no projections); QINCo1 needs null.</summary>
    public int? EmbeddingSize { get; init; }

    /// <summary>Residual MLP blocks per neural step, L, 0..64 (default 2).</summary>
    public int ResidualBlocks { get; init; } = 2;

    /// <summary>Hidden width of the residual blocks, h, 1..65,536 (default 256).</summary>
    public int HiddenSize { get; init; } = 256;

    /// <summary>
    /// Whether the concat layer and every block's down-projection start at zero, so the untrained model is exactly
    /// the residual quantizer it is initialised from and training starts at RQ's error (default true). False
    /// reproduces the reference recipe (PyTorch's default init of every layer).
    /// </summary>
    public bool ZeroInitialization { get; init; } = true;

    /// <summary>
    /// How the encoder searches, in validation too and, unless <see cref="TrainingSearch"/> is set, in training (default
    /// beam 5 × 16 candidates): beams kept between steps (1 is QINCo1's greedy search) and codewords per beam that go
    /// through the network, pre-selected as the nearest base codewords to the beam's residual (QINCo2's pre-selection
    /// and beam search, ALGORITHM.md §5.3–5.4; 0 evaluates all K, as QINCo1). With the default a step runs the network
    /// on 5 × 16 = 80 candidates instead of 256, so it is both faster and, with the beam, more accurate than QINCo1's
    /// exhaustive greedy search (README, "QINCo on SIFT").
    /// </summary>
    public EncoderSearch Search { get; init; } = new(5, 16);

    /// <summary>
    /// How training encodes each batch before the gradient step (default null: <see cref="Search"/>). A cheaper search
    /// here buys more batches in a time budget; <see cref="Search"/> still encodes, validates (so it chooses the model
    /// kept) and is saved with the model. <see cref="WithTrainingRecipe"/> sets <see cref="CosineRecipeTrainingSearch"/>
    /// for <see cref="QincoTrainingRecipe.WarmupCosine"/>: at 500,000 vectors it runs about 3.7 times as many batches as
    /// beam 5 × 16 in the same time and reaches a lower validation MSE under beam 5 × 16 encoding.
    /// </summary>
    public EncoderSearch? TrainingSearch { get; init; }

    /// <summary>
    /// What training minimises (default <see cref="QincoLoss.AllSteps"/>, the reference: every prefix of the code is
    /// trained to be a good lower-rate code).
    /// </summary>
    public QincoLoss Loss { get; init; } = QincoLoss.AllSteps;

    /// <summary>Beam width of the RQ whose codebooks initialise the model, 1..<see cref="QuantizerLimits.MaxBeamWidth"/> (default 5, matching the default encoder; the QINCo1 reference uses 1).</summary>
    public int InitializationBeamWidth { get; init; } = 5;

    /// <summary>The training loop's settings (default: <see cref="DefaultTraining"/>); <see cref="QuantizerOptions.Parallelism"/> does not apply to training, which runs <see cref="TrainingOptions.Workers"/> workers.</summary>
    public TrainingOptions Training { get; init; } = DefaultTraining();

    /// <summary>
    /// The default training settings: Adam, learning rate 1e-4 (the reference's default) re-created every epoch,
    /// batch 256 (the reference's 1024 gives only 4 steps per epoch on a few thousand vectors), the plateau
    /// schedule of the reference (÷10 after 10 epochs without improvement, stop after 50 or below 2e-6), at most
    /// 1000 epochs, two workers; the initial model is validated too and kept when training never beats it.
    /// </summary>
    public static TrainingOptions DefaultTraining() => new()
    {
        LearningRate = 1e-4,
        BatchSize = 256,
        Optimizer = OptimizerKind.Adam,
        ResetOptimizerEachEpoch = true,
        Schedule = ScheduleKind.Plateau,
        MaxEpochs = 1000,
        Workers = 2,
        ValidateInitialParameters = true,
    };

    /// <summary>
    /// QINCo2's settings for a preset (ALGORITHM.md §5.9) on vectors of <paramref name="dimension"/> floats: S (L = 2,
    /// De = 128, Dh = 256), M (L = 4, De = Dh = 384) or L (L = 16, De = Dh = 384), with the reference's search (beam 32 ×
    /// 16 candidates) and training recipe (<see cref="TrainingOptions.Qinco2Preset"/>: AdamW 8e-4, weight decay 0.1,
    /// gradient clipping at 0.1, warm-up and cosine decay). Change any of them with <c>with</c> or the builder.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="preset"/> is not a <see cref="Qinco2Preset"/>.</exception>
    public static QincoOptions Qinco2(int dimension, Qinco2Preset preset) => new QincoOptions { Dimension = dimension }.WithQinco2Preset(preset);

    /// <summary>
    /// These settings with QINCo2's <paramref name="preset"/> applied (ALGORITHM.md §5.9): version, L, De, Dh, the
    /// reference's search (beam 32 × 16 candidates) and training recipe (<see cref="TrainingOptions.Qinco2Preset"/>, keeping
    /// this record's <see cref="TrainingOptions.Workers"/>, <see cref="TrainingOptions.MaxDuration"/>, <see cref="TrainingOptions.Seed"/>,
    /// shuffle order and device); the runtime type (e.g. <see cref="IvfQincoOptions"/>) and every other setting are kept.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="preset"/> is not a <see cref="Qinco2Preset"/>.</exception>
    public QincoOptions WithQinco2Preset(Qinco2Preset preset)
    {
        (int blocks, int embedding, int hidden) = preset switch
        {
            Core.Qinco2Preset.S => (2, 128, 256),
            Core.Qinco2Preset.M => (4, 384, 384),
            Core.Qinco2Preset.L => (16, 384, 384),
            _ => throw new ArgumentOutOfRangeException(nameof(preset), preset, "Not a QINCo2 preset."),
        };
        return this with
        {
            Version = QincoVersion.Qinco2,
            EmbeddingSize = embedding,
            ResidualBlocks = blocks,
            HiddenSize = hidden,
            Search = new EncoderSearch(32, 16),
            Training = KeepRunSettings(TrainingOptions.Qinco2Preset()),
        };
    }

    /// <summary>
    /// Training sets of at least this many vectors get <see cref="QincoTrainingRecipe.WarmupCosine"/> from
    /// <see cref="ChooseRecipe"/>; smaller ones <see cref="QincoTrainingRecipe.Plateau"/> (README, "Choosing the training recipe").
    /// </summary>
    public const long LargeTrainingSetRows = 100_000;

    /// <summary>
    /// The training recipe for a training set of <paramref name="trainingRows"/> vectors: <see cref="QincoTrainingRecipe.Plateau"/>
    /// below <see cref="LargeTrainingSetRows"/>, where many epochs run and the plateau schedule can act;
    /// <see cref="QincoTrainingRecipe.WarmupCosine"/> from there on, where a budget holds only a few epochs (about two at
    /// 500,000 vectors in 30 minutes on 2 cores), the plateau schedule's 10-epoch patience never divides the rate, and the
    /// warm-up cosine recipe reached a lower validation MSE in the same time (README, "Choosing the training recipe").
    /// </summary>
    /// <param name="trainingRows">Training vectors; at least 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="trainingRows"/> is negative.</exception>
    public static QincoTrainingRecipe ChooseRecipe(long trainingRows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(trainingRows);
        return trainingRows >= LargeTrainingSetRows ? QincoTrainingRecipe.WarmupCosine : QincoTrainingRecipe.Plateau;
    }

    /// <summary>
    /// These settings with the training recipe <paramref name="recipe"/>: <see cref="QincoTrainingRecipe.Plateau"/> is
    /// <see cref="DefaultTraining"/>, <see cref="QincoTrainingRecipe.WarmupCosine"/> is <see cref="TrainingOptions.Qinco2Preset"/>
    /// (AdamW 8e-4, weight decay 0.1, clipping 0.1, batch 1024, warm-up and cosine decay that follow
    /// <see cref="TrainingOptions.MaxDuration"/> when there is one) with <see cref="TrainingSearch"/> beam 1 × 16 candidates
    /// (<see cref="CosineRecipeTrainingSearch"/>; the plateau recipe clears it: training searches as the encoder). Either
    /// keeps this record's workers, time budget, seed, shuffle order and device; the architecture and the encoder's
    /// search are not touched.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="recipe"/> is not a <see cref="QincoTrainingRecipe"/>.</exception>
    public QincoOptions WithTrainingRecipe(QincoTrainingRecipe recipe) => recipe switch
    {
        QincoTrainingRecipe.Plateau => this with { Training = KeepRunSettings(DefaultTraining()), TrainingSearch = null },
        QincoTrainingRecipe.WarmupCosine => this with { Training = KeepRunSettings(TrainingOptions.Qinco2Preset()), TrainingSearch = CosineRecipeTrainingSearch },
        _ => throw new ArgumentOutOfRangeException(nameof(recipe), recipe, "Not a QincoTrainingRecipe."),
    };

    /// <summary>
    /// The training search of the warm-up cosine recipe: greedy (beam 1) over 16 pre-selected candidates. In a time
    /// budget that holds a few epochs, the batches it saves are worth more than the beams (README, "Choosing the training
    /// recipe": M = 16 on 500,000 vectors, 8 minutes, validation MSE under beam 5 × 16 encoding 10,332 against 11,860).
    /// </summary>
    public static EncoderSearch CosineRecipeTrainingSearch { get; } = new(1, 16);

    /// <summary><paramref name="recipe"/> with this record's run settings (workers, budget, seed, shuffle order, device).</summary>
    private TrainingOptions KeepRunSettings(TrainingOptions recipe) => recipe with
    {
        Workers = Training.Workers,
        MaxDuration = Training.MaxDuration,
        Seed = Training.Seed,
        NumpyCompatibleShuffle = Training.NumpyCompatibleShuffle,
        DeviceFactory = Training.DeviceFactory,
        // As every QINCo default: the starting model competes with every epoch, so training never returns worse than its RQ start.
        ValidateInitialParameters = true,
    };

    /// <summary>The shape of every neural step.</summary>
    internal QincoStepShape StepShape
    {
        get
        {
            int embedding = EmbeddingSize ?? Dimension;
            bool qinco2 = Version == QincoVersion.Qinco2;
            return new QincoStepShape(Dimension, CodebookSize, embedding, HiddenSize, ResidualBlocks, qinco2 && embedding != Dimension, qinco2 ? 1f : 0f, qinco2);
        }
    }

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        QuantizerLimits.Require(Enum.IsDefined(Version), nameof(Version), Version, "is not a QincoVersion value");
        QuantizerLimits.Require(EmbeddingSize is null || (Version == QincoVersion.Qinco2 && EmbeddingSize is >= 1 and <= 65536), nameof(EmbeddingSize), EmbeddingSize ?? 0,
            "must be null for QINCo1, or in 1..65536 for QINCo2");
        QuantizerLimits.Require(ResidualBlocks >= 0 && ResidualBlocks <= 64, nameof(ResidualBlocks), ResidualBlocks, "must be in 0..64");
        QuantizerLimits.Require(HiddenSize >= 1 && HiddenSize <= 65536, nameof(HiddenSize), HiddenSize, "must be in 1..65536");
        QuantizerLimits.Require(Enum.IsDefined(Loss), nameof(Loss), Loss, "is not a QincoLoss value");
        Search.Validate();
        TrainingSearch?.Validate();
        QuantizerLimits.Require(InitializationBeamWidth >= 1 && InitializationBeamWidth <= QuantizerLimits.MaxBeamWidth, nameof(InitializationBeamWidth), InitializationBeamWidth, $"must be in 1..{QuantizerLimits.MaxBeamWidth}");
        ArgumentNullException.ThrowIfNull(Training, nameof(Training));
        Training.Validate();
    }
}

/// <summary>The step architecture of a QINCo model.</summary>
public enum QincoVersion
{
    /// <summary>QINCo1 (ICML 2024, ALGORITHM.md §1): f(c, x̂) = z_L, scale normalisation.</summary>
    Qinco1 = 1,

    /// <summary>QINCo2 (ICLR 2025, ALGORITHM.md §5): skip term, projections, pre-selection codebooks, mean/std normalisation, dead-codeword resets.</summary>
    Qinco2 = 2,
}

/// <summary>The training recipes of a QINCo model (<see cref="QincoOptions.WithTrainingRecipe"/>, <see cref="QincoOptions.ChooseRecipe"/>).</summary>
public enum QincoTrainingRecipe
{
    /// <summary>QINCo1's reference: Adam 1e-4 re-created every epoch, batch 256, ÷10 after a 10-epoch plateau (<see cref="QincoOptions.DefaultTraining"/>).</summary>
    Plateau = 1,

    /// <summary>QINCo2's: AdamW 8e-4, batch 1024, gradient clipping, warm-up and cosine decay over the epochs or the time budget (<see cref="TrainingOptions.Qinco2Preset"/>).</summary>
    WarmupCosine = 2,
}

/// <summary>QINCo2's model presets (ALGORITHM.md §5.9).</summary>
public enum Qinco2Preset
{
    /// <summary>L = 2, De = 128, Dh = 256.</summary>
    S = 1,

    /// <summary>L = 4, De = Dh = 384.</summary>
    M = 2,

    /// <summary>L = 16, De = Dh = 384.</summary>
    L = 3,
}

/// <summary>The training objective of a <see cref="QincoQuantizer"/>.</summary>
public enum QincoLoss
{
    /// <summary>The sum over steps m of the error after step m (ALGORITHM.md §1.6): every prefix is trained.</summary>
    AllSteps = 0,

    /// <summary>Only the error of the full code: best full-rate MSE; prefixes are no longer trained for themselves.</summary>
    FinalStep = 1,
}
