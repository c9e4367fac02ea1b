using System;
using System.Diagnostics;
using System.IO;
using System.Numerics.Tensors;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
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
/// <item><term>encoding</term><description>greedy and exhaustive: the network runs on all K codewords at every step</description></item>
/// <item><term>determinism</term><description>same seed, options, worker count and kernel variant give bit-identical models and codes</description></item>
/// <item><term>thread safety</term><description><c>Encode</c>/<c>Decode</c> are safe from many threads once trained</description></item>
/// <item><term>prefix decoding</term><description>every prefix of m steps is trained to be a good m-step code</description></item>
/// </list>
/// Data is divided by a scale s (the largest value of the training set) inside the model, as the reference does.
/// </remarks>
public sealed partial class QincoQuantizer : IQuantizer
{
    private readonly ILogger _logger;
    private QincoNetwork? _network;
    private QincoEncoder? _encoder;

    /// <summary>Creates an untrained quantizer; the options are validated here.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid (the option is named).</exception>
    public QincoQuantizer(QincoOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<QincoQuantizer>();
    }

    /// <summary>The settings this quantizer was built with.</summary>
    public QincoOptions Options { get; }

    /// <inheritdoc/>
    public QuantizerKind Kind => QuantizerKind.Qinco;

    /// <inheritdoc/>
    public int Dimension => Options.Dimension;

    /// <inheritdoc/>
    public int Steps => Options.Steps;

    /// <inheritdoc/>
    public int CodebookBits => Options.CodebookBits;

    /// <inheritdoc/>
    public int CodeSize => CodePacking.CodeSize(Steps, CodebookBits);

    /// <inheritdoc/>
    public bool IsTrained => _network is not null;

    /// <summary>The data scale s the model divides inputs by (set by <see cref="Fit"/>).</summary>
    public float Scale => RequireNetwork().Scale;

    /// <summary>Number of trainable parameters.</summary>
    public long ParameterCount => RequireNetwork().ParameterCount;

    /// <summary>The outcome of the last <see cref="Fit"/> (epochs, best validation MSE, why it stopped), or null.</summary>
    public TrainingResult? LastTraining { get; private set; }

    /// <summary>Validation MSE of the RQ initialisation measured by the last <see cref="Fit"/>, before any training.</summary>
    public double? InitialValidationMse { get; private set; }

    /// <inheritdoc/>
    /// <remarks>
    /// Without <paramref name="validation"/>, the first min(n, 2048) training vectors serve as the validation set
    /// (early stopping then watches training error). Cancellation stops training between optimiser steps and keeps
    /// the best model so far (the quantizer is trained afterwards); a cancellation during the RQ initialisation throws
    /// <see cref="OperationCanceledException"/>.
    /// </remarks>
    /// <exception cref="ArgumentException">Fewer training vectors than codewords per step, or bad input.</exception>
    public void Fit(VectorSet train, VectorSet? validation = null, IProgress<FitProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        QuantizerInput.CheckSet(train, Dimension, nameof(train));
        if (validation is not null)
        {
            QuantizerInput.CheckSet(validation, Dimension, nameof(validation));
        }
        int k = Options.CodebookSize, d = Dimension;
        if (train.Count < k)
        {
            throw new ArgumentException($"QINCo with {k} codewords per step needs at least {k} training vectors; got {train.Count}. Use fewer codebook bits or more data.", nameof(train));
        }
        var clock = Stopwatch.StartNew();
        QincoNetwork network = Initialize(train, progress, cancellationToken);

        // 2. Training (§1.6, §1.8).
        QincoTrainingModel model = CreateTrainingModel(network, train, validation);
        // The trainer validates the start itself when it keeps it as a candidate; measure it here only otherwise.
        double? initialMse = Options.Training.ValidateInitialParameters ? null : model.Validate(cancellationToken);
        LogInitialised(network.ParameterCount, clock.Elapsed.TotalSeconds);
        Train(network, model, null, progress, clock, cancellationToken);
        InitialValidationMse = initialMse ?? LastTraining!.InitialValidationMetric;
    }

    /// <summary>
    /// Initialises the model without training it (RQ codebooks, layers per <see cref="QincoOptions.ZeroInitialization"/>)
    /// and makes it usable: for benchmarks of encoding cost, and for tests of the untrained model.
    /// </summary>
    internal void FitInitializationOnly(VectorSet train)
    {
        QuantizerInput.CheckSet(train, Dimension, nameof(train));
        QincoNetwork network = Initialize(train, null, CancellationToken.None);
        _network = network;
        _encoder = CreateEncoder(network, Threads);
    }

    /// <summary>RQ initialisation on the raw training set (§1.7), then the layers.</summary>
    private QincoNetwork Initialize(VectorSet train, IProgress<FitProgress>? progress, CancellationToken cancellationToken)
    {
        float scale = DataScale(train.Data);
        var rq = new ResidualQuantizer(new ResidualQuantizerOptions
        {
            Dimension = Dimension,
            Steps = Steps,
            CodebookBits = CodebookBits,
            BeamWidth = Options.InitializationBeamWidth,
            Seed = Options.Seed,
            MaxDegreeOfParallelism = Options.MaxDegreeOfParallelism,
        });
        var rqProgress = progress is null ? null : new Progress<FitProgress>(p => progress.Report(p with { Phase = "RQ initialisation: " + p.Phase }));
        rq.Fit(train, null, rqProgress, cancellationToken);

        var network = new QincoNetwork(Dimension, Options.CodebookSize, Steps, Options.ResidualBlocks, Options.HiddenSize, scale);
        for (int m = 0; m < Steps; m++)
        {
            TensorPrimitives.Divide(rq.GetCodebook(m), scale, network.Codebook(m));
        }
        network.InitializeLayers(Options.ZeroInitialization, Options.Seed);
        return network;
    }

    /// <summary>
    /// Continues an interrupted <see cref="Fit"/> from <paramref name="checkpoint"/> (e.g. <c>LastTraining.Checkpoint</c>
    /// of a cancelled run, saved with <see cref="TrainingCheckpoint.Save"/>): with the same data, options and worker
    /// count the result is bit-identical to an uninterrupted run.
    /// </summary>
    /// <exception cref="ArgumentException">Bad input, or a checkpoint of another model shape or other training options.</exception>
    public void ResumeFit(VectorSet train, VectorSet? validation, TrainingCheckpoint checkpoint, IProgress<FitProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        QuantizerInput.CheckSet(train, Dimension, nameof(train));
        if (validation is not null)
        {
            QuantizerInput.CheckSet(validation, Dimension, nameof(validation));
        }
        var clock = Stopwatch.StartNew();
        var network = new QincoNetwork(Dimension, Options.CodebookSize, Steps, Options.ResidualBlocks, Options.HiddenSize, DataScale(train.Data));
        Train(network, CreateTrainingModel(network, train, validation), checkpoint, progress, clock, cancellationToken);
    }

    private QincoTrainingModel CreateTrainingModel(QincoNetwork network, VectorSet train, VectorSet? validation)
    {
        VectorSet validationSet = validation ?? train.Slice(0, Math.Min(train.Count, 2048));
        return new QincoTrainingModel(network, Normalise(train.Data, network.Scale), Normalise(validationSet.Data, network.Scale), Threads, Options.BeamWidth, Options.Candidates, Options.Loss == QincoLoss.FinalStep);
    }

    private void Train(QincoNetwork network, QincoTrainingModel model, TrainingCheckpoint? checkpoint, IProgress<FitProgress>? progress, Stopwatch clock, CancellationToken cancellationToken)
    {
        var trainer = new Trainer(model, Options.Training, Options.LoggerFactory);
        var trainingProgress = progress is null ? null : new Progress<TrainingProgress>(p => progress.Report(new FitProgress(
            "training", p.Epoch, Options.Training.MaxEpochs, clock.Elapsed,
            FormattableString.Invariant($"epoch {p.Epoch + 1} batch {p.Batch}/{p.BatchesPerEpoch} loss {p.TrainLoss:G4} val MSE {Format(p.ValidationMetric)} best {Format(p.BestValidationMetric)} lr {p.LearningRate:G3}"),
            p)));
        LastTraining = checkpoint is null
            ? trainer.Train(trainingProgress, cancellationToken)
            : trainer.Resume(checkpoint, trainingProgress, cancellationToken);
        _network = network;
        _encoder = CreateEncoder(network, Threads);
        LogTrained(LastTraining.EpochsCompleted, LastTraining.BestValidationMetric ?? double.NaN, LastTraining.StopReason, clock.Elapsed.TotalSeconds);
    }

    internal QincoEncoder CreateEncoder(QincoNetwork network, int threads) => new(network, threads, Options.BeamWidth, Options.Candidates);

    /// <summary>
    /// A quantizer sharing this one's trained network but encoding with another beam width and candidate count
    /// (codes stay compatible: decoding does not depend on how the codes were searched).
    /// </summary>
    public QincoQuantizer WithEncoding(int beamWidth, int candidates = 0)
    {
        QincoNetwork network = RequireNetwork();
        var copy = new QincoQuantizer(Options with { BeamWidth = beamWidth, Candidates = candidates });
        copy._network = network;
        copy._encoder = copy.CreateEncoder(network, copy.Threads);
        return copy;
    }

    private static string Format(double? value) => value?.ToString("F1", System.Globalization.CultureInfo.InvariantCulture) ?? "-";

    /// <inheritdoc/>
    public void Encode(ReadOnlySpan<float> vectors, Span<byte> destination)
    {
        QincoNetwork network = RequireNetwork();
        int n = QuantizerInput.CountVectors(vectors, Dimension, nameof(vectors));
        QuantizerInput.CheckDestination(n * CodeSize, destination.Length, "bytes");
        float[] normalised = Normalise(vectors, network.Scale);
        var codes = new int[n * Steps];
        EncodeParallel(_encoder!, normalised, n, codes, null, Threads);
        for (int i = 0; i < n; i++)
        {
            CodePacking.Pack(codes.AsSpan(i * Steps, Steps), CodebookBits, destination.Slice(i * CodeSize, CodeSize));
        }
    }

    /// <inheritdoc/>
    public void Decode(ReadOnlySpan<byte> codes, Span<float> destination, int steps = 0)
    {
        QincoNetwork network = RequireNetwork();
        int n = QuantizerInput.CountCodes(codes, CodeSize, nameof(codes));
        int used = QuantizerInput.CheckPrefix(steps, Steps);
        QuantizerInput.CheckDestination(n * Dimension, destination.Length, "floats");
        var indices = new int[n * Steps];
        for (int i = 0; i < n; i++)
        {
            CodePacking.Unpack(codes.Slice(i * CodeSize, CodeSize), CodebookBits, indices.AsSpan(i * Steps, Steps));
        }
        Span<float> output = destination[..(n * Dimension)];
        int chunks = Math.Min(Threads, (n + DecodeChunk - 1) / DecodeChunk);
        if (chunks <= 1)
        {
            _encoder!.Decode(indices, n, used, output);
        }
        else
        {
            // Contiguous chunks, one per thread: decoding is a chain of small GEMMs per vector block.
            int perChunk = (n + chunks - 1) / chunks;
            unsafe
            {
                fixed (float* start = output)
                {
                    nint address = (nint)start;
                    int d = Dimension, m = Steps;
                    QincoEncoder encoder = _encoder!;
                    Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = chunks }, c =>
                    {
                        int first = c * perChunk, count = Math.Min(perChunk, n - first);
                        encoder.Decode(indices.AsSpan(first * m, count * m), count, used, new Span<float>((float*)address + (long)first * d, count * d));
                    });
                }
            }
        }
        TensorPrimitives.Multiply(output, network.Scale, output);
    }

    /// <summary>Fewest vectors worth a thread of their own when decoding.</summary>
    private const int DecodeChunk = 128;

    /// <inheritdoc/>
    public void Save(Stream stream)
    {
        QincoNetwork network = RequireNetwork();
        var file = new ModelFile(Kind);
        file.Set("dimension", Dimension);
        file.Set("steps", Steps);
        file.Set("codebook_bits", CodebookBits);
        file.Set("residual_blocks", Options.ResidualBlocks);
        file.Set("hidden_size", Options.HiddenSize);
        file.Set("scale", (double)network.Scale);
        file.Set("beam_width", Options.BeamWidth);
        file.Set("candidates", Options.Candidates);
        for (int i = 0; i < network.Tensors.Length; i++)
        {
            file.Set(network.Names[i], network.Tensors[i], network.Shapes[i]);
        }
        file.WriteTo(stream);
    }

    internal static QincoQuantizer Read(ModelFile file, int maxDegreeOfParallelism, ILoggerFactory? loggerFactory)
    {
        var options = new QincoOptions
        {
            Dimension = file.GetInt32("dimension", 1, 1 << 16),
            Steps = file.GetInt32("steps", 1, 256),
            CodebookBits = file.GetInt32("codebook_bits", 1, 16),
            ResidualBlocks = file.GetInt32("residual_blocks", 0, 64),
            HiddenSize = file.GetInt32("hidden_size", 1, 65536),
            BeamWidth = file.GetInt32("beam_width", 1, 256),
            Candidates = file.GetInt32("candidates", 0, 1024),
            MaxDegreeOfParallelism = maxDegreeOfParallelism,
            LoggerFactory = loggerFactory,
        };
        double scale = file.GetFloat64("scale");
        if (!(scale > 0) || !double.IsFinite(scale))
        {
            throw new ModelFormatException($"Model field 'scale' is {scale}; it must be a positive finite number.");
        }
        var quantizer = new QincoQuantizer(options);
        var network = new QincoNetwork(options.Dimension, options.CodebookSize, options.Steps, options.ResidualBlocks, options.HiddenSize, (float)scale);
        for (int i = 0; i < network.Tensors.Length; i++)
        {
            float[] values = file.GetFloats(network.Names[i], network.Shapes[i]);
            QuantizerInput.CheckFinite(values, 1, network.Names[i]);
            values.CopyTo(network.Tensors[i], 0);
        }
        quantizer._network = network;
        quantizer._encoder = quantizer.CreateEncoder(network, quantizer.Threads);
        return quantizer;
    }

    /// <summary>Encodes normalised vectors in parallel tiles; returns Σ ||x − x̂||² (normalised units).</summary>
    internal static double EncodeMse(QincoEncoder encoder, float[] normalised, int n, int threads)
    {
        var codes = new int[n * encoder.Network.Steps];
        var reconstruction = new float[n * encoder.Network.Dimension];
        EncodeParallel(encoder, normalised, n, codes, reconstruction, threads);
        double sum = 0;
        for (int i = 0; i < reconstruction.Length; i++)
        {
            double diff = normalised[i] - reconstruction[i];
            sum += diff * diff;
        }
        return sum;
    }

    private static void EncodeParallel(QincoEncoder encoder, float[] normalised, int n, int[] codes, float[]? reconstruction, int threads)
    {
        int d = encoder.Network.Dimension, steps = encoder.Network.Steps;
        int tile = encoder.TileVectors;
        int tiles = (n + tile - 1) / tile;
        if (tiles < threads)
        {
            // Too few vectors to give every thread its own tiles: parallelise inside the GEMMs instead.
            encoder.Encode(normalised.AsSpan(0, n * d), n, codes, reconstruction, gemmThreads: threads);
            return;
        }
        Parallel.For(0, tiles, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            int start = t * tile, count = Math.Min(tile, n - start);
            encoder.Encode(normalised.AsSpan(start * d, count * d), count, codes.AsSpan(start * steps, count * steps),
                reconstruction is null ? [] : reconstruction.AsSpan(start * d, count * d));
        });
    }

    private int Threads => Options.MaxDegreeOfParallelism == -1 ? Environment.ProcessorCount : Options.MaxDegreeOfParallelism;

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

    private QincoNetwork RequireNetwork()
    {
        QuantizerInput.CheckTrained(_network is not null, "QINCo");
        return _network!;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "QINCo initialised from RQ: {Parameters} parameters after {Seconds:F1} s")]
    private partial void LogInitialised(long parameters, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "QINCo trained: {Epochs} epochs, best validation MSE {Mse:F1}, stopped by {Reason} after {Seconds:F1} s")]
    private partial void LogTrained(int epochs, double mse, StopReason reason, double seconds);
}
