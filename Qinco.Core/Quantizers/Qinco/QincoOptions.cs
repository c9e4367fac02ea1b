using System;
using Qinco.Training;

namespace Qinco.Core;

/// <summary>Settings of a <see cref="QincoQuantizer"/>. Create through <see cref="Quantizer.Qinco(int)"/> or directly.</summary>
public record QincoOptions : QuantizerOptions
{
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
    /// How the encoder searches, in training too (default beam 5 × 16 candidates): beams kept between steps (1 is
    /// QINCo1's greedy search) and codewords per beam that go through the network, pre-selected as the nearest base
    /// codewords to the beam's residual (QINCo2's pre-selection and beam search, ALGORITHM.md §5.3–5.4; 0 evaluates
    /// all K, as QINCo1). With the default a step runs the network on 5 × 16 = 80 candidates instead of 256, so it is
    /// both faster and, with the beam, more accurate than QINCo1's exhaustive greedy search (README, "QINCo on SIFT").
    /// </summary>
    public EncoderSearch Search { get; init; } = new(5, 16);

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

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        QuantizerLimits.Require(ResidualBlocks >= 0 && ResidualBlocks <= 64, nameof(ResidualBlocks), ResidualBlocks, "must be in 0..64");
        QuantizerLimits.Require(HiddenSize >= 1 && HiddenSize <= 65536, nameof(HiddenSize), HiddenSize, "must be in 1..65536");
        QuantizerLimits.Require(Enum.IsDefined(Loss), nameof(Loss), Loss, "is not a QincoLoss value");
        Search.Validate();
        QuantizerLimits.Require(InitializationBeamWidth >= 1 && InitializationBeamWidth <= QuantizerLimits.MaxBeamWidth, nameof(InitializationBeamWidth), InitializationBeamWidth, $"must be in 1..{QuantizerLimits.MaxBeamWidth}");
        ArgumentNullException.ThrowIfNull(Training, nameof(Training));
        Training.Validate();
    }
}

/// <summary>The training objective of a <see cref="QincoQuantizer"/>.</summary>
public enum QincoLoss
{
    /// <summary>The sum over steps m of the error after step m (ALGORITHM.md §1.6): every prefix is trained.</summary>
    AllSteps = 0,

    /// <summary>Only the error of the full code: best full-rate MSE; prefixes are no longer trained for themselves.</summary>
    FinalStep = 1,
}
