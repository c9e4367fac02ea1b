using System;
using System.Diagnostics;
using System.Numerics.Tensors;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Qinco.Core.Numerics;
using Qinco.Core.Serialization;

namespace Qinco.Core;

/// <summary>
/// Residual quantization (RQ) as Faiss' <c>ResidualQuantizer</c> does it (ALGORITHM.md §6.2–6.3): M steps, each with a
/// codebook of K = 2^bits codewords learned by k-means on the residuals left by the previous steps, and beam-search
/// encoding.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>code size</term><description><c>ceil(M * bits / 8)</c> bytes per vector</description></item>
/// <item><term>training</term><description>required: one k-means per step (progressive-dimension by default)</description></item>
/// <item><term>determinism</term><description>same seed, options, thread count and kernel variant give bit-identical codebooks and codes</description></item>
/// <item><term>thread safety</term><description><c>Encode</c>/<c>Decode</c> are safe from many threads once trained</description></item>
/// <item><term>prefix decoding</term><description>any prefix of m steps decodes to the m-step reconstruction</description></item>
/// </list>
/// </remarks>
public sealed partial class ResidualQuantizer : QuantizerBase
{
    private readonly ILogger _logger;
    private float[]? _codebooks; // [M, K, D] in units of the data divided by _scale
    private float[]? _codewordNorms;
    private float _scale = 1f; // a power of two: dividing by it is exact, so codes do not depend on it

    /// <summary>Creates an untrained quantizer; the options are validated here.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid (the option is named).</exception>
    public ResidualQuantizer(ResidualQuantizerOptions options)
        : base(Checked(options).Dimension, options.Steps, options.CodebookBits, options.Parallelism, options.LoggerFactory)
    {
        Options = options;
        _logger = LoggerFactory.CreateLogger<ResidualQuantizer>();
    }

    /// <summary>The settings this quantizer was built with.</summary>
    public ResidualQuantizerOptions Options { get; }

    /// <inheritdoc/>
    public override QuantizerKind Kind => QuantizerKind.Residual;

    /// <inheritdoc/>
    public override bool IsTrained => _codebooks is not null;

    /// <inheritdoc/>
    public override string Description => FormattableString.Invariant($"RQ beam {Options.BeamWidth} (M={Steps}, K={CodebookSize})");

    /// <inheritdoc/>
    public override EncoderSearch Search => new(Options.BeamWidth);

    private protected override int FitSeed => Options.Seed;

    /// <summary>Vectors per encode tile: fewer for wider beams, so a tile's beam state stays cache-sized.</summary>
    private protected override int EncodeTileVectors => Math.Max(16, 4096 / Options.BeamWidth);

    /// <summary>The codebook of one step, shape [K, Dimension], row-major.</summary>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is not in 0..M−1.</exception>
    public ReadOnlySpan<float> GetCodebook(int step)
    {
        RequireTrained();
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(step, Steps);
        int size = CodebookSize * Dimension;
        return DataUnits(_codebooks.AsSpan(step * size, size));
    }

    private protected override float InputScale => _scale;

    /// <inheritdoc/>
    /// <remarks>RQ scores every codeword: <paramref name="search"/> must have <c>Candidates = 0</c>. The codes stay compatible.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">The beam width is outside 1..<see cref="QuantizerLimits.MaxBeamWidth"/>, or candidates are asked for.</exception>
    public override IQuantizer WithSearch(EncoderSearch search)
    {
        QuantizerLimits.Require(search.Candidates == 0, nameof(search.Candidates), search.Candidates, "must be 0: residual quantization scores every codeword");
        var copy = new ResidualQuantizer(Options with { BeamWidth = search.BeamWidth });
        copy._codebooks = _codebooks;
        copy._codewordNorms = _codewordNorms;
        copy._scale = _scale;
        return copy;
    }

    /// <summary>A quantizer sharing this one's codebooks but encoding with another beam width (codes stay compatible).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="beamWidth"/> is outside 1..<see cref="QuantizerLimits.MaxBeamWidth"/>.</exception>
    public ResidualQuantizer WithBeamWidth(int beamWidth) => (ResidualQuantizer)WithSearch(new EncoderSearch(beamWidth));

    private protected override void FitCore(VectorSet train, VectorSet? validation, IProgress<FitProgress>? progress, CancellationToken cancellationToken)
    {
        int n = train.Count, d = Dimension, k = CodebookSize, steps = Steps;
        var clock = Stopwatch.StartNew();
        RequireBuffers(n);
        var codebooks = new float[steps * k * d];
        var norms = new float[steps * k];
        var search = new EncoderSearch(Options.BeamWidth);
        var beamSteps = new CodebookSteps(codebooks, norms, k, d);
        if ((long)n < (long)MinVectorsPerCodeword * k)
        {
            string warning = FewVectorsWarning(n, k);
            LogFewVectors(warning);
            progress?.Report(new FitProgress("warning: " + warning, 0, 0, clock.Elapsed));
        }
        float scale = MagnitudeScale.PowerOfTwo(train.Data);
        float[] x = train.Data;
        if (scale != 1f)
        {
            x = MagnitudeScale.Divided(train.Data, scale); // exact: the data's magnitude no longer matters
        }
        // The beams are kept as their codes only (n × beam × M ints); their residuals are recomputed block by block,
        // and only the k-means sample of them (at most 256 · K points) is ever materialised: memory is the data, the
        // codes and that sample, instead of two n × beam × D float buffers.
        // Two beam-state buffers sized for the widest beam, swapped after each step: a fresh n × beam × M array per step
        // would leave the previous one (160 MB at 500,000 vectors, beam 5, M = 16) as garbage for the collector to find.
        int[] codes = new int[checked(n * WidestBeam * steps)], nextCodes = new int[codes.Length];
        var errors = new float[checked(n * WidestBeam)];
        int beam = 1;
        for (int m = 0; m < steps; m++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new FitProgress($"k-means step {m + 1}/{steps}", m, steps, clock.Elapsed));
            Span<float> codebook = codebooks.AsSpan(m * k * d, k * d);
            TrainCodebook(n * beam, (rows, destination) => Residuals(codebooks, x, codes, beam, m, rows, first: 0, destination), codebook, cancellationToken);
            ComputeNorms(codebook, d, norms.AsSpan(m * k, k));

            int beamOut = (int)Math.Min((long)beam * k, Options.BeamWidth);
            AdvanceAll(beamSteps, search, codebooks, x, n, m, beam, beamOut, codes, nextCodes, errors, cancellationToken);
            (codes, nextCodes, beam) = (nextCodes, codes, beamOut);
            double mse = MeanOfBest(errors, n, beam);
            LogStepTrained(m + 1, steps, mse, clock.Elapsed.TotalSeconds);
            progress?.Report(new FitProgress($"k-means step {m + 1}/{steps}", m + 1, steps, clock.Elapsed, FormattableString.Invariant($"train MSE {mse:G6}")));
        }
        cancellationToken.ThrowIfCancellationRequested(); // a fit cancelled at any point before it returns keeps no model
        _codewordNorms = norms;
        _codebooks = codebooks;
        _scale = scale;
    }

    private protected override void EncodeTile(ReadOnlySpan<float> vectors, int count, Span<int> codes, int threads)
    {
        using var lease = Pool.Lease(_scale == 1f ? 0 : count * Dimension, out float[] normalised);
        if (_scale != 1f)
        {
            TensorPrimitives.Divide(vectors, _scale, normalised.AsSpan(0, count * Dimension));
            vectors = normalised.AsSpan(0, count * Dimension);
        }
        BeamSearch<CodebookSteps>.Encode(new CodebookSteps(_codebooks!, _codewordNorms!, CodebookSize, Dimension), Search,
            vectors, count, firstStep: 0, Steps, start: [], codes, reconstruction: [], threads);
    }

    private protected override void DecodeTile(ReadOnlySpan<int> codes, int count, int steps, Span<float> destination)
    {
        int d = Dimension, k = CodebookSize;
        float[] codebooks = _codebooks!;
        for (int i = 0; i < count; i++)
        {
            Span<float> output = destination.Slice(i * d, d);
            output.Clear();
            for (int m = 0; m < steps; m++)
            {
                TensorPrimitives.Add(output, codebooks.AsSpan((m * k + codes[i * Steps + m]) * d, d), output);
            }
        }
        if (_scale != 1f)
        {
            TensorPrimitives.Multiply(destination[..(count * d)], _scale, destination);
        }
    }

    private protected override void WriteFields(ModelFile file)
    {
        file.Set("beam_width", Options.BeamWidth);
        file.Set("kmeans_iterations", Options.KMeansIterations);
        file.Set("progressive_dimensions", Options.ProgressiveDimensions ? 1 : 0);
        file.Set("seed", Options.Seed);
        if (_scale != 1f)
        {
            file.Set("scale", (double)_scale); // absent means 1, as in files of earlier versions
        }
        file.Set("codebooks", DataUnits(_codebooks!).ToArray(), Steps, CodebookSize, Dimension);
    }

    internal static ResidualQuantizer Read(ModelFile file, ModelHeader header, Parallelism parallelism, ILoggerFactory? loggerFactory)
    {
        var options = new ResidualQuantizerOptions
        {
            Dimension = header.Dimension,
            Steps = header.Steps,
            CodebookBits = header.CodebookBits,
            BeamWidth = file.GetInt32("beam_width", 1, QuantizerLimits.MaxBeamWidth),
            KMeansIterations = file.GetInt32("kmeans_iterations", 1, int.MaxValue),
            ProgressiveDimensions = file.GetInt32("progressive_dimensions", 0, 1) == 1,
            Seed = (int)file.GetInt64("seed"),
            Parallelism = parallelism,
            LoggerFactory = loggerFactory,
        };
        var quantizer = new ResidualQuantizer(options);
        float[] codebooks = file.GetFiniteFloats("codebooks", options.Steps, options.CodebookSize, options.Dimension);
        // Files of earlier versions have no scale: take the one fitting would have chosen for codebooks of this size (exact).
        double scale = file.Has("scale") ? file.GetFloat64("scale") : MagnitudeScale.PowerOfTwo(codebooks);
        if (!(scale > 0) || !double.IsFinite(scale) || Math.ScaleB(1, Math.ILogB(scale)) != scale || Math.Abs(Math.ILogB(scale)) > 120)
        {
            throw new ModelFormatException($"Model field 'scale' is {scale}; it must be a power of two between 2^-120 and 2^120.");
        }
        if (scale != 1)
        {
            TensorPrimitives.Divide(codebooks, (float)scale, codebooks);
        }
        RequireRepresentable(codebooks, "codebooks");
        var norms = new float[options.Steps * options.CodebookSize];
        ComputeNorms(codebooks, options.Dimension, norms);
        quantizer._codewordNorms = norms;
        quantizer._codebooks = codebooks;
        quantizer._scale = (float)scale;
        return quantizer;
    }

    /// <summary>
    /// Refuses, before any work, a fit whose buffers one array cannot hold (sizes in 64 bits): the codebooks
    /// (M × K × D floats), the beam state (n × beam × M code indices per buffer) and the largest k-means sample
    /// (min(n × beam, 256 · K) × D floats).
    /// </summary>
    private void RequireBuffers(int n)
    {
        int d = Dimension, k = CodebookSize;
        ArraySizes.Require(ArraySizes.Product(Steps, k, d), sizeof(float),
            FormattableString.Invariant($"Training RQ with Steps {Steps} and CodebookBits {CodebookBits} (K = {k}) in dimension {d} keeps codebooks of M × K × D = {Steps} × {k} × {d} floats: that"),
            "Use fewer Steps or CodebookBits, or reduce the dimension.", "train");
        RequireBeamState(n);
        long beams = Math.Min(Options.BeamWidth, (long)Math.Pow(k, Math.Min(Steps - 1, 3)));
        long samplePoints = Math.Min((long)n * Math.Max(beams, 1), (long)new KMeansOptions().MaxPointsPerCentroid * k);
        ArraySizes.Require(ArraySizes.Product(samplePoints, d), sizeof(float),
            FormattableString.Invariant($"Training RQ with CodebookBits {CodebookBits} (K = {k}) and BeamWidth {Options.BeamWidth} on {n} vectors of dimension {d} clusters a k-means sample of {samplePoints:N0} residuals × {d} floats: that"),
            "Use fewer CodebookBits, a smaller BeamWidth or fewer training vectors, or reduce the dimension.", "train");
    }

    /// <summary>The most beams a training vector keeps: the beam width, or K^M when that is smaller.</summary>
    private int WidestBeam => (int)Math.Min(Options.BeamWidth, Math.Pow(CodebookSize, Steps));

    /// <summary>Refuses, before any work, a fit whose beam state cannot be held: n × beam × M code indices per buffer.</summary>
    private void RequireBeamState(int n)
    {
        long indices = (long)n * WidestBeam * Steps;
        if (indices > Array.MaxLength)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"Training RQ with BeamWidth {Options.BeamWidth} and {Steps} steps on {n} vectors keeps {indices:N0} code indices of beam state per buffer ({2 * indices * 4.0 / (1L << 30):F1} GiB double-buffered), more than one array holds. Use a smaller BeamWidth or fewer training vectors."), "train");
        }
    }

    private ReadOnlySpan<float> DataUnits(ReadOnlySpan<float> normalised)
    {
        if (_scale == 1f)
        {
            return normalised;
        }
        float[] result = normalised.ToArray();
        TensorPrimitives.Multiply(result, _scale, result);
        return result;
    }

    /// <summary>
    /// The residuals of beam states <paramref name="rows"/> (when null, the consecutive states from <paramref name="first"/> that fill <paramref name="destination"/>) before step <paramref name="step"/>:
    /// x − C_0[c_0] − … − C_{step−1}[c_{step−1}], subtracted in step order exactly as the beam search extends a residual,
    /// so they are bit-identical to residuals it would have kept.
    /// </summary>
    private void Residuals(float[] codebooks, float[] x, int[] codes, int beam, int step, int[]? rows, int first, Span<float> destination)
    {
        int d = Dimension, k = CodebookSize, m = Steps;
        int count = rows?.Length ?? (destination.Length / d);
        for (int i = 0; i < count; i++)
        {
            int state = rows is null ? first + i : rows[i];
            Span<float> r = destination.Slice(i * d, d);
            x.AsSpan((state / beam) * d, d).CopyTo(r);
            for (int j = 0; j < step; j++)
            {
                TensorPrimitives.Subtract(r, codebooks.AsSpan(((j * k) + codes[(state * m) + j]) * d, d), r);
            }
        }
    }

    /// <summary>Advances every vector's beams by one step, block by block in parallel; the token is checked before each block (an <see cref="OperationCanceledException"/>, not an AggregateException).</summary>
    private void AdvanceAll(CodebookSteps steps, EncoderSearch search, float[] codebooks, float[] x, int n, int step, int beam, int beamOut, int[] codes, int[] nextCodes, float[] errors, CancellationToken cancellationToken)
    {
        int d = Dimension, m = Steps;
        // Vectors per task: about 4096 beam states, and at most 16 M floats of recomputed states per task.
        int block = (int)Math.Max(1, Math.Min(Math.Max(16, 4096 / beam), (1L << 24) / ((long)Math.Max(beam, beamOut) * d)));
        int blocks = (n + block - 1) / block;
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = Parallelism.MaxDegreeOfParallelism }, () => new BeamScratch(), (b, loop, scratch) =>
        {
            if (cancellationToken.IsCancellationRequested)
            {
                loop.Stop();
                return scratch;
            }
            int first = b * block, count = Math.Min(block, n - first);
            using var statesLease = Pool.Lease(count * beam * d, out float[] states);
            using var nextLease = Pool.Lease(count * beamOut * d, out float[] nextStates);
            Residuals(codebooks, x, codes, beam, step, rows: null, first * beam, states.AsSpan(0, count * beam * d));
            CodebookSteps local = steps;
            BeamSearch<CodebookSteps>.Advance(ref local, step, search, x.AsSpan(first * d, count * d), count, beam, beamOut, m,
                states.AsSpan(0, count * beam * d), codes.AsSpan(first * beam * m, count * beam * m),
                nextStates.AsSpan(0, count * beamOut * d), nextCodes.AsSpan(first * beamOut * m, count * beamOut * m),
                errors.AsSpan(first * beamOut, count * beamOut), scratch, threads: 1);
            return scratch;
        }, scratch => scratch.Dispose());
        cancellationToken.ThrowIfCancellationRequested();
    }

    private void TrainCodebook(int points, Action<int[]?, Span<float>> gather, Span<float> codebook, CancellationToken cancellationToken)
    {
        var options = new KMeansOptions
        {
            Iterations = Options.KMeansIterations,
            Seed = Options.Seed,
            Parallelism = Parallelism,
            ProgressiveDimensions = Options.ProgressiveDimensions,
        };
        KMeansResult result = KMeans.Train(points, Dimension, CodebookSize, gather, options, cancellationToken);
        result.Centroids.AsSpan().CopyTo(codebook);
    }

    private static void ComputeNorms(ReadOnlySpan<float> codebooks, int d, Span<float> norms)
    {
        for (int i = 0; i < norms.Length; i++)
        {
            norms[i] = TensorPrimitives.SumOfSquares(codebooks.Slice(i * d, d));
        }
    }

    private static double MeanOfBest(float[] errors, int n, int beam)
    {
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            sum += errors[i * beam];
        }
        return n == 0 ? 0 : sum / n;
    }

    /// <summary>Training vectors per codeword below which fitting warns (Faiss warns below 39 per centroid).</summary>
    internal const int MinVectorsPerCodeword = 39;

    internal static string FewVectorsWarning(int n, int k) => FormattableString.Invariant(
        $"{n} training vectors for K = {k} codewords per step is {(double)n / k:F1} per codeword, fewer than the {MinVectorsPerCodeword} k-means needs to place them well: expect codebooks fitted to these vectors (a low training MSE) and a higher MSE on other data; train on at least {(long)MinVectorsPerCodeword * k} vectors or use fewer codebook bits.");

    private static ResidualQuantizerOptions Checked(ResidualQuantizerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Warning}")]
    private partial void LogFewVectors(string warning);

    [LoggerMessage(Level = LogLevel.Information, Message = "RQ step {Step}/{Steps} trained: train MSE {Mse:G6} after {Seconds:F1} s")]
    private partial void LogStepTrained(int step, int steps, double mse, double seconds);
}
