using System;
using System.IO;
using System.Numerics.Tensors;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Qinco.Core.Numerics;
using Qinco.Core.Serialization;

namespace Qinco.Core;

/// <summary>
/// What every quantizer of the library shares: the checks at its public boundary (dimension, NaN/Inf, code sizes,
/// destination lengths, trained state), the split of a batch into tiles over threads, the packing of code indices
/// into bytes (<see cref="CodePacking"/>), and the model-file header fields. A quantizer supplies only the work on
/// one tile: <see cref="EncodeTile"/>, <see cref="DecodeTile"/>, and its fit and model-file fields.
/// </summary>
/// <remarks>
/// Results never depend on the thread count: tiles have fixed boundaries and every kernel computes an output element
/// with the same operations whatever the number of threads (README, "Determinism").
/// </remarks>
public abstract class QuantizerBase : IQuantizer
{
    /// <summary>Vectors decoded per tile: fixed, so decoding gives the same bits with any number of threads.</summary>
    private const int DecodeTileVectors = 256;

    private protected QuantizerBase(int dimension, int steps, int codebookBits, Parallelism parallelism, ILoggerFactory? loggerFactory)
    {
        QuantizerLimits.RequireShape(dimension, steps, codebookBits);
        Dimension = dimension;
        Layout = new CodeLayout(steps, codebookBits);
        Parallelism = parallelism;
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
    }

    /// <inheritdoc/>
    public abstract QuantizerKind Kind { get; }

    /// <inheritdoc/>
    public int Dimension { get; }

    /// <inheritdoc/>
    public int Steps => Layout.Steps;

    /// <inheritdoc/>
    public int CodebookBits => Layout.BitsPerStep;

    /// <summary>Codewords per step, K = 2^<see cref="CodebookBits"/>.</summary>
    public int CodebookSize => 1 << CodebookBits;

    /// <inheritdoc/>
    public int CodeSize => Layout.CodeSize;

    /// <inheritdoc/>
    public CodeLayout Layout { get; private protected set; }

    /// <inheritdoc/>
    public abstract bool IsTrained { get; }

    /// <inheritdoc/>
    public abstract string Description { get; }

    /// <inheritdoc/>
    public abstract EncoderSearch Search { get; }

    /// <inheritdoc/>
    public abstract IQuantizer WithSearch(EncoderSearch search);

    /// <summary>The threads <see cref="IQuantizer.Encode(ReadOnlySpan{float}, Span{byte})"/>, <see cref="Decode"/> and fitting use.</summary>
    public Parallelism Parallelism { get; }

    /// <summary>Where the quantizer logs (<see cref="NullLoggerFactory"/> when none was given).</summary>
    private protected ILoggerFactory LoggerFactory { get; }

    /// <summary>Vectors per encode tile (one task of the parallel loop).</summary>
    private protected abstract int EncodeTileVectors { get; }

    /// <summary>The factor the quantizer divides its inputs by (1 when it works in data units); it encodes values up to 2^40 times it in magnitude.</summary>
    private protected virtual float InputScale => 1f;

    /// <summary>2^120: the largest training magnitude (and the inverse of the smallest non-zero one) whose power-of-two scale a model file records exactly.</summary>
    private static readonly float MaxTrainingMagnitude = MathF.ScaleB(1f, 120);

    /// <summary>The fewest training vectors <see cref="Fit(VectorSet, VectorSet?, IProgress{FitProgress}?, CancellationToken)"/> accepts (one per codeword: K).</summary>
    private protected virtual int MinimumTrainingVectors => CodebookSize;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">Empty set, wrong dimension, NaN/Inf values, a largest magnitude outside 2^-120..2^120, or fewer training vectors than codewords per step (<c>2^CodebookBits</c>).</exception>
    public void Fit(VectorSet train, VectorSet? validation = null, IProgress<FitProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        CheckFitInputs(train, validation, cancellationToken);
        FitCore(train, validation, progress, cancellationToken);
    }

    /// <summary>
    /// Learns the quantizer from vectors read from <paramref name="train"/> chunk by chunk, without holding them all: a
    /// training set larger than memory (<see cref="IO.VectorFileSource"/>). The source is read once to check it (dimension,
    /// finite values, magnitude) before any work. QINCo and IVF-QINCo train on every row, read batch by batch; their RQ
    /// initialisation (and IVF-QINCo's residuals) uses all rows up to 500,000 and a seeded uniform sample of 500,000
    /// beyond; RQ trains on the same sample. With at most 500,000 rows the result is bit-identical to
    /// <see cref="Fit(VectorSet, VectorSet?, IProgress{FitProgress}?, CancellationToken)"/> on the same rows and options.
    /// </summary>
    /// <exception cref="ArgumentException">Empty source, wrong dimension, a NaN/Inf value (its row is named), a largest magnitude outside 2^-120..2^120, or too few vectors.</exception>
    /// <exception cref="IO.VectorFileException">The file behind the source cannot be read.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (QINCo keeps its best model once an epoch has been validated, as <c>Fit</c>).</exception>
    public void Fit(IVectorSource train, VectorSet? validation = null, IProgress<FitProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train is VectorSet set)
        {
            Fit(set, validation, progress, cancellationToken);
            return;
        }
        CheckFitInputs(train, validation, cancellationToken);
        FitCore(train, validation, progress, cancellationToken);
    }

    /// <summary>
    /// Learns the quantizer from a checked source that is not an in-memory set. By default: from
    /// <see cref="VectorSources.MaxInMemoryRows"/> rows at most (all, or a seeded sample), read into memory.
    /// </summary>
    private protected virtual void FitCore(IVectorSource train, VectorSet? validation, IProgress<FitProgress>? progress, CancellationToken cancellationToken) =>
        FitCore(VectorSources.Read(train, VectorSources.SampleRows(train.Count, VectorSources.MaxInMemoryRows, FitSeed)), validation, progress, cancellationToken);

    /// <summary>The seed of the quantizer's random draws (k-means, samples).</summary>
    private protected abstract int FitSeed { get; }

    /// <summary>
    /// Checks the inputs of a fit before any work, in memory or streamed alike: the training vectors' dimension, that there
    /// are some, every value finite (read chunk by chunk; the first bad vector is named), then the validation set (may be
    /// empty), then the training vectors' largest magnitude and that there are at least <see cref="MinimumTrainingVectors"/>.
    /// </summary>
    private protected void CheckFitInputs(IVectorSource train, VectorSet? validation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.Dimension != Dimension)
        {
            throw new ArgumentException($"The vectors have dimension {train.Dimension}, but the quantizer was built for dimension {Dimension}.", nameof(train));
        }
        if (train.Count == 0)
        {
            throw new ArgumentException("The vector set is empty.", nameof(train));
        }
        float largest = 0;
        VectorSources.ForEachChunk(train, train.Count, (first, chunk) =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            CheckFinite(chunk, nameof(train), first);
            largest = Math.Max(largest, Math.Abs(TensorPrimitives.MaxMagnitude(chunk)));
        });
        if (validation is not null)
        {
            CheckSet(validation, nameof(validation), allowEmpty: true);
        }
        CheckTrainingMagnitude(largest);
        CheckTrainingCount(train.Count);
    }

    private void CheckTrainingMagnitude(float largest)
    {
        if (largest > MaxTrainingMagnitude || (largest != 0 && largest < MathF.ScaleB(1f, -120)))
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"The training vectors' largest magnitude is {largest:G3}; {Description} trains on data whose largest magnitude lies within 2^-120..2^120 (about 7.5e-37..1.3e36), so that its saved model keeps the data's scale exactly. Rescale the data."), "train");
        }
    }

    private void CheckTrainingCount(int count)
    {
        if (count < MinimumTrainingVectors)
        {
            throw new ArgumentException($"{Description} needs at least {MinimumTrainingVectors} training vectors ({CodebookSize} codewords per step); got {count}. Use fewer codebook bits or more data.", "train");
        }
    }

    /// <inheritdoc/>
    public void Encode(ReadOnlySpan<float> vectors, Span<byte> destination)
    {
        RequireTrained();
        int n = CountVectors(vectors, nameof(vectors));
        CheckDestination((long)n * CodeSize, destination.Length, "bytes");
        unsafe
        {
            fixed (float* px = vectors)
            fixed (byte* pc = destination)
            {
                nint x = (nint)px, c = (nint)pc;
                ForEachTile(n, EncodeTileVectors, Parallelism.Threads, (first, count, threads) =>
                {
                    int perCode = Layout.IndicesPerCode;
                    using var indicesLease = Pool.Lease(count * perCode, out int[] indices);
                    EncodeTile(new ReadOnlySpan<float>((float*)x + (long)first * Dimension, count * Dimension), count, indices, threads);
                    var codes = new Span<byte>((byte*)c + (long)first * CodeSize, count * CodeSize);
                    for (int i = 0; i < count; i++)
                    {
                        CodePacking.Pack(indices.AsSpan(i * perCode, perCode), Layout, codes.Slice(i * CodeSize, CodeSize));
                    }
                });
            }
        }
    }

    /// <inheritdoc/>
    public void Decode(ReadOnlySpan<byte> codes, Span<float> destination, int? steps = null)
    {
        RequireTrained();
        int n = CountCodes(codes, nameof(codes));
        if (steps < 0 || steps > Steps)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), $"Cannot decode a prefix of {steps} steps: the code has {Steps}.");
        }
        int used = steps ?? Steps;
        CheckDestination((long)n * Dimension, destination.Length, "floats");
        CodePacking.ValidatePadding(codes, Layout);
        ValidateCodes(codes[..(n * CodeSize)]);
        unsafe
        {
            fixed (byte* pc = codes)
            fixed (float* px = destination)
            {
                nint c = (nint)pc, x = (nint)px;
                int tiles = (n + DecodeTileVectors - 1) / DecodeTileVectors;
                Parallel.For(0, tiles, new ParallelOptions { MaxDegreeOfParallelism = Parallelism.MaxDegreeOfParallelism }, t =>
                {
                    int first = t * DecodeTileVectors, count = Math.Min(DecodeTileVectors, n - first);
                    int perCode = Layout.IndicesPerCode;
                    using var indicesLease = Pool.Lease(count * perCode, out int[] indices);
                    var tileCodes = new ReadOnlySpan<byte>((byte*)c + (long)first * CodeSize, count * CodeSize);
                    for (int i = 0; i < count; i++)
                    {
                        CodePacking.Unpack(tileCodes.Slice(i * CodeSize, CodeSize), Layout, indices.AsSpan(i * perCode, perCode));
                    }
                    DecodeTile(indices.AsSpan(0, count * perCode), count, used, new Span<float>((float*)x + (long)first * Dimension, count * Dimension));
                });
            }
        }
    }

    /// <inheritdoc/>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ToModelFile().WriteTo(stream);
    }

    /// <summary>The model-file fields of the trained quantizer (what <see cref="Save"/> writes); its tensors are the live arrays, not copies.</summary>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    internal ModelFile ToModelFile()
    {
        RequireTrained();
        var file = new ModelFile(Kind);
        file.Set("dimension", Dimension);
        file.Set("steps", Steps);
        file.Set("codebook_bits", CodebookBits);
        WriteFields(file);
        return file;
    }

    /// <summary>Fits without the boundary checks, for a caller that has already checked <paramref name="train"/> (QINCo's RQ initialisation).</summary>
    internal void FitChecked(VectorSet train, IProgress<FitProgress>? progress, CancellationToken cancellationToken) => FitCore(train, null, progress, cancellationToken);

    /// <summary>Learns the quantizer; the arguments are already checked (finite, right dimension, enough training vectors; a validation set may be empty).</summary>
    private protected abstract void FitCore(VectorSet train, VectorSet? validation, IProgress<FitProgress>? progress, CancellationToken cancellationToken);

    /// <summary>Encodes one tile of <paramref name="count"/> checked vectors [count, D] into code indices [count, <see cref="CodeLayout.IndicesPerCode"/>] (the list number first, if any).</summary>
    /// <param name="vectors">Shape [count, D].</param>
    /// <param name="count">Vectors in the tile.</param>
    /// <param name="codes">Shape [count, indices per code].</param>
    /// <param name="threads">Threads the tile may use inside its kernels (more than 1 only when there are fewer tiles than threads).</param>
    private protected abstract void EncodeTile(ReadOnlySpan<float> vectors, int count, Span<int> codes, int threads);

    /// <summary>
    /// Decodes one tile of code indices [count, <see cref="CodeLayout.IndicesPerCode"/>] (checked) into [count, D]:
    /// the reconstruction after the list number (if any) and the first <paramref name="steps"/> of the M steps.
    /// </summary>
    private protected abstract void DecodeTile(ReadOnlySpan<int> codes, int count, int steps, Span<float> destination);

    /// <summary>Checks what the layout alone cannot (e.g. list numbers beyond the list count) before any decoding work; throws <see cref="ArgumentException"/>.</summary>
    private protected virtual void ValidateCodes(ReadOnlySpan<byte> codes)
    {
    }

    /// <summary>Writes the kind's own fields after the shared header fields (dimension, steps, codebook_bits).</summary>
    private protected abstract void WriteFields(ModelFile file);

    /// <summary>
    /// Runs <paramref name="body"/>(first, count, threads) on tiles of <paramref name="tileVectors"/> of
    /// <paramref name="n"/> vectors: in parallel when there are at least as many tiles as threads, else one tile after
    /// another with every thread inside the tile's kernels.
    /// </summary>
    private protected static void ForEachTile(int n, int tileVectors, int threads, Action<int, int, int> body)
    {
        int tiles = (n + tileVectors - 1) / tileVectors;
        if (tiles < threads)
        {
            for (int t = 0; t < tiles; t++)
            {
                body(t * tileVectors, Math.Min(tileVectors, n - t * tileVectors), threads);
            }
            return;
        }
        Parallel.For(0, tiles, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            body(t * tileVectors, Math.Min(tileVectors, n - t * tileVectors), 1));
    }

    /// <summary>
    /// Refuses a model tensor, in the units the quantizer computes in (data divided by its scale, where training data
    /// stays within ±1 or so), holding a value beyond 2^40: finite, but float32 arithmetic on it would overflow.
    /// </summary>
    /// <exception cref="ModelFormatException">A value is out of range; the tensor and the value are named.</exception>
    private protected static float[] RequireRepresentable(float[] values, string name)
    {
        const float Limit = 1099511627776f; // 2^40
        float max = values.Length == 0 ? 0f : Math.Abs(TensorPrimitives.MaxMagnitude(values));
        if (max > Limit)
        {
            throw new ModelFormatException(FormattableString.Invariant($"Model tensor '{name}' holds {max:G4}: in the model's units its values must stay within ±2^40, or float32 arithmetic overflows."));
        }
        return values;
    }

    /// <summary>Throws <see cref="InvalidOperationException"/> when the quantizer is neither fitted nor loaded.</summary>
    private protected void RequireTrained()
    {
        if (!IsTrained)
        {
            throw new InvalidOperationException($"The {Kind} quantizer is not trained: call Fit or load a saved model first.");
        }
    }

    /// <summary>Checks a set against the quantizer: not null, the right dimension, non-empty unless allowed, every value finite.</summary>
    private protected void CheckSet(VectorSet? set, string parameterName, bool allowEmpty)
    {
        ArgumentNullException.ThrowIfNull(set, parameterName);
        if (set.Dimension != Dimension)
        {
            throw new ArgumentException($"The vectors have dimension {set.Dimension}, but the quantizer was built for dimension {Dimension}.", parameterName);
        }
        if (!allowEmpty && set.Count == 0)
        {
            throw new ArgumentException("The vector set is empty.", parameterName);
        }
        CheckFinite(set.Data, parameterName);
    }

    /// <summary>Checks a row-major batch of vectors and returns how many it holds.</summary>
    private protected int CountVectors(ReadOnlySpan<float> vectors, string parameterName)
    {
        if (vectors.Length % Dimension != 0)
        {
            throw new ArgumentException($"The input holds {vectors.Length} floats, which is not a whole number of {Dimension}-dimensional vectors.", parameterName);
        }
        CheckFinite(vectors, parameterName);
        float limit = InputScale * 1099511627776f;
        if (!vectors.IsEmpty && Math.Abs(TensorPrimitives.MaxMagnitude(vectors)) > limit)
        {
            int bad = 0;
            while (Math.Abs(vectors[bad]) <= limit)
            {
                bad++;
            }
            throw new ArgumentException(FormattableString.Invariant(
                $"Vector {bad / Dimension}, component {bad % Dimension} is {vectors[bad]:G4}: this model encodes values up to ±{limit:G3} (2^40 times the scale {InputScale:G3} it divides its inputs by); larger ones would overflow float32 distances. Scale the input as the training data was scaled."), parameterName);
        }
        return vectors.Length / Dimension;
    }

    private int CountCodes(ReadOnlySpan<byte> codes, string parameterName)
    {
        if (codes.Length % CodeSize != 0)
        {
            throw new ArgumentException($"The codes hold {codes.Length} bytes, which is not a whole number of {CodeSize}-byte codes.", parameterName);
        }
        return codes.Length / CodeSize;
    }

    /// <summary>Throws naming the first non-finite value; <paramref name="firstVector"/> numbers the span's first vector in the caller's set.</summary>
    private void CheckFinite(ReadOnlySpan<float> vectors, string parameterName, int firstVector = 0)
    {
        int bad = FiniteCheck.IndexOfNonFinite(vectors);
        if (bad >= 0)
        {
            throw new ArgumentException($"Vector {firstVector + (bad / Dimension)}, component {bad % Dimension} is {vectors[bad]}: every value must be finite.", parameterName);
        }
    }

    private static void CheckDestination(long needed, int available, string what)
    {
        if (available < needed)
        {
            throw new ArgumentException($"The destination holds {available} {what}; the batch needs {needed}.", "destination");
        }
    }
}
