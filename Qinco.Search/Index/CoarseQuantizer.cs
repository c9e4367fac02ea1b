using System;
using System.Threading;
using Qinco.Core;
using Qinco.Core.Numerics;

namespace Qinco.Search;

/// <summary>
/// The coarse quantizer of an inverted file: <see cref="ListCount"/> centroids, each vector assigned to its nearest
/// (exact L2, ties to the smaller list number). <see cref="Train"/> fits them by k-means
/// (<see cref="KMeans"/>: GEMM assignment, at most 256 sampled points per centroid).
/// </summary>
/// <remarks>Immutable and thread-safe.</remarks>
public sealed class CoarseQuantizer
{
    private readonly float[] _centroids;

    /// <summary>Wraps centroids (the array is kept, not copied).</summary>
    /// <param name="centroids">Shape: [lists, dimension], row-major, finite.</param>
    /// <param name="dimension">D, at least 1.</param>
    /// <exception cref="ArgumentException">No centroid, a length that is not a multiple of <paramref name="dimension"/>, or a NaN/Inf.</exception>
    public CoarseQuantizer(float[] centroids, int dimension)
    {
        ArgumentNullException.ThrowIfNull(centroids);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (centroids.Length == 0 || centroids.Length % dimension != 0)
        {
            throw new ArgumentException($"The centroids hold {centroids.Length} floats: expected a positive multiple of the dimension {dimension}.", nameof(centroids));
        }
        int bad = Checks.IndexOfNonFinite(centroids);
        if (bad >= 0)
        {
            throw new ArgumentException($"Centroid {bad / dimension}, component {bad % dimension} is {centroids[bad]}: every value must be finite.", nameof(centroids));
        }
        _centroids = centroids;
        Dimension = dimension;
        ListCount = centroids.Length / dimension;
    }

    /// <summary>D.</summary>
    public int Dimension { get; }

    /// <summary>Number of centroids (inverted lists).</summary>
    public int ListCount { get; }

    /// <summary>Shape: [ListCount, Dimension].</summary>
    public ReadOnlySpan<float> Centroids => _centroids;

    /// <summary>One list whose centroid is the origin: the residual of a vector is the vector (a flat, non-IVF index).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is below 1.</exception>
    public static CoarseQuantizer Single(int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        return new CoarseQuantizer(new float[dimension], dimension);
    }

    /// <summary>Fits <paramref name="lists"/> centroids to <paramref name="train"/> by k-means.</summary>
    /// <param name="train">Training vectors, at least <paramref name="lists"/>.</param>
    /// <param name="lists">Number of centroids, at least 1.</param>
    /// <param name="options">k-means options (default: 10 iterations, seed 1234, at most 256 points per centroid, all processors).</param>
    /// <param name="cancellationToken">Checked every iteration.</param>
    /// <exception cref="ArgumentException">Fewer vectors than lists, or NaN/Inf.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lists"/> below 1 or an invalid option.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static CoarseQuantizer Train(VectorSet train, int lists, KMeansOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        KMeansResult result = KMeans.Train(train, lists, options, cancellationToken);
        return new CoarseQuantizer(result.Centroids, train.Dimension);
    }

    /// <summary>The nearest list of every vector.</summary>
    /// <param name="vectors">Shape: [n, D].</param>
    /// <param name="lists">Shape: [n].</param>
    /// <param name="maxDegreeOfParallelism">Threads; -1 uses all processors. The result does not depend on it.</param>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs, or not a whole number of vectors.</exception>
    public void Assign(ReadOnlySpan<float> vectors, Span<int> lists, int maxDegreeOfParallelism = -1)
    {
        int n = CountVectors(vectors);
        if (lists.Length < n)
        {
            throw new ArgumentException($"The destination holds {lists.Length} list numbers; {n} vectors need as many.", nameof(lists));
        }
        if (ListCount == 1)
        {
            lists[..n].Clear();
            return;
        }
        var distances = new float[n];
        // As k-means does: far from unit magnitude, vectors and centroids are divided by one power of two (exact, so
        // the nearest list does not change) and float32 squared distances neither overflow nor underflow.
        ReadOnlySpan<float> x = vectors[..(n * Dimension)], centroids = _centroids;
        float scale = MagnitudeScale.ForLargest(Math.Max(MagnitudeScale.Largest(x), MagnitudeScale.Largest(centroids)));
        if (scale != 1f)
        {
            x = MagnitudeScale.Divided(x, scale);
            centroids = MagnitudeScale.Divided(centroids, scale);
        }
        Distances.AssignNearest(x, centroids, n, ListCount, Dimension, lists, distances, maxDegreeOfParallelism);
    }

    /// <summary>Writes <c>x − centroid[list]</c> for every vector.</summary>
    /// <param name="vectors">Shape: [n, D].</param>
    /// <param name="lists">Shape: [n]; list numbers in [0, ListCount).</param>
    /// <param name="destination">Shape: [n, D]; may be <paramref name="vectors"/> itself.</param>
    /// <exception cref="ArgumentException">A span is too short, or a list number is out of range.</exception>
    public void Residuals(ReadOnlySpan<float> vectors, ReadOnlySpan<int> lists, Span<float> destination)
    {
        int n = CountVectors(vectors);
        if (lists.Length < n || destination.Length < vectors.Length)
        {
            throw new ArgumentException($"{n} vectors need {n} list numbers and {vectors.Length} destination floats.", lists.Length < n ? nameof(lists) : nameof(destination));
        }
        int d = Dimension;
        for (int i = 0; i < n; i++)
        {
            System.Numerics.Tensors.TensorPrimitives.Subtract(vectors.Slice(i * d, d), Centroid(lists[i]), destination.Slice(i * d, d));
        }
    }

    /// <summary>The residuals of a set to their nearest centroids, as a new set: what a quantizer behind this coarse quantizer is trained on.</summary>
    /// <exception cref="ArgumentException">The set has another dimension.</exception>
    public VectorSet Residuals(VectorSet vectors, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        var lists = new int[vectors.Count];
        Assign(vectors.Data, lists, maxDegreeOfParallelism);
        var result = new VectorSet(vectors.Count, Dimension);
        Residuals(vectors.Data, lists, result.Data);
        return result;
    }

    /// <summary>
    /// The residuals of <paramref name="vectors"/> to their nearest centroids as a source that computes them when rows are
    /// read, e.g. to fit the quantizer behind this coarse quantizer on a training file larger than memory
    /// (<c>quantizer.Fit(coarse.ResidualsOf(VectorFileSource.Open(path)))</c>). Rows read equal those of
    /// <see cref="Residuals(VectorSet, int)"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The source has another dimension.</exception>
    public IVectorSource ResidualsOf(IVectorSource vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        return new ResidualVectorSource(vectors, this);
    }

    /// <summary>Centroid <paramref name="list"/>, D floats.</summary>
    /// <exception cref="ArgumentException"><paramref name="list"/> is out of range.</exception>
    public ReadOnlySpan<float> Centroid(int list)
    {
        if ((uint)list >= (uint)ListCount)
        {
            throw new ArgumentException($"List {list} is outside [0, {ListCount}).", nameof(list));
        }
        return _centroids.AsSpan(list * Dimension, Dimension);
    }

    private int CountVectors(ReadOnlySpan<float> vectors)
    {
        if (vectors.Length % Dimension != 0)
        {
            throw new ArgumentException($"The input holds {vectors.Length} floats, not a whole number of {Dimension}-dimensional vectors.", nameof(vectors));
        }
        return vectors.Length / Dimension;
    }
}
