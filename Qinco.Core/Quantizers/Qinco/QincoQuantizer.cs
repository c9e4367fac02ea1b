using System;
using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using System.Threading;
using Microsoft.Extensions.Logging;
using Qinco.Core.Numerics;
using Qinco.Core.Serialization;
using Qinco.Training;

namespace Qinco.Core;

/// <summary>
/// QINCo (Huijben et al., ICML 2024): residual quantization whose codebook at every step is predicted by a small
/// neural network from the reconstruction so far. Step 0 is a plain codebook; each later step m maps a base codeword
/// c and the current reconstruction x̂ to <c>f_m(c, x̂) = z_L</c> with <c>z_0 = c + W·[c; x̂] + b</c> and L residual
/// blocks <c>z ← z + V·ReLU(U·z)</c> (ALGORITHM.md §1).
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>code size</term><description><c>ceil(M * bits / 8)</c> bytes per vector</description></item>
/// <item><term>training</term><description>required: RQ initialisation, then Adam with early stopping on the validation MSE (<see cref="QincoOptions.Training"/>)</description></item>
/// <item><term>encoding</term><description><see cref="QincoOptions.Search"/>: by default a beam of 5 with 16 pre-selected candidates per beam (QINCo2's search, §5.3–5.4); <see cref="EncoderSearch.Greedy"/> is QINCo1's exhaustive greedy search (§1.5)</description></item>
/// <item><term>determinism</term><description>same seed, options, worker count and kernel variant give bit-identical models and codes</description></item>
/// <item><term>thread safety</term><description><c>Encode</c>/<c>Decode</c> are safe from many threads once trained</description></item>
/// <item><term>prefix decoding</term><description>every prefix of m steps is trained to be a good m-step code</description></item>
/// </list>
/// Data is divided by a scale s (the largest value of the training set) inside the model, as the reference does.
/// </remarks>
public sealed partial class QincoQuantizer : QuantizerBase
{
    /// <summary>Candidate rows (vectors × beams × candidates) evaluated together by the encoder's GEMMs.</summary>
    private const int TileRows = 1024;

    private readonly ILogger _logger;
    private QincoModel? _model;
    private Qinco1Tables[] _tables = [];

    /// <summary>Creates an untrained quantizer; the options are validated here.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid (the option is named).</exception>
    public QincoQuantizer(QincoOptions options)
        : base(Checked(options).Dimension, options.Steps, options.CodebookBits, options.Parallelism, options.LoggerFactory)
    {
        Options = options;
        _logger = LoggerFactory.CreateLogger<QincoQuantizer>();
    }

    /// <summary>The settings this quantizer was built with.</summary>
    public QincoOptions Options { get; }

    /// <inheritdoc/>
    public override QuantizerKind Kind => QuantizerKind.Qinco;

    /// <inheritdoc/>
    public override bool IsTrained => _model is not null;

    /// <inheritdoc/>
    public override string Description => string.Create(CultureInfo.InvariantCulture,
        $"QINCo L={Options.ResidualBlocks} h={Options.HiddenSize} {Options.Search} (M={Steps}, K={CodebookSize})");

    /// <inheritdoc/>
    public override EncoderSearch Search => Options.Search;

    /// <summary>The data scale s the model divides inputs by (set by <see cref="QuantizerBase.Fit"/>).</summary>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    public float Scale => RequireModel().Scale;

    /// <summary>Number of trainable parameters.</summary>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    public long ParameterCount => RequireModel().ParameterCount;

    /// <summary>The outcome of the last <see cref="QuantizerBase.Fit"/> (epochs, best validation MSE, why it stopped), or null.</summary>
    public TrainingResult? LastTraining { get; private set; }

    /// <summary>Validation MSE of the RQ initialisation measured by the last <see cref="QuantizerBase.Fit"/>, before any training.</summary>
    public double? InitialValidationMse { get; private set; }

    private protected override int EncodeTileVectors => TileVectors(Options.Search, CodebookSize);

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">The search is invalid (the field is named).</exception>
    public override IQuantizer WithSearch(EncoderSearch search)
    {
        QincoModel model = RequireModel();
        search.Validate();
        var copy = new QincoQuantizer(Options with { Search = search });
        copy.Use(model, _tables);
        return copy;
    }

    /// <summary>A quantizer sharing this one's trained network but encoding with another beam width and candidate count (codes stay compatible).</summary>
    /// <param name="beamWidth">Beams kept between steps.</param>
    /// <param name="candidates">Codewords per beam pre-selected for the network; null keeps the current count, 0 evaluates all K.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range (named).</exception>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    public QincoQuantizer WithEncoding(int beamWidth, int? candidates = null) =>
        (QincoQuantizer)WithSearch(new EncoderSearch(beamWidth, candidates ?? Options.Search.Candidates));

    /// <remarks>
    /// Without <paramref name="validation"/>, the first min(n, 2048) training vectors serve as the validation set
    /// (early stopping then watches training error). Cancellation stops training between optimiser steps and keeps
    /// the best model so far (the quantizer is trained afterwards); a cancellation during the RQ initialisation throws
    /// <see cref="OperationCanceledException"/>.
    /// </remarks>
    private protected override void FitCore(VectorSet train, VectorSet? validation, IProgress<FitProgress>? progress, CancellationToken cancellationToken)
    {
        if (validation is { Count: 0 })
        {
            throw new ArgumentException("The validation set is empty: give vectors or no validation set.", nameof(validation));
        }
        var clock = Stopwatch.StartNew();
        QincoModel model = Initialize(train, progress, cancellationToken);
        QincoTrainingModel trainingModel = CreateTrainingModel(model, train, validation);
        // The trainer validates the start itself when it keeps it as a candidate; measure it here only otherwise.
        double? initialMse = Options.Training.ValidateInitialParameters ? null : trainingModel.Validate(cancellationToken);
        LogInitialised(model.ParameterCount, clock.Elapsed.TotalSeconds);
        Train(model, trainingModel, null, progress, clock, cancellationToken);
        InitialValidationMse = initialMse ?? LastTraining!.InitialValidationMetric;
    }

    /// <summary>
    /// Initialises the model without training it (RQ codebooks, layers per <see cref="QincoOptions.ZeroInitialization"/>)
    /// and makes it usable: for benchmarks of encoding cost, and for tests of the untrained model.
    /// </summary>
    internal void FitInitializationOnly(VectorSet train)
    {
        CheckSet(train, nameof(train), allowEmpty: false);
        Use(Initialize(train, null, CancellationToken.None));
    }

    /// <summary>
    /// Continues an interrupted fit from <paramref name="checkpoint"/> (e.g. <c>LastTraining.Checkpoint</c> of a
    /// cancelled run, saved with <see cref="TrainingCheckpoint.Save"/>): with the same data, options and worker count
    /// the result is bit-identical to an uninterrupted run.
    /// </summary>
    /// <exception cref="ArgumentException">Bad input, or a checkpoint of another model shape or other training options.</exception>
    public void ResumeFit(VectorSet train, VectorSet? validation, TrainingCheckpoint checkpoint, IProgress<FitProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        CheckSet(train, nameof(train), allowEmpty: false);
        if (validation is not null)
        {
            CheckSet(validation, nameof(validation), allowEmpty: false);
        }
        var clock = Stopwatch.StartNew();
        QincoModel model = QincoModel.Zeros(Dimension, CodebookSize, Steps, Options.ResidualBlocks, Options.HiddenSize, DataScale(train.Data));
        Train(model, CreateTrainingModel(model, train, validation), checkpoint, progress, clock, cancellationToken);
    }

    private protected override void EncodeTile(ReadOnlySpan<float> vectors, int count, Span<int> codes, int threads)
    {
        QincoModel model = _model!;
        using var lease = Pool.Lease(count * Dimension, out float[] normalised);
        using var activations = new Qinco1Activations(Dimension, model.Hidden, model.Blocks, keepLayers: false);
        Span<float> x = normalised.AsSpan(0, count * Dimension);
        TensorPrimitives.Divide(vectors, model.Scale, x);
        BeamSearch<QincoBeamSteps>.Encode(new QincoBeamSteps(model, _tables, activations), Options.Search, x, count, 0, Steps, [], codes, [], threads);
    }

    private protected override void DecodeTile(ReadOnlySpan<int> codes, int count, int steps, Span<float> destination)
    {
        QincoModel model = _model!;
        using var activations = new Qinco1Activations(Dimension, model.Hidden, model.Blocks, keepLayers: false);
        using var lease = Pool.Lease(count, out int[] stepCodes);
        model.Decode(_tables, codes, count, steps, destination, activations, stepCodes);
        TensorPrimitives.Multiply(destination[..(count * Dimension)], model.Scale, destination);
    }

    private protected override void WriteFields(ModelFile file)
    {
        QincoModel model = _model!;
        file.Set("residual_blocks", Options.ResidualBlocks);
        file.Set("hidden_size", Options.HiddenSize);
        file.Set("scale", (double)model.Scale);
        file.Set("beam_width", Options.Search.BeamWidth);
        file.Set("candidates", Options.Search.Candidates);
        foreach (ModelTensor tensor in model.Tensors)
        {
            file.Set(tensor.Name, tensor.Values, tensor.Shape);
        }
    }

    internal static QincoQuantizer Read(ModelFile file, ModelHeader header, Parallelism parallelism, ILoggerFactory? loggerFactory)
    {
        var options = new QincoOptions
        {
            Dimension = header.Dimension,
            Steps = header.Steps,
            CodebookBits = header.CodebookBits,
            ResidualBlocks = file.GetInt32("residual_blocks", 0, 64),
            HiddenSize = file.GetInt32("hidden_size", 1, 65536),
            Search = new EncoderSearch(file.GetInt32("beam_width", 1, QuantizerLimits.MaxBeamWidth), file.GetInt32("candidates", 0, QuantizerLimits.MaxCandidates)),
            Parallelism = parallelism,
            LoggerFactory = loggerFactory,
        };
        double scale = file.GetFloat64("scale");
        if (!(scale > 0) || !float.IsFinite((float)scale) || (float)scale == 0)
        {
            throw new ModelFormatException($"Model field 'scale' is {scale}; it must be a positive number that float32 represents (not 0 or infinity once converted).");
        }
        var quantizer = new QincoQuantizer(options);
        // Tensors are taken from the file as read (sized by the bytes present), never allocated from the header's shape fields.
        var model = new QincoModel(options.Dimension, options.CodebookSize, options.Steps, options.ResidualBlocks, options.HiddenSize, (float)scale, file.GetFiniteFloats);
        quantizer.Use(model);
        return quantizer;
    }

    /// <summary>Vectors per encoder tile: about <see cref="TileRows"/> candidate rows per GEMM.</summary>
    internal static int TileVectors(EncoderSearch search, int codebookSize) => Math.Max(1, TileRows / (search.BeamWidth * search.CandidatesPerBeam(codebookSize)));

    /// <summary>
    /// Encodes normalised vectors in tiles (in parallel when there are enough of them): codes [n, M] and, when
    /// <paramref name="reconstruction"/> is not empty, the normalised reconstructions [n, D].
    /// </summary>
    internal static void EncodeNormalised(QincoModel model, Qinco1Tables[] tables, EncoderSearch search, float[] x, int n, int[] codes, float[] reconstruction, int threads)
    {
        int d = model.Dimension, m = model.Steps;
        ForEachTile(n, TileVectors(search, model.CodebookSize), threads, (first, count, innerThreads) =>
        {
            using var activations = new Qinco1Activations(d, model.Hidden, model.Blocks, keepLayers: false);
            BeamSearch<QincoBeamSteps>.Encode(new QincoBeamSteps(model, tables, activations), search, x.AsSpan(first * d, count * d), count, 0, m, [],
                codes.AsSpan(first * m, count * m), reconstruction.Length == 0 ? [] : reconstruction.AsSpan(first * d, count * d), innerThreads);
        });
    }

    /// <summary>RQ initialisation on the raw training set (§1.7), then the layers.</summary>
    private QincoModel Initialize(VectorSet train, IProgress<FitProgress>? progress, CancellationToken cancellationToken)
    {
        float scale = DataScale(train.Data);
        var rq = new ResidualQuantizer(new ResidualQuantizerOptions
        {
            Dimension = Dimension,
            Steps = Steps,
            CodebookBits = CodebookBits,
            BeamWidth = Options.InitializationBeamWidth,
            Seed = Options.Seed,
            Parallelism = Parallelism,
        });
        var rqProgress = progress is null ? null : new Progress<FitProgress>(p => progress.Report(p with { Phase = "RQ initialisation: " + p.Phase }));
        rq.FitChecked(train, rqProgress, cancellationToken); // train was checked once, by Fit

        QincoModel model = QincoModel.Zeros(Dimension, CodebookSize, Steps, Options.ResidualBlocks, Options.HiddenSize, scale);
        TensorPrimitives.Divide(rq.GetCodebook(0), scale, model.Codebook0);
        for (int m = 1; m < Steps; m++)
        {
            TensorPrimitives.Divide(rq.GetCodebook(m), scale, model.Step(m).Parameters.Codebook);
        }
        model.InitializeLayers(Options.ZeroInitialization, Options.Seed);
        return model;
    }

    private QincoTrainingModel CreateTrainingModel(QincoModel model, VectorSet train, VectorSet? validation)
    {
        VectorSet validationSet = validation ?? train.Slice(0, Math.Min(train.Count, 2048));
        return new QincoTrainingModel(model, Normalise(train.Data, model.Scale), Normalise(validationSet.Data, model.Scale), Parallelism.Threads, Options.Search, Options.Loss == QincoLoss.FinalStep);
    }

    private void Train(QincoModel model, QincoTrainingModel trainingModel, TrainingCheckpoint? checkpoint, IProgress<FitProgress>? progress, Stopwatch clock, CancellationToken cancellationToken)
    {
        var trainer = new Trainer(trainingModel, Options.Training, Options.LoggerFactory);
        var trainingProgress = progress is null ? null : new Progress<TrainingProgress>(p => progress.Report(new FitProgress(
            "training", p.Epoch, Options.Training.MaxEpochs, clock.Elapsed,
            FormattableString.Invariant($"epoch {p.Epoch + 1} batch {p.Batch}/{p.BatchesPerEpoch} loss {p.TrainLoss:G4} val MSE {Format(p.ValidationMetric)} best {Format(p.BestValidationMetric)} lr {p.LearningRate:G3}"),
            p)));
        LastTraining = checkpoint is null
            ? trainer.Train(trainingProgress, cancellationToken)
            : trainer.Resume(checkpoint, trainingProgress, cancellationToken);
        Use(model);
        LogTrained(LastTraining.EpochsCompleted, LastTraining.BestValidationMetric ?? double.NaN, LastTraining.StopReason, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Makes <paramref name="model"/> the trained model, with tables computed from its parameters (or shared ones).</summary>
    private void Use(QincoModel model, Qinco1Tables[]? tables = null)
    {
        _tables = tables ?? model.CreateTables(Parallelism.Threads);
        _model = model;
    }

    private static string Format(double? value) => value?.ToString("F1", CultureInfo.InvariantCulture) ?? "-";

    /// <summary>The reference's scale: the largest training value (§1.1); max |x| or 1 when that is not positive.</summary>
    private static float DataScale(ReadOnlySpan<float> data)
    {
        float max = TensorPrimitives.Max(data);
        if (max > 0)
        {
            return max;
        }
        float maxAbs = TensorPrimitives.MaxMagnitude(data);
        return maxAbs > 0 ? MathF.Abs(maxAbs) : 1f;
    }

    private static float[] Normalise(ReadOnlySpan<float> data, float scale)
    {
        var result = new float[data.Length];
        TensorPrimitives.Divide(data, scale, result);
        return result;
    }

    private QincoModel RequireModel()
    {
        RequireTrained();
        return _model!;
    }

    private static QincoOptions Checked(QincoOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "QINCo initialised from RQ: {Parameters} parameters after {Seconds:F1} s")]
    private partial void LogInitialised(long parameters, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "QINCo trained: {Epochs} epochs, best validation MSE {Mse:F1}, stopped by {Reason} after {Seconds:F1} s")]
    private partial void LogTrained(int epochs, double mse, StopReason reason, double seconds);
}
