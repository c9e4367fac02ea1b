using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Numerics.Tensors;
using System.Threading;
using Microsoft.Extensions.Logging;
using Qinco.Core.Numerics;
using Qinco.Core.Serialization;
using Qinco.Training;

namespace Qinco.Core;

/// <summary>
/// What QINCo and IVF-QINCo share (ALGORITHM.md §1, §3.1): a <see cref="QincoModel"/> in normalised units (data divided
/// by <see cref="Scale"/>), encoding by beam search over its steps, decoding through the step networks, and training
/// with the early-stopped loop of Qinco.Training. The two differ in step 0: a trained codebook, or frozen IVF centroids.
/// </summary>
public abstract partial class QincoQuantizerBase : QuantizerBase
{
    /// <summary>Candidate rows (vectors × beams × candidates) evaluated together by the encoder's GEMMs.</summary>
    private const int TileRows = 1024;

    private readonly ILogger _logger;
    private QincoStepTables[] _tables = [];

    private protected QincoQuantizerBase(QincoOptions options, int listBits)
        : base(Checked(options).Dimension, options.Steps, options.CodebookBits, options.Parallelism, options.LoggerFactory)
    {
        Settings = options;
        Layout = new CodeLayout(options.Steps, options.CodebookBits, listBits);
        _logger = LoggerFactory.CreateLogger(GetType());
    }

    /// <inheritdoc/>
    public override bool IsTrained => Model is not null;

    /// <inheritdoc/>
    public override EncoderSearch Search => Settings.Search;

    /// <summary>The data scale s the model divides inputs by (set by fitting).</summary>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    public float Scale => RequireModel().Scale;

    /// <summary>Number of trainable parameters.</summary>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    public long ParameterCount => RequireModel().ParameterCount - (Layout.ListBits > 0 ? Model!.Codebook0.Length : 0);

    /// <summary>
    /// A snapshot of the trained model's hyper-parameters, tensors (copies, in normalised units) and encoder search, for
    /// backends that evaluate the model elsewhere (e.g. Qinco.TorchSharp's device encoder). Encoding with it must give
    /// this quantizer's codes: the codes of <see cref="QuantizerBase.Layout"/> hold <c>Steps</c> indices of the model
    /// (IVF-QINCo: the list, then the M steps).
    /// </summary>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    public QincoModelDescription DescribeModel() => RequireModel().Describe(Settings.Search, FirstBeams, copy: true);

    /// <summary>The outcome of the last fit (epochs, best validation MSE, why it stopped), or null.</summary>
    public TrainingResult? LastTraining { get; private set; }

    /// <summary>Validation MSE of the RQ initialisation measured by the last fit, before any training.</summary>
    public double? InitialValidationMse { get; private set; }

    /// <summary>Training rows that stand in for a validation set when a fit is given none: the first min(n, 2,048).</summary>
    public const int DefaultValidationRows = 2048;

    /// <summary>How many training rows a fit without a validation set validates on: min(<paramref name="trainingRows"/>, <see cref="DefaultValidationRows"/>).</summary>
    public static int DefaultValidationCount(int trainingRows) => Math.Min(trainingRows, DefaultValidationRows);

    private protected QincoOptions Settings { get; }

    private protected QincoModel? Model { get; private set; }

    /// <summary>The trained network (null before a fit or load), for tests and benchmarks.</summary>
    internal QincoModel? Network => Model;

    /// <summary>Beams kept after step 0: the beam width, or the IVF lists probed.</summary>
    private protected int FirstBeams => FirstBeamsOf(Settings.Search);

    /// <summary>Beams kept after the first step <paramref name="search"/> runs: its beam width (IVF-QINCo: the probed lists).</summary>
    private protected virtual int FirstBeamsOf(EncoderSearch search) => search.BeamWidth;

    private protected override int EncodeTileVectors => TileVectors(Settings.Search, CodebookSize);

    private protected override float InputScale => Model is { } model ? model.Scale + (model.Mean is null ? 0f : TensorPrimitives.MaxMagnitude(model.Mean) is var m ? MathF.Abs(m) : 0f) : 1f;

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">The search is invalid (the field is named).</exception>
    public override IQuantizer WithSearch(EncoderSearch search)
    {
        RequireModel();
        search.Validate();
        return CopyWithSettings(Settings with { Search = search });
    }

    /// <summary>A copy of this trained quantizer that shares its model and encodes with other settings.</summary>
    private protected QincoQuantizerBase CopyWithSettings(QincoOptions settings)
    {
        QincoModel model = RequireModel();
        QincoQuantizerBase copy = WithOptions(settings);
        copy.Layout = Layout;
        copy.Use(model, _tables);
        return copy;
    }

    /// <summary>
    /// Continues an interrupted fit from <paramref name="checkpoint"/> (e.g. <c>LastTraining.Checkpoint</c> of a
    /// cancelled run, saved with <see cref="TrainingCheckpoint.Save"/>): with the same data, options and worker count
    /// the result is bit-identical to an uninterrupted run.
    /// </summary>
    /// <exception cref="ArgumentException">Bad input, or a checkpoint of another model shape or other training options.</exception>
    /// <param name="train">The training vectors, in memory or streamed (<see cref="IO.VectorFileSource"/>), as given to the interrupted fit.</param>
    /// <param name="validation">The validation set of the interrupted fit.</param>
    /// <param name="checkpoint">Where the interrupted training stood.</param>
    /// <param name="progress">Optional progress reports.</param>
    /// <param name="cancellationToken">Stops training between optimiser steps.</param>
    public void ResumeFit(IVectorSource train, VectorSet? validation, TrainingCheckpoint checkpoint, IProgress<FitProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        CheckFitInputs(train, validation, cancellationToken);
        if (validation is { Count: 0 })
        {
            throw new ArgumentException("The vector set is empty.", nameof(validation));
        }
        var clock = Stopwatch.StartNew();
        (QincoModel model, int[]? lists) = InitializeForResume(train, progress, cancellationToken);
        Train(model, CreateTrainingModel(model, lists, train, validation), checkpoint, progress, clock, ValidationLabel(train.Count, validation), cancellationToken);
    }

    /// <remarks>
    /// Without <paramref name="validation"/>, the first min(n, <see cref="DefaultValidationRows"/>) training vectors serve as the validation set
    /// (early stopping then watches training error). Cancellation stops training between optimiser steps and keeps
    /// the best model so far once at least one epoch has ended and been validated (the quantizer is trained
    /// afterwards, <see cref="LastTraining"/> says it was cancelled); a cancellation before that, or during the
    /// initialisation, throws <see cref="OperationCanceledException"/> and leaves the quantizer untrained.
    /// </remarks>
    private protected override void FitCore(VectorSet train, VectorSet? validation, IProgress<FitProgress>? progress, CancellationToken cancellationToken) =>
        FitCore((IVectorSource)train, validation, progress, cancellationToken);

    /// <summary>The same fit whether the rows are in memory or streamed: the trainer reads each batch's rows from <paramref name="train"/>.</summary>
    private protected override void FitCore(IVectorSource train, VectorSet? validation, IProgress<FitProgress>? progress, CancellationToken cancellationToken)
    {
        if (validation is { Count: 0 })
        {
            throw new ArgumentException("The validation set is empty: give vectors or no validation set.", nameof(validation));
        }
        RequireBuffers(train.Count, validation?.Count);
        var clock = Stopwatch.StartNew();
        (QincoModel model, int[]? lists) = Initialize(train, progress, cancellationToken);
        QincoTrainingModel trainingModel = CreateTrainingModel(model, lists, train, validation);
        // The trainer validates the start itself when it keeps it as a candidate; measure it here only otherwise.
        double? initialMse = Settings.Training.ValidateInitialParameters ? null : trainingModel.Validate(cancellationToken);
        LogInitialised(model.ParameterCount, clock.Elapsed.TotalSeconds);
        Train(model, trainingModel, null, progress, clock, ValidationLabel(train.Count, validation), cancellationToken);
        InitialValidationMse = initialMse ?? LastTraining!.InitialValidationMetric;
    }

    /// <summary>
    /// Refuses, before any work, a fit whose buffers one array cannot hold (sizes in 64 bits): the largest tensor of a
    /// step (K × max(D, De, Dh), De × max(De, Dh, D)), the RQ initialisation's codebooks (M × K × D), a batch's rows
    /// (BatchSize × max(D, De, Dh)) and the validation codes (rows × M).
    /// </summary>
    private void RequireBuffers(int trainCount, int? validationCount)
    {
        QincoStepShape shape = Settings.StepShape;
        int d = shape.Dimension, k = shape.CodebookSize, de = shape.Embedding, h = shape.Hidden;
        long width = Math.Max(d, Math.Max(de, h));
        string options = FormattableString.Invariant($"{Description} with Steps {Steps}, CodebookBits {CodebookBits} (K = {k}), dimension {d}, embedding {de}, hidden size {h}");
        ArraySizes.Require(Math.Max(ArraySizes.Product(k, width), ArraySizes.Product(de, width)), sizeof(float),
            options + " has a step tensor of max(K, embedding) × max(dimension, embedding, hidden size) floats: that",
            "Use fewer CodebookBits or a smaller embedding or hidden size.", "train");
        ArraySizes.Require(ArraySizes.Product(Steps, k, d), sizeof(float),
            options + " initialises from RQ codebooks of Steps × K × dimension floats: that",
            "Use fewer Steps or CodebookBits, or reduce the dimension.", "train");
        ArraySizes.Require(ArraySizes.Product(Settings.Training.BatchSize, width), sizeof(float),
            FormattableString.Invariant($"{options} and BatchSize {Settings.Training.BatchSize} holds a batch of BatchSize × max(dimension, embedding, hidden size) floats: that"),
            "Use a smaller BatchSize.", "train");
        long validationRows = validationCount ?? DefaultValidationCount(trainCount);
        ArraySizes.Require(ArraySizes.Product(validationRows, Steps), sizeof(int),
            FormattableString.Invariant($"{options} validates on {validationRows} vectors, whose codes are vectors × Steps indices: that"),
            "Use a smaller validation set or fewer Steps.", "validation");
    }

    /// <summary>Initialises the model without training it and makes it usable: for benchmarks of encoding cost, and for tests of the untrained model.</summary>
    internal void FitInitializationOnly(VectorSet train)
    {
        CheckSet(train, nameof(train), allowEmpty: false);
        Use(Initialize(train, null, CancellationToken.None).Model);
    }

    /// <summary>
    /// The untrained model: codebooks from an RQ (on the raw data, or on the residuals to the IVF centroids) and layers
    /// per <see cref="QincoOptions.ZeroInitialization"/>; for IVF also every training vector's list (frozen, §3.1).
    /// </summary>
    private protected abstract (QincoModel Model, int[]? Lists) Initialize(IVectorSource train, IProgress<FitProgress>? progress, CancellationToken cancellationToken);

    /// <summary>The model to resume training into: its frozen parts as <see cref="Initialize"/> made them; the trained ones are overwritten by the checkpoint.</summary>
    private protected abstract (QincoModel Model, int[]? Lists) InitializeForResume(IVectorSource train, IProgress<FitProgress>? progress, CancellationToken cancellationToken);

    /// <summary>
    /// The rows the RQ initialisation trains on (<see cref="VectorSources.MaxInMemoryRows"/> at most: all, or a sample drawn
    /// from the seed) and their row numbers (null: all rows, in order).
    /// </summary>
    private protected (VectorSet Rows, int[]? RowNumbers) InitializationSample(IVectorSource train)
    {
        int[]? rows = VectorSources.SampleRows(train.Count, VectorSources.MaxInMemoryRows, Settings.Seed);
        return (VectorSources.Read(train, rows), rows);
    }

    private protected override int FitSeed => Settings.Seed;

    /// <summary>A new untrained quantizer of the same kind with <paramref name="options"/>.</summary>
    private protected abstract QincoQuantizerBase WithOptions(QincoOptions options);

    private protected override void EncodeTile(ReadOnlySpan<float> vectors, int count, Span<int> codes, int threads)
    {
        QincoModel model = Model!;
        using var lease = Pool.Lease(count * Dimension, out float[] normalised);
        using var activations = new QincoActivations(model.StepShape, keepLayers: false);
        Span<float> x = normalised.AsSpan(0, count * Dimension);
        model.Normalise(vectors, x);
        BeamSearch<QincoBeamSteps>.Encode(new QincoBeamSteps(model, _tables, activations), Settings.Search, x, count, 0, model.Steps, [], codes, [], threads, FirstBeams);
    }

    private protected override void DecodeTile(ReadOnlySpan<int> codes, int count, int steps, Span<float> destination)
    {
        QincoModel model = Model!;
        using var activations = new QincoActivations(model.StepShape, keepLayers: false);
        using var lease = Pool.Lease(count, out int[] stepCodes);
        model.Decode(_tables, codes, count, model.Steps - Steps + steps, destination, activations, stepCodes);
        model.Denormalise(destination[..(count * Dimension)]);
    }

    private protected override void WriteFields(ModelFile file)
    {
        QincoModel model = Model!;
        file.Set("residual_blocks", Settings.ResidualBlocks);
        file.Set("hidden_size", Settings.HiddenSize);
        file.Set("scale", (double)model.Scale);
        file.Set("beam_width", Settings.Search.BeamWidth);
        file.Set("candidates", Settings.Search.Candidates);
        if (Settings.Version == QincoVersion.Qinco2)
        {
            // Absent means QINCo1, so QINCo1 files are as earlier versions wrote them; a QINCo2 file needs a format-2 reader.
            file.FormatVersion = 2;
            file.Set("version", (int)QincoVersion.Qinco2);
            file.Set("embedding_size", Settings.StepShape.Embedding);
            file.Set("mean", model.Mean!, Dimension);
        }
        WriteKindFields(file);
        foreach (ModelTensor tensor in model.Tensors)
        {
            file.Set(tensor.Name, tensor.Values, tensor.Shape);
        }
    }

    /// <summary>Fields of the kind written between the shared settings and the tensors.</summary>
    private protected virtual void WriteKindFields(ModelFile file)
    {
    }

    /// <summary>Reads the settings every QINCo model file holds into <paramref name="options"/>.</summary>
    private protected static T ReadSettings<T>(T options, ModelFile file, ModelHeader header, Parallelism parallelism, ILoggerFactory? loggerFactory)
        where T : QincoOptions => (T)(options with
        {
            Dimension = header.Dimension,
            Steps = header.Steps,
            CodebookBits = header.CodebookBits,
            ResidualBlocks = file.GetInt32("residual_blocks", 0, 64),
            HiddenSize = file.GetInt32("hidden_size", 1, 65536),
            Search = new EncoderSearch(file.GetInt32("beam_width", 1, QuantizerLimits.MaxBeamWidth), file.GetInt32("candidates", 0, QuantizerLimits.MaxCandidates)),
            Version = file.Has("version") ? (QincoVersion)file.GetInt32("version", 1, 2) : QincoVersion.Qinco1,
            EmbeddingSize = file.Has("embedding_size") ? file.GetInt32("embedding_size", 1, 65536) : null,
            Parallelism = parallelism,
            LoggerFactory = loggerFactory,
        });

    /// <summary>Builds the model from the file's tensors (sized by the bytes present, never allocated from the header's shape fields) and makes it this quantizer's.</summary>
    private protected void ReadModel(ModelFile file, int modelSteps, int? firstCodebookSize = null)
    {
        double scale = file.GetFloat64("scale");
        if (!(scale > 0) || !float.IsFinite((float)scale) || (float)scale == 0)
        {
            throw new ModelFormatException($"Model field 'scale' is {scale}; it must be a positive number that float32 represents (not 0 or infinity once converted).");
        }
        float[]? mean = Settings.Version == QincoVersion.Qinco2 ? RequireRepresentable(file.GetFiniteFloats("mean", Dimension), "mean") : null;
        Use(new QincoModel(Settings.StepShape, modelSteps, (float)scale, mean,
            (name, shape) => RequireRepresentable(file.GetFiniteFloats(name, shape), name), firstCodebookSize));
    }

    /// <summary>Vectors per encoder tile: about <see cref="TileRows"/> candidate rows per GEMM.</summary>
    internal static int TileVectors(EncoderSearch search, int codebookSize) => Math.Max(1, TileRows / (search.BeamWidth * search.CandidatesPerBeam(codebookSize)));

    /// <summary>
    /// Encodes normalised vectors in tiles (in parallel when there are enough of them): codes [n, S] (S = the model's
    /// steps) and, when <paramref name="reconstruction"/> is not empty, the normalised reconstructions [n, D].
    /// </summary>
    internal static void EncodeNormalised(QincoModel model, QincoStepTables[] tables, EncoderSearch search, float[] x, int n, int[] codes, float[] reconstruction, int threads, int? firstBeams = null)
    {
        int d = model.Dimension, m = model.Steps;
        ForEachTile(n, TileVectors(search, model.CodebookSize), threads, (first, count, innerThreads) =>
        {
            using var activations = new QincoActivations(model.StepShape, keepLayers: false);
            BeamSearch<QincoBeamSteps>.Encode(new QincoBeamSteps(model, tables, activations), search, x.AsSpan(first * d, count * d), count, 0, m, [],
                codes.AsSpan(first * m, count * m), reconstruction.Length == 0 ? [] : reconstruction.AsSpan(first * d, count * d), innerThreads, firstBeams);
        });
    }

    /// <summary>Trains an RQ of <see cref="QuantizerBase.Steps"/> steps on <paramref name="data"/> and copies its codebooks, divided by the scale, into steps <paramref name="firstStep"/>.. of <paramref name="model"/>.</summary>
    private protected void InitializeCodebooksFromRq(QincoModel model, VectorSet data, int firstStep, IProgress<FitProgress>? progress, CancellationToken cancellationToken)
    {
        var rq = new ResidualQuantizer(new ResidualQuantizerOptions
        {
            Dimension = Dimension,
            Steps = Steps,
            CodebookBits = CodebookBits,
            BeamWidth = Settings.InitializationBeamWidth,
            Seed = Settings.Seed,
            Parallelism = Parallelism,
        });
        var rqProgress = progress is null ? null : new ForwardingProgress<FitProgress>(p => progress.Report(p with { Phase = "RQ initialisation: " + p.Phase }));
        rq.FitChecked(data, rqProgress, cancellationToken); // the data was checked once, by Fit
        for (int m = 0; m < Steps; m++)
        {
            bool first = firstStep + m == 0;
            float[] codebook = first ? model.Codebook0 : model.Step(firstStep + m).Parameters.Codebook;
            if (first)
            {
                model.Normalise(rq.GetCodebook(m), codebook); // step 0 holds points: (c − μ)/σ; later steps residuals: c/σ
            }
            else
            {
                TensorPrimitives.Divide(rq.GetCodebook(m), model.Scale, codebook);
            }
        }
    }

    /// <summary>
    /// A zero model of <paramref name="steps"/> steps with the data normalisation fitted to <paramref name="train"/>:
    /// QINCo1 divides by the largest training value, or max |x| (§1.1); QINCo2 subtracts the per-dimension mean and
    /// divides by the standard deviation of all entries, both over the first 100,000 training vectors (§5.2).
    /// </summary>
    private protected QincoModel CreateModel(IVectorSource train, int steps, int? firstCodebookSize = null)
    {
        int d = Dimension;
        if (Settings.Version == QincoVersion.Qinco1)
        {
            float max = float.NegativeInfinity, magnitude = 0;
            VectorSources.ForEachChunk(train, train.Count, (_, chunk) =>
            {
                max = Math.Max(max, TensorPrimitives.Max(chunk));
                magnitude = Math.Max(magnitude, MathF.Abs(TensorPrimitives.MaxMagnitude(chunk)));
            });
            float scale = max > 0 ? max : magnitude != 0 ? magnitude : 1f;
            return QincoModel.Zeros(Settings.StepShape, steps, scale, null, firstCodebookSize);
        }
        int rows = Math.Min(train.Count, 100_000);
        var mean = new double[d];
        double total = 0, squares = 0;
        VectorSources.ForEachChunk(train, rows, (_, chunk) =>
        {
            for (int i = 0; i < chunk.Length; i += d)
            {
                ReadOnlySpan<float> row = chunk.Slice(i, d);
                for (int j = 0; j < d; j++)
                {
                    mean[j] += row[j];
                    total += row[j];
                    squares += (double)row[j] * row[j];
                }
            }
        });
        double count = (double)rows * d, average = total / count;
        double std = Math.Sqrt(Math.Max(0, (squares / count) - (average * average)));
        float[] mu = Array.ConvertAll(mean, v => (float)(v / rows));
        return QincoModel.Zeros(Settings.StepShape, steps, std > 0 && double.IsFinite(std) ? (float)std : 1f, mu, firstCodebookSize);
    }

    /// <summary>The model's normalised copy of <paramref name="data"/>.</summary>
    private protected static float[] Normalise(QincoModel model, ReadOnlySpan<float> data)
    {
        var result = new float[data.Length];
        model.Normalise(data, result);
        return result;
    }

    private QincoTrainingModel CreateTrainingModel(QincoModel model, int[]? lists, IVectorSource train, VectorSet? validation)
    {
        VectorSet validationSet = validation ?? VectorSources.Read(train, [.. Enumerable.Range(0, DefaultValidationCount(train.Count))]);
        EncoderSearch trainingSearch = Settings.TrainingSearch ?? Settings.Search;
        return new QincoTrainingModel(model, train, Normalise(model, validationSet.Data), Parallelism.Threads,
            new(trainingSearch, FirstBeamsOf(trainingSearch)), new(Settings.Search, FirstBeams), Settings.Loss == QincoLoss.FinalStep, lists, Settings.Seed);
    }

    /// <summary>What the validation metric is measured on, for progress lines.</summary>
    private static string ValidationLabel(int trainingRows, VectorSet? validation) =>
        validation is null ? FormattableString.Invariant($"MSE on the first {DefaultValidationCount(trainingRows)} training rows") : "val MSE";

    private void Train(QincoModel model, QincoTrainingModel trainingModel, TrainingCheckpoint? checkpoint, IProgress<FitProgress>? progress, Stopwatch clock, string validationLabel, CancellationToken cancellationToken)
    {
        var trainer = new Trainer(trainingModel, Settings.Training, Settings.LoggerFactory);
        // The loss is in the model's normalised units, per dimension; D·s² brings it to the data's squared units, as the MSE.
        double toDataUnits = (double)Dimension * model.Scale * model.Scale;
        string lossLabel = Settings.Loss == QincoLoss.FinalStep ? "train MSE" : "train loss (sum of the prefixes' MSE)";
        var trainingProgress = progress is null ? null : new ForwardingProgress<TrainingProgress>(p => progress.Report(new FitProgress(
            "training", p.Epoch, Settings.Training.MaxEpochs, clock.Elapsed,
            FormattableString.Invariant($"epoch {p.Epoch + 1} batch {p.Batch}/{p.BatchesPerEpoch} {lossLabel} {p.TrainLoss * toDataUnits:G5} {validationLabel} {Format(p.ValidationMetric)} best {Format(p.BestValidationMetric)} lr {p.LearningRate:G3}"),
            p)));
        LastTraining = checkpoint is null
            ? trainer.Train(trainingProgress, cancellationToken)
            : trainer.Resume(checkpoint, trainingProgress, cancellationToken);
        if (LastTraining is { StopReason: StopReason.Cancelled, EpochsCompleted: 0 })
        {
            // Nothing was trained and validated yet: the untrained start is not a model to hand out.
            // LastTraining.Checkpoint still allows ResumeFit.
            throw new OperationCanceledException("Training was cancelled before its first epoch ended; the quantizer stays untrained (LastTraining.Checkpoint can resume it).", cancellationToken);
        }
        Use(model);
        LogTrained(LastTraining.EpochsCompleted, LastTraining.BestValidationMetric ?? double.NaN, LastTraining.StopReason, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Makes <paramref name="model"/> the trained model, with tables computed from its parameters (or shared ones).</summary>
    private protected void Use(QincoModel model, QincoStepTables[]? tables = null)
    {
        _tables = tables ?? model.CreateTables(Parallelism.Threads);
        Model = model;
    }

    private protected QincoModel RequireModel()
    {
        RequireTrained();
        return Model!;
    }

    private static string Format(double? value) => value?.ToString("F1", CultureInfo.InvariantCulture) ?? "-";

    private static QincoOptions Checked(QincoOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Initialised: {Parameters} parameters after {Seconds:F1} s")]
    private partial void LogInitialised(long parameters, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Trained: {Epochs} epochs, best validation MSE {Mse:F1}, stopped by {Reason} after {Seconds:F1} s")]
    private partial void LogTrained(int epochs, double mse, StopReason reason, double seconds);
}
