using System;
using System.Globalization;
using System.Numerics.Tensors;
using System.Threading;
using Microsoft.Extensions.Logging;
using Qinco.Core.Numerics;
using Qinco.Core.Serialization;

namespace Qinco.Core;

/// <summary>
/// IVF-QINCo (ALGORITHM.md §3.1): an inverted file of N coarse centroids in front of M QINCo steps. Every vector belongs
/// to the list of its nearest centroid; its code is that list number followed by M step indices whose codebooks the
/// step networks adapt to the reconstruction so far, which starts at the centroid, so every step is conditioned on
/// the list. The search index stores the step indices in the list's inverted list (<see cref="SplitCode"/>).
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>code size</term><description><c>ceil((ceil(log2 N) + M * bits) / 8)</c> bytes: the list number, then the steps (<see cref="CodeLayout.ListBits"/>)</description></item>
/// <item><term>training</term><description>coarse k-means (<see cref="IvfQincoOptions.CoarseIterations"/> Lloyd iterations, at most 256 sampled points per centroid and, beyond that, at most max(500,000, 64 per centroid) points), a frozen assignment of every training vector to its nearest centroid, RQ on the residuals for the step codebooks, then QINCo training with the centroids frozen</description></item>
/// <item><term>encoding</term><description>the exact nearest centroid (or the <see cref="IvfQincoOptions.ProbedLists"/> nearest, each starting a beam), then QINCo's beam search over the M steps</description></item>
/// <item><term>prefix decoding</term><description><c>Decode(codes, steps: 0)</c> gives the centroid; m steps the reconstruction after the centroid and m steps</description></item>
/// <item><term>determinism, thread safety</term><description>as <see cref="QincoQuantizer"/></description></item>
/// </list>
/// </remarks>
public sealed class IvfQincoQuantizer : QincoQuantizerBase
{
    /// <summary>Creates an untrained quantizer; the options are validated here.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid (the option is named).</exception>
    public IvfQincoQuantizer(IvfQincoOptions options)
        : base(options, ListBits(options?.Lists ?? 1))
    {
    }

    /// <summary>The settings this quantizer was built with.</summary>
    public IvfQincoOptions Options => (IvfQincoOptions)Settings;

    /// <inheritdoc/>
    public override QuantizerKind Kind => QuantizerKind.IvfQinco;

    /// <summary>Number of inverted lists N (the options' count, or the one chosen from the training size once fitted; 0 before that).</summary>
    public int Lists => Model?.FirstCodebookSize ?? Options.Lists ?? 0;

    /// <inheritdoc/>
    public override string Description => string.Create(CultureInfo.InvariantCulture,
        $"IVF{(Lists > 0 ? Lists : "auto")}-{QincoQuantizer.Name(Options)} {Options.Search}{(Options.ProbedLists > 1 ? $" over {Options.ProbedLists} lists" : string.Empty)} (M={Steps}, K={CodebookSize})");

    private protected override int FirstBeamsOf(EncoderSearch search) => Options.ProbedLists;

    /// <summary>
    /// A copy of this trained quantizer whose encoder starts its beams from the <paramref name="probedLists"/> nearest
    /// centroids instead of <see cref="IvfQincoOptions.ProbedLists"/> (ALGORITHM.md §3.1, the beam spanning the
    /// nearest few lists); the codes stay decodable by this model, and the beam width after the first step is the
    /// search's. On bigsift (IVF1024, M = 8, beam 5, trained with one list) 2 and 4 lists lowered the MSE by 2.2 % and
    /// 3.1 % at the same encoding time (README, "QINCo at 1M scale").
    /// </summary>
    /// <param name="probedLists">Lists whose centroids start a beam: 1 to min(<see cref="Lists"/>, 1,024).</param>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="probedLists"/> is below 1 or above the list count (or the beam limit).</exception>
    public IvfQincoQuantizer WithProbedLists(int probedLists)
    {
        int lists = RequireModel().FirstCodebookSize, most = Math.Min(lists, QuantizerLimits.MaxBeamWidth);
        if (probedLists < 1 || probedLists > most)
        {
            throw new ArgumentOutOfRangeException(nameof(probedLists), probedLists, $"IVF-QINCo has {lists} lists: probe 1 to {most} of them.");
        }
        return (IvfQincoQuantizer)CopyWithSettings(Options with { ProbedLists = probedLists });
    }

    /// <summary>The coarse centroids in data units, shape [N, D] (a copy).</summary>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    public float[] GetCentroids()
    {
        float[] centroids = (float[])RequireModel().Codebook0.Clone();
        Model!.Denormalise(centroids);
        return centroids;
    }

    /// <summary>Splits one packed code into its list number and its M step indices.</summary>
    /// <param name="code">One code, <see cref="QuantizerBase.CodeSize"/> bytes.</param>
    /// <param name="steps">Receives the M step indices.</param>
    /// <returns>The list number, 0..N−1.</returns>
    /// <exception cref="ArgumentException">The code has the wrong length, padding bits set, or a list number of N or more.</exception>
    public int SplitCode(ReadOnlySpan<byte> code, Span<int> steps)
    {
        RequireTrained();
        if (code.Length != CodeSize || steps.Length != Steps)
        {
            throw new ArgumentException($"A code is {CodeSize} bytes with {Steps} step indices; got {code.Length} bytes and room for {steps.Length} indices.", nameof(code));
        }
        ValidateCodes(code);
        using var lease = Pool.Lease(Layout.IndicesPerCode, out int[] leased);
        Span<int> indices = leased.AsSpan(0, Layout.IndicesPerCode);
        CodePacking.Unpack(code, Layout, indices);
        indices[1..].CopyTo(steps);
        return indices[0];
    }

    /// <summary>The list a vector is encoded into (its nearest centroid, as the encoder chooses it) and its residual to that centroid.</summary>
    /// <param name="vector">One vector, <see cref="QuantizerBase.Dimension"/> floats, finite.</param>
    /// <param name="residual">Receives <c>x − centroid</c> in data units.</param>
    /// <returns>The list number.</returns>
    /// <exception cref="ArgumentException">Wrong lengths, or non-finite values.</exception>
    public int Assign(ReadOnlySpan<float> vector, Span<float> residual)
    {
        QincoModel model = RequireModel();
        if (CountVectors(vector, nameof(vector)) != 1 || residual.Length != Dimension)
        {
            throw new ArgumentException($"Assign takes one vector of {Dimension} floats and a residual of as many; got {vector.Length} and {residual.Length}.", nameof(vector));
        }
        using var lease = Pool.Lease(Dimension, out float[] normalised);
        model.Normalise(vector, normalised.AsSpan(0, Dimension));
        Span<int> nearest = stackalloc int[1];
        AssignLists(model, normalised.AsSpan(0, Dimension), nearest);
        int list = nearest[0];
        model.Codebook0.AsSpan(list * Dimension, Dimension).CopyTo(residual);
        model.Denormalise(residual);
        TensorPrimitives.Subtract(vector, residual, residual);
        return list;
    }

    /// <summary>Coarse k-means, frozen assignment, RQ on the residuals (§3.1; of a sample beyond 500,000 rows), then the layers.</summary>
    private protected override (QincoModel Model, int[]? Lists) Initialize(IVectorSource train, IProgress<FitProgress>? progress, CancellationToken cancellationToken)
    {
        (QincoModel model, int[]? lists) = InitializeForResume(train, progress, cancellationToken);
        (VectorSet residuals, int[]? rows) = InitializationSample(train);
        residuals = residuals == train ? residuals.Clone() : residuals;
        var centroid = new float[Dimension];
        for (int i = 0; i < residuals.Count; i++)
        {
            Span<float> row = residuals[i];
            int list = lists![rows?[i] ?? i];
            model.Codebook0.AsSpan(list * Dimension, Dimension).CopyTo(centroid);
            model.Denormalise(centroid);
            TensorPrimitives.Subtract(row, centroid, row);
        }
        InitializeCodebooksFromRq(model, residuals, firstStep: 1, progress, cancellationToken);
        model.InitializeLayers(Options.ZeroInitialization, Options.Seed);
        return (model, lists);
    }

    /// <summary>The coarse centroids and every training vector's list; the step parameters are zero.</summary>
    private protected override (QincoModel Model, int[]? Lists) InitializeForResume(IVectorSource train, IProgress<FitProgress>? progress, CancellationToken cancellationToken)
    {
        int n = train.Count, d = Dimension;
        int lists = Options.Lists ?? IvfQincoOptions.DefaultLists(n);
        if (lists > n)
        {
            throw new ArgumentException($"IVF-QINCo with {lists} lists needs at least as many training vectors; got {n}. Use fewer lists (or leave Lists unset to choose from the training size).", nameof(train));
        }
        if (Options.ProbedLists > lists)
        {
            throw new ArgumentException($"IVF-QINCo probes {Options.ProbedLists} lists (ProbedLists) but has {lists}{(Options.Lists is null ? $", chosen from the {n} training vectors" : string.Empty)}; use at most {lists} probed lists.", nameof(train));
        }
        Layout = new CodeLayout(Steps, CodebookBits, ListBits(lists));
        progress?.Report(new FitProgress($"coarse k-means: {lists} lists", 0, 1, TimeSpan.Zero));
        QincoModel model = CreateModel(train, Steps + 1, lists);
        // k-means in the model's units (the data's magnitude does not matter), on the rows it samples, read when it asks.
        void Gather(int[]? rows, Span<float> destination)
        {
            if (rows is null)
            {
                train.ReadRange(0, n, destination);
            }
            else
            {
                train.ReadRows(rows, destination);
            }
            model.Normalise(destination, destination);
        }
        // Faiss' 256 points per centroid, fewer when that would hold more than max(500,000, 64 per centroid) rows at once:
        // 10,000,000 rows into 16,384 lists sample 1,048,576 (537 MB at d = 128), not 4,194,304.
        int pointsPerCentroid = (int)Math.Min(256, (Math.Max(VectorSources.MaxInMemoryRows, 64L * lists) + lists - 1) / lists);
        KMeansResult coarse = KMeans.Train(n, d, lists, Gather, new KMeansOptions
        {
            Iterations = Options.CoarseIterations,
            Seed = Options.Seed,
            MaxPointsPerCentroid = pointsPerCentroid,
            Parallelism = Parallelism,
        }, cancellationToken);
        coarse.Centroids.AsSpan().CopyTo(model.Codebook0);
        var labels = new int[n];
        VectorSources.ForEachChunk(train, n, (first, chunk) =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = chunk.Length / d;
            using var lease = Pool.Lease(chunk.Length, out float[] normalised);
            model.Normalise(chunk, normalised);
            AssignLists(model, normalised.AsSpan(0, chunk.Length), labels.AsSpan(first, count));
        });
        return (model, labels);
    }

    private protected override QincoQuantizerBase WithOptions(QincoOptions options) => new IvfQincoQuantizer((IvfQincoOptions)options);

    private protected override void WriteKindFields(ModelFile file)
    {
        file.Set("lists", Lists);
        file.Set("probed_lists", Options.ProbedLists);
        file.Set("coarse_iterations", Options.CoarseIterations);
    }

    /// <summary>Refuses codes whose list number is N or more, before any decoding work.</summary>
    private protected override void ValidateCodes(ReadOnlySpan<byte> codes)
    {
        int bytes = (Layout.ListBits + 7) / 8, lists = Lists;
        for (int i = 0; i < codes.Length; i += CodeSize)
        {
            int list = 0;
            for (int b = 0; b < bytes; b++)
            {
                list |= codes[i + b] << (8 * b);
            }
            list &= (1 << Layout.ListBits) - 1;
            if (list >= lists)
            {
                throw new ArgumentException($"Code {i / CodeSize} names list {list}, but the model has {lists} lists: the code is corrupt or was written by another model.", nameof(codes));
            }
        }
    }

    internal static IvfQincoQuantizer Read(ModelFile file, ModelHeader header, Parallelism parallelism, ILoggerFactory? loggerFactory)
    {
        IvfQincoOptions options = ReadSettings(new IvfQincoOptions
        {
            Lists = file.GetInt32("lists", 1, IvfQincoOptions.MaxLists),
            ProbedLists = file.GetInt32("probed_lists", 1, QuantizerLimits.MaxBeamWidth),
            CoarseIterations = file.GetInt32("coarse_iterations", 1, int.MaxValue),
        }, file, header, parallelism, loggerFactory);
        var quantizer = new IvfQincoQuantizer(options);
        quantizer.ReadModel(file, header.Steps + 1, options.Lists);
        return quantizer;
    }

    /// <summary>Bits of a list number for <paramref name="lists"/> lists: ceil(log2 N), at least 1.</summary>
    private static int ListBits(int lists) => Math.Max(1, 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)(lists - 1)));

    /// <summary>The nearest centroid of each normalised vector into <paramref name="lists"/> (one per vector), with the encoder's distance (direct form, ties to the smallest index).</summary>
    private void AssignLists(QincoModel model, ReadOnlySpan<float> normalised, Span<int> lists) =>
        Distances.AssignNearest(normalised, model.Codebook0, lists.Length, model.FirstCodebookSize, Dimension, lists, new float[lists.Length], Parallelism.MaxDegreeOfParallelism, DistanceForm.Direct);
}
