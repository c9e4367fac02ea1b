using System;
using Microsoft.Extensions.Logging;
using Qinco.Training;

namespace Qinco.Core;

/// <summary>Settings of a <see cref="QincoQuantizer"/>. Create through <see cref="Quantizer.Qinco(int)"/> or directly.</summary>
public sealed record QincoOptions
{
    /// <summary>Floats per vector (required, at least 1).</summary>
    public int Dimension { get; init; }

    /// <summary>Number of code indices M (default 8): a plain codebook for step 0, then M − 1 neural steps.</summary>
    public int Steps { get; init; } = 8;

    /// <summary>Bits per code index, 1..16 (default 8: K = 256 codewords per step).</summary>
    public int CodebookBits { get; init; } = 8;

    /// <summary>Residual MLP blocks per neural step, L (default 2).</summary>
    public int ResidualBlocks { get; init; } = 2;

    /// <summary>Hidden width of the residual blocks, h (default 256).</summary>
    public int HiddenSize { get; init; } = 256;

    /// <summary>
    /// Whether the concat layer and every block's down-projection start at zero, so the untrained model is exactly
    /// the residual quantizer it is initialised from and training starts at RQ's error (default true). False
    /// reproduces the reference recipe (PyTorch's default init of every layer).
    /// </summary>
    public bool ZeroInitialization { get; init; } = true;

    /// <summary>
    /// Beams the encoder keeps between steps (default 5; 1 is QINCo1's greedy search). Wider beams find lower-error
    /// codes (QINCo2's beam search, ALGORITHM.md §5.4); training encodes the same way.
    /// </summary>
    public int BeamWidth { get; init; } = 5;

    /// <summary>
    /// Codewords per beam that go through the network at each step, pre-selected as the nearest base codewords to
    /// the beam's residual (QINCo2's pre-selection, §5.3; default 16); 0 evaluates all K, as QINCo1. With the
    /// defaults a step runs the network on 5 × 16 = 80 candidates instead of 256, so it is both faster and, with
    /// the beam, more accurate than QINCo1's exhaustive greedy search (see README, "QINCo on SIFT").
    /// </summary>
    public int Candidates { get; init; } = 16;

    /// <summary>
    /// What training minimises (default <see cref="QincoLoss.AllSteps"/>, the reference: every prefix of the code is
    /// trained to be a good lower-rate code).
    /// </summary>
    public QincoLoss Loss { get; init; } = QincoLoss.AllSteps;

    /// <summary>Beam width of the RQ whose codebooks initialise the model (default 5, matching the default encoder; the QINCo1 reference uses 1).</summary>
    public int InitializationBeamWidth { get; init; } = 5;

    /// <summary>Seed of the RQ initialisation and of the layer initialisation (default 1234).</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>Threads for encoding and RQ initialisation; -1 (default) uses all processors. Training uses <see cref="TrainingOptions.Workers"/>.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>The training loop's settings (default: <see cref="DefaultTraining"/>).</summary>
    public TrainingOptions Training { get; init; } = DefaultTraining();

    /// <summary>Where fitting logs; null logs nothing.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Codewords per step, <c>2^CodebookBits</c>.</summary>
    public int CodebookSize => 1 << CodebookBits;

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

    private const int RowSelectionLimit = Qinco.Core.Numerics.RowSelection.MaxTopK;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        ResidualQuantizerOptions.Require(Dimension >= 1, nameof(Dimension), Dimension, "must be at least 1");
        ResidualQuantizerOptions.Require(Steps >= 1 && Steps <= 256, nameof(Steps), Steps, "must be in 1..256");
        ResidualQuantizerOptions.Require(CodebookBits >= 1 && CodebookBits <= 16, nameof(CodebookBits), CodebookBits, "must be in 1..16");
        ResidualQuantizerOptions.Require(ResidualBlocks >= 0 && ResidualBlocks <= 64, nameof(ResidualBlocks), ResidualBlocks, "must be in 0..64");
        ResidualQuantizerOptions.Require(HiddenSize >= 1 && HiddenSize <= 65536, nameof(HiddenSize), HiddenSize, "must be in 1..65536");
        ResidualQuantizerOptions.Require(Enum.IsDefined(Loss), nameof(Loss), Loss, "is not a QincoLoss value");
        ResidualQuantizerOptions.Require(BeamWidth >= 1 && BeamWidth <= 256, nameof(BeamWidth), BeamWidth, "must be in 1..256");
        ResidualQuantizerOptions.Require(Candidates >= 0 && Candidates <= RowSelectionLimit, nameof(Candidates), Candidates, "must be 0 (all codewords) or in 1..1024");
        ResidualQuantizerOptions.Require(InitializationBeamWidth >= 1 && InitializationBeamWidth <= 1024, nameof(InitializationBeamWidth), InitializationBeamWidth, "must be in 1..1024");
        ResidualQuantizerOptions.Require(MaxDegreeOfParallelism == -1 || MaxDegreeOfParallelism >= 1, nameof(MaxDegreeOfParallelism), MaxDegreeOfParallelism, "must be -1 (all processors) or at least 1");
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
