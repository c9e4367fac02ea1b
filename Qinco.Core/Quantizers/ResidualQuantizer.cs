using System;
using System.Buffers;
using System.Diagnostics;
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
/// Residual quantization (RQ) as Faiss' <c>ResidualQuantizer</c> does it: M steps, each with a codebook of
/// K = 2^bits codewords learned by k-means on the residuals left by the previous steps, and beam-search encoding.
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
public sealed partial class ResidualQuantizer : IQuantizer
{
    private readonly ILogger _logger;
    private float[]? _codebooks;
    private float[]? _codewordNorms;

    /// <summary>Creates an untrained quantizer; the options are validated here.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid (the option is named).</exception>
    public ResidualQuantizer(ResidualQuantizerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<ResidualQuantizer>();
    }

    /// <summary>The settings this quantizer was built with.</summary>
    public ResidualQuantizerOptions Options { get; }

    /// <inheritdoc/>
    public QuantizerKind Kind => QuantizerKind.Residual;

    /// <inheritdoc/>
    public int Dimension => Options.Dimension;

    /// <inheritdoc/>
    public int Steps => Options.Steps;

    /// <inheritdoc/>
    public int CodebookBits => Options.CodebookBits;

    /// <summary>Codewords per step (K).</summary>
    public int CodebookSize => Options.CodebookSize;

    /// <inheritdoc/>
    public int CodeSize => CodePacking.CodeSize(Steps, CodebookBits);

    /// <inheritdoc/>
    public bool IsTrained => _codebooks is not null;

    /// <summary>The codebook of one step, shape [K, Dimension], row-major.</summary>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    public ReadOnlySpan<float> GetCodebook(int step)
    {
        float[] codebooks = RequireCodebooks();
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(step, Steps);
        int size = CodebookSize * Dimension;
        return codebooks.AsSpan(step * size, size);
    }

    /// <summary>
    /// A quantizer that shares this one's codebooks but encodes with another beam width (a wider beam finds
    /// lower-error codes at a higher encoding cost; the codes stay compatible).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="beamWidth"/> is outside 1..1024.</exception>
    public ResidualQuantizer WithBeamWidth(int beamWidth)
    {
        var copy = new ResidualQuantizer(Options with { BeamWidth = beamWidth });
        if (_codebooks is not null)
        {
            copy._codebooks = _codebooks;
            copy._codewordNorms = _codewordNorms;
        }
        return copy;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">Fewer training vectors than codewords per step (<c>2^CodebookBits</c>), or bad input.</exception>
    public void Fit(VectorSet train, VectorSet? validation = null, IProgress<FitProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        QuantizerInput.CheckSet(train, Dimension, nameof(train));
        if (validation is not null)
        {
            QuantizerInput.CheckSet(validation, Dimension, nameof(validation), allowEmpty: true);
        }
        int n = train.Count, d = Dimension, k = CodebookSize;
        if (n < k)
        {
            throw new ArgumentException($"Residual quantization with {k} codewords per step needs at least {k} training vectors; got {n}. Use fewer codebook bits or more data.", nameof(train));
        }
        var clock = Stopwatch.StartNew();
        var codebooks = new float[Steps * k * d];
        var norms = new float[Steps * k];
        float[] residuals = (float[])train.Data.Clone();
        int[] codes = [];
        int beam = 1;
        for (int m = 0; m < Steps; m++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new FitProgress($"k-means step {m + 1}/{Steps}", m, Steps, clock.Elapsed));
            Span<float> codebook = codebooks.AsSpan(m * k * d, k * d);
            TrainCodebook(residuals, n * beam, codebook, cancellationToken);
            ComputeNorms(codebook, d, norms.AsSpan(m * k, k));

            int beamOut = (int)Math.Min((long)beam * k, Options.BeamWidth);
            var nextResiduals = new float[n * beamOut * d];
            var nextCodes = new int[n * beamOut * (m + 1)];
            var errors = new float[n * beamOut];
            AdvanceAll(codebooks.AsSpan(m * k * d, k * d).ToArray(), norms.AsSpan(m * k, k).ToArray(), residuals, codes, n, beam, m, beamOut, nextResiduals, nextCodes, errors);
            residuals = nextResiduals;
            codes = nextCodes;
            beam = beamOut;
            double mse = MeanOfBest(errors, n, beam);
            LogStepTrained(m + 1, Steps, mse, clock.Elapsed.TotalSeconds);
            progress?.Report(new FitProgress($"k-means step {m + 1}/{Steps}", m + 1, Steps, clock.Elapsed, FormattableString.Invariant($"train MSE {mse:G6}")));
        }
        _codebooks = codebooks;
        _codewordNorms = norms;
    }

    /// <inheritdoc/>
    public void Encode(ReadOnlySpan<float> vectors, Span<byte> destination) => Encode(vectors, destination, []);

    /// <summary>
    /// Encodes like <see cref="Encode(ReadOnlySpan{float}, Span{byte})"/> and also writes the squared norm of each
    /// vector's reconstruction (what additive-quantizer search needs for <c>||q − x̂||² = ||q||² − 2⟨q, x̂⟩ + ||x̂||²</c>).
    /// </summary>
    /// <param name="vectors">Row-major vectors.</param>
    /// <param name="destination">Packed codes, <see cref="CodeSize"/> bytes per vector.</param>
    /// <param name="squaredNorms">One float per vector, or empty to skip.</param>
    public void Encode(ReadOnlySpan<float> vectors, Span<byte> destination, Span<float> squaredNorms)
    {
        float[] codebooks = RequireCodebooks();
        int n = QuantizerInput.CountVectors(vectors, Dimension, nameof(vectors));
        QuantizerInput.CheckDestination(n * CodeSize, destination.Length, "bytes");
        if (!squaredNorms.IsEmpty)
        {
            QuantizerInput.CheckDestination(n, squaredNorms.Length, "norms");
        }
        int block = Math.Max(16, 4096 / Options.BeamWidth);
        int blocks = (n + block - 1) / block;
        unsafe
        {
            fixed (float* px = vectors)
            fixed (byte* pc = destination)
            fixed (float* pn = squaredNorms)
            {
                nint x = (nint)px, c = (nint)pc, norms = (nint)pn;
                bool wantNorms = !squaredNorms.IsEmpty;
                Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = Options.MaxDegreeOfParallelism }, b =>
                {
                    int start = b * block, count = Math.Min(block, n - start);
                    var input = new ReadOnlySpan<float>((float*)x + (long)start * Dimension, count * Dimension);
                    var output = new Span<byte>((byte*)c + (long)start * CodeSize, count * CodeSize);
                    var normOut = wantNorms ? new Span<float>((float*)norms + start, count) : [];
                    EncodeBlock(codebooks, input, count, output, normOut);
                });
            }
        }
    }

    /// <inheritdoc/>
    public void Decode(ReadOnlySpan<byte> codes, Span<float> destination, int steps = 0)
    {
        float[] codebooks = RequireCodebooks();
        int n = QuantizerInput.CountCodes(codes, CodeSize, nameof(codes));
        int used = QuantizerInput.CheckPrefix(steps, Steps);
        int d = Dimension, k = CodebookSize;
        QuantizerInput.CheckDestination(n * d, destination.Length, "floats");
        Span<int> indices = Steps <= 256 ? stackalloc int[Steps] : new int[Steps];
        for (int i = 0; i < n; i++)
        {
            CodePacking.Unpack(codes.Slice(i * CodeSize, CodeSize), CodebookBits, indices);
            Span<float> output = destination.Slice(i * d, d);
            output.Clear();
            for (int m = 0; m < used; m++)
            {
                TensorPrimitives.Add(output, codebooks.AsSpan((m * k + indices[m]) * d, d), output);
            }
        }
    }

    /// <inheritdoc/>
    public void Save(Stream stream)
    {
        float[] codebooks = RequireCodebooks();
        var file = new ModelFile(Kind);
        file.Set("dimension", Dimension);
        file.Set("steps", Steps);
        file.Set("codebook_bits", CodebookBits);
        file.Set("beam_width", Options.BeamWidth);
        file.Set("kmeans_iterations", Options.KMeansIterations);
        file.Set("progressive_dimensions", Options.ProgressiveDimensions ? 1 : 0);
        file.Set("seed", Options.Seed);
        file.Set("codebooks", codebooks, Steps, CodebookSize, Dimension);
        file.WriteTo(stream);
    }

    internal static ResidualQuantizer Read(ModelFile file, int maxDegreeOfParallelism, ILoggerFactory? loggerFactory)
    {
        var options = new ResidualQuantizerOptions
        {
            Dimension = file.GetInt32("dimension", 1, 1 << 20),
            Steps = file.GetInt32("steps", 1, 4096),
            CodebookBits = file.GetInt32("codebook_bits", 1, 16),
            BeamWidth = file.GetInt32("beam_width", 1, 1024),
            KMeansIterations = file.GetInt32("kmeans_iterations", 1, int.MaxValue),
            ProgressiveDimensions = file.GetInt32("progressive_dimensions", 0, 1) == 1,
            Seed = (int)file.GetInt64("seed"),
            MaxDegreeOfParallelism = maxDegreeOfParallelism,
            LoggerFactory = loggerFactory,
        };
        var quantizer = new ResidualQuantizer(options);
        float[] codebooks = file.GetFloats("codebooks", options.Steps, options.CodebookSize, options.Dimension);
        QuantizerInput.CheckFinite(codebooks, options.Dimension, "codebooks");
        quantizer.SetCodebooks(codebooks);
        return quantizer;
    }

    private void SetCodebooks(float[] codebooks)
    {
        var norms = new float[Steps * CodebookSize];
        for (int m = 0; m < Steps; m++)
        {
            int size = CodebookSize * Dimension;
            ComputeNorms(codebooks.AsSpan(m * size, size), Dimension, norms.AsSpan(m * CodebookSize, CodebookSize));
        }
        _codewordNorms = norms;
        _codebooks = codebooks;
    }

    private void EncodeBlock(float[] codebooks, ReadOnlySpan<float> vectors, int n, Span<byte> codes, Span<float> squaredNorms)
    {
        int d = Dimension, k = CodebookSize, steps = Steps;
        int maxBeam = Options.BeamWidth;
        float[] norms = _codewordNorms!;
        // Double-buffered beam state, pooled: encoding allocates nothing per block once the pool is warm.
        float[] residuals = ArrayPool<float>.Shared.Rent(n * maxBeam * d);
        float[] nextResiduals = ArrayPool<float>.Shared.Rent(n * maxBeam * d);
        int[] codeState = ArrayPool<int>.Shared.Rent(n * maxBeam * steps);
        int[] nextCodes = ArrayPool<int>.Shared.Rent(n * maxBeam * steps);
        float[] errors = ArrayPool<float>.Shared.Rent(n * maxBeam);
        try
        {
            vectors.CopyTo(residuals);
            int beam = 1;
            for (int m = 0; m < steps; m++)
            {
                int beamOut = m == steps - 1 ? 1 : (int)Math.Min((long)beam * k, Options.BeamWidth);
                BeamSearch.Advance(codebooks.AsSpan(m * k * d, k * d), norms.AsSpan(m * k, k), k, d,
                    residuals.AsSpan(0, n * beam * d), codeState.AsSpan(0, n * beam * m), n, beam, m, beamOut,
                    nextResiduals.AsSpan(0, n * beamOut * d), nextCodes.AsSpan(0, n * beamOut * (m + 1)), errors.AsSpan(0, n * beamOut));
                (residuals, nextResiduals) = (nextResiduals, residuals);
                (codeState, nextCodes) = (nextCodes, codeState);
                beam = beamOut;
            }
            for (int i = 0; i < n; i++)
            {
                CodePacking.Pack(codeState.AsSpan(i * steps, steps), CodebookBits, codes.Slice(i * CodeSize, CodeSize));
                if (!squaredNorms.IsEmpty)
                {
                    // x̂ = x − r: its norm is what LUT search adds back.
                    float sum = 0f;
                    for (int j = 0; j < d; j++)
                    {
                        float value = vectors[i * d + j] - residuals[i * d + j];
                        sum += value * value;
                    }
                    squaredNorms[i] = sum;
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(residuals);
            ArrayPool<float>.Shared.Return(nextResiduals);
            ArrayPool<int>.Shared.Return(codeState);
            ArrayPool<int>.Shared.Return(nextCodes);
            ArrayPool<float>.Shared.Return(errors);
        }
    }

    private void AdvanceAll(float[] codebook, float[] norms, float[] residuals, int[] codes, int n, int beam, int step, int beamOut, float[] nextResiduals, int[] nextCodes, float[] errors)
    {
        int d = Dimension, k = CodebookSize;
        int block = Math.Max(16, 4096 / beam);
        int blocks = (n + block - 1) / block;
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = Options.MaxDegreeOfParallelism }, b =>
        {
            int start = b * block, count = Math.Min(block, n - start);
            BeamSearch.Advance(codebook, norms, k, d,
                residuals.AsSpan(start * beam * d, count * beam * d), codes.AsSpan(start * beam * step, count * beam * step), count, beam, step, beamOut,
                nextResiduals.AsSpan(start * beamOut * d, count * beamOut * d), nextCodes.AsSpan(start * beamOut * (step + 1), count * beamOut * (step + 1)), errors.AsSpan(start * beamOut, count * beamOut));
        });
    }

    private void TrainCodebook(float[] points, int count, Span<float> codebook, CancellationToken cancellationToken)
    {
        var options = new KMeansOptions
        {
            Iterations = Options.KMeansIterations,
            Seed = Options.Seed,
            MaxDegreeOfParallelism = Options.MaxDegreeOfParallelism,
            ProgressiveDimensions = Options.ProgressiveDimensions,
        };
        KMeansResult result = KMeans.Train(points.AsSpan(0, count * Dimension), Dimension, CodebookSize, options, cancellationToken);
        result.Centroids.AsSpan().CopyTo(codebook);
    }

    private static void ComputeNorms(ReadOnlySpan<float> codebook, int d, Span<float> norms)
    {
        for (int i = 0; i < norms.Length; i++)
        {
            norms[i] = TensorPrimitives.SumOfSquares(codebook.Slice(i * d, d));
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

    private float[] RequireCodebooks()
    {
        QuantizerInput.CheckTrained(_codebooks is not null, "residual");
        return _codebooks!;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "RQ step {Step}/{Steps} trained: train MSE {Mse:G6} after {Seconds:F1} s")]
    private partial void LogStepTrained(int step, int steps, double mse, double seconds);
}
