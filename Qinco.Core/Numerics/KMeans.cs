using System;
using System.Collections.Generic;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Threading;
using System.Threading.Tasks;
using Qinco.Training;

namespace Qinco.Core.Numerics;

/// <summary>
/// Lloyd k-means as Faiss' <c>Clustering::train</c> does it (ALGORITHM.md 6.2), and its progressive-dimension variant
/// (<c>ProgressiveDimClustering</c>) used to train residual-quantizer codebooks.
/// </summary>
/// <remarks>
/// <para><b>Algorithm.</b> (1) When <c>n &gt; MaxPointsPerCentroid * k</c>, a sample of that many distinct points is
/// drawn (in sample order). (2) The centroids start as <c>k</c> distinct sampled training points. (3) Each iteration:
/// exact nearest-centroid assignment (<see cref="Distances.AssignNearest"/>), objective = sum of the squared distances
/// (double); stop if it equals the previous iteration's; centroids = means of their points (sums in double); empty
/// clusters are re-seeded by splitting: for each empty cluster <c>i</c> in index order, candidate donors <c>j</c> are
/// visited cyclically from 0 and accepted with probability <c>(size_j - 1) / (n - k)</c>, or 0 when all the points of
/// <c>j</c> coincide (a split of them empties the same cluster again; Faiss does not make this exception) (after 1000·k
/// rejected draws the largest cluster that can donate is taken); the donor is copied to <c>i</c>, coordinate <c>t</c>
/// of <c>i</c> is scaled by <c>1 + 1/1024</c> for even <c>t</c> and <c>1 - 1/1024</c> for odd <c>t</c>, the donor by
/// the opposite factors, and the donor's size is halved (<c>size_i = size_j / 2; size_j -= size_i</c>, in double as Faiss does in float).</para>
/// <para><b>Randomness.</b> All draws come from <see cref="SplitMix64"/> streams derived from
/// <see cref="KMeansOptions.Seed"/> (stream 0: subsample, 1: initial centroids, 2: PCA sample, 1000: splitting,
/// restarted at every iteration as Faiss restarts its split generator), so the sequence is specified and stable across
/// .NET versions. It is not Faiss' Mersenne twister: results match Faiss in behaviour, not bit for bit.</para>
/// <para><b>Scale.</b> Data whose largest magnitude lies outside 2^-20..2^20 is divided by a power of two near it
/// (exact) before clustering and the centroids (and objective) are multiplied back, so float32 squared distances
/// neither overflow nor underflow and the result does not depend on the data's scale; data within that range is
/// clustered as it is.</para>
/// <para><b>Determinism.</b> Same seed, same kernel variant (ISA) and same data give bit-identical centroids for
/// any <see cref="KMeansOptions.Parallelism"/>: assignment is per point with a fixed chunking, and every
/// centroid sum is accumulated by one thread in point order.</para>
/// </remarks>
public static class KMeans
{
    private const float SplitEpsilon = 1f / 1024f;

    /// <summary>Clusters the rows of <paramref name="data"/> into <paramref name="k"/> centroids.</summary>
    /// <param name="data">Shape: [n, d], row-major, finite values.</param>
    /// <param name="k">Number of centroids, 1 to n.</param>
    /// <param name="options">Options; null for the defaults.</param>
    /// <param name="cancellationToken">Checked before every iteration.</param>
    /// <returns>The centroids, per-iteration objective and split counts.</returns>
    /// <exception cref="ArgumentException">Fewer points than centroids, or a NaN/infinite value.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> below 1 or an invalid option.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static KMeansResult Train(VectorSet data, int k, KMeansOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Train(data.Data, data.Dimension, k, options, cancellationToken);
    }

    /// <summary>Clusters the rows of <paramref name="data"/> (<c>data.Length / dimension</c> points) into <paramref name="k"/> centroids.</summary>
    /// <param name="data">Shape: [n, dimension], row-major, finite values.</param>
    /// <param name="dimension">d, at least 1; the length of <paramref name="data"/> must be a multiple of it.</param>
    /// <param name="k">Number of centroids, 1 to n.</param>
    /// <param name="options">Options; null for the defaults.</param>
    /// <param name="cancellationToken">Checked before every iteration.</param>
    /// <returns>The centroids, per-iteration objective and split counts.</returns>
    /// <exception cref="ArgumentException">The length is not a multiple of <paramref name="dimension"/>, fewer points than centroids, or a NaN/infinite value.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> or <paramref name="dimension"/> below 1, or an invalid option.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static KMeansResult Train(ReadOnlySpan<float> data, int dimension, int k, KMeansOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new KMeansOptions();
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (data.Length % dimension != 0)
        {
            throw new ArgumentException($"The data holds {data.Length} floats, which is not a multiple of the dimension {dimension}.", nameof(data));
        }
        int d = dimension;
        int n = data.Length / d;
        if (n < k)
        {
            throw new ArgumentException($"k-means needs at least as many points as centroids: got {n} points for k = {k} centroids.", nameof(data));
        }
        for (int i = 0; i < data.Length; i++)
        {
            if (!float.IsFinite(data[i]))
            {
                throw new ArgumentException($"Point {i / d}, component {i % d} is {data[i]}: every value must be finite.", nameof(data));
            }
        }
        // Data far from unit magnitude is divided by a power of two (exact) and the centroids multiplied back, so float32
        // squared distances neither overflow nor underflow: the result does not depend on the scale. Data within
        // 2^-20..2^20 is used as it is (scale 1: bit-identical to clustering it directly).
        float scale = MagnitudeScale.PowerOfTwo(data);
        if (scale != 1f)
        {
            data = MagnitudeScale.Divided(data, scale);
        }
        var warnings = new List<string>();
        if ((long)n < (long)k * options.MinPointsPerCentroid)
        {
            warnings.Add($"Clustering {n} points into {k} centroids: fewer than the recommended {(long)k * options.MinPointsPerCentroid} (MinPointsPerCentroid = {options.MinPointsPerCentroid}).");
        }
        cancellationToken.ThrowIfCancellationRequested();

        // (1) Subsample.
        ReadOnlySpan<float> train = data;
        int[]? rows = SampleRows(n, k, options);
        int m = rows?.Length ?? n;
        if (rows is not null)
        {
            float[] sample = new float[(long)m * d];
            for (int i = 0; i < m; i++)
            {
                data.Slice(rows[i] * d, d).CopyTo(sample.AsSpan(i * d, d));
            }
            train = sample;
        }

        var state = new LloydState(m, k, options, cancellationToken);
        float[] centroids;
        if (!options.ProgressiveDimensions)
        {
            centroids = new float[k * d];
            InitialCentroids(train, m, d, d, k, options.Seed, centroids);
            state.Run(train, d, centroids);
        }
        else
        {
            centroids = TrainProgressive(train, m, d, k, options, state);
        }

        int[]? labels = null;
        if (options.ComputeLabels)
        {
            labels = new int[n];
            var distances = new float[n];
            Distances.AssignNearest(data, centroids, n, k, d, labels, distances, options.Parallelism.MaxDegreeOfParallelism, options.DistanceForm);
        }
        List<double> objective = state.Objective;
        if (scale != 1f)
        {
            // Back to the data's units; the split perturbation (1 + 2^-10) can push a centroid of data near float.MaxValue past it.
            TensorPrimitives.Multiply(centroids, scale, centroids);
            TensorPrimitives.Clamp(centroids, -float.MaxValue, float.MaxValue, centroids);
            double squared = (double)scale * scale;
            objective = state.Objective.ConvertAll(o => o * squared);
        }
        return new KMeansResult(k, d, centroids, objective, state.Splits, state.Dimensions, m, labels, warnings);
    }

    /// <summary>
    /// Clusters <paramref name="n"/> points that the caller materialises on demand: only the k-means sample (at most
    /// <c>MaxPointsPerCentroid · k</c> rows, drawn exactly as <see cref="Train(ReadOnlySpan{float}, int, int, KMeansOptions?, CancellationToken)"/>
    /// draws it) is ever held, so a residual quantizer can cluster the residuals of n × beam states it never stores.
    /// The result equals that overload's on the same points, except that a progressive-dimension PCA sees the sample.
    /// </summary>
    /// <param name="n">Number of points, at least k.</param>
    /// <param name="dimension">d.</param>
    /// <param name="k">Number of centroids.</param>
    /// <param name="gather">Writes the points of the given rows (in that order) into the [rows, d] destination; null rows means every row 0..n−1. The points must be finite.</param>
    /// <param name="options">Options (<see cref="KMeansOptions.ComputeLabels"/> must be false); null for the defaults.</param>
    /// <param name="cancellationToken">Checked before every iteration.</param>
    internal static KMeansResult Train(int n, int dimension, int k, Action<int[]?, Span<float>> gather, KMeansOptions? options, CancellationToken cancellationToken)
    {
        options ??= new KMeansOptions();
        options.Validate();
        if (options.ComputeLabels)
        {
            throw new ArgumentException("Labels need every point; this overload holds only the sample.", nameof(options));
        }
        if (n < k)
        {
            throw new ArgumentException($"k-means needs at least as many points as centroids: got {n} points for k = {k} centroids.", nameof(n));
        }
        long points = Math.Min(n, (long)options.MaxPointsPerCentroid * k);
        ArraySizes.Require(ArraySizes.Product(points, dimension), sizeof(float),
            FormattableString.Invariant($"k-means with k = {k} (MaxPointsPerCentroid {options.MaxPointsPerCentroid}) on {n} points of dimension {dimension} holds a sample of {points:N0} × {dimension} floats: that"),
            "Use fewer centroids, a lower MaxPointsPerCentroid or fewer points, or reduce the dimension.", nameof(n));
        int[]? rows = SampleRows(n, k, options);
        float[] sample = new float[(long)(rows?.Length ?? n) * dimension];
        gather(rows, sample);
        return Train(sample, dimension, k, options with { MaxPointsPerCentroid = int.MaxValue / Math.Max(k, 1) }, cancellationToken);
    }

    /// <summary>Step (1): the rows of the k-means sample when there are more than <c>MaxPointsPerCentroid · k</c> points, else null (all of them).</summary>
    private static int[]? SampleRows(int n, int k, KMeansOptions options)
    {
        long cap = (long)options.MaxPointsPerCentroid * k;
        if (n <= cap)
        {
            return null;
        }
        var rows = new int[(int)cap];
        Stream(options.Seed, 0).SampleWithoutReplacement(n, new int[n], rows);
        return rows;
    }

    /// <summary>The stage dimensions of the progressive variant: <c>floor(d^((s+1)/steps))</c> for <c>s = 0 .. steps-1</c>, as Faiss computes them.</summary>
    /// <param name="d">Full dimension.</param>
    /// <param name="steps">Number of stages.</param>
    public static int[] ProgressiveStageDimensions(int d, int steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(d, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        var dims = new int[steps];
        for (int s = 0; s < steps; s++)
        {
            dims[s] = Math.Clamp((int)Math.Pow(d, (1.0 + s) / steps), 1, d);
        }
        dims[steps - 1] = d;
        return dims;
    }

    /// <summary>
    /// Largest order of the eigen-problem of the progressive variant's PCA: above it the PCA is fitted on a seeded
    /// sample of this many points (the Gram path, <see cref="Pca.Fit"/>), so its cost stays below the k-means' at any
    /// dimension.
    /// </summary>
    public const int MaxPcaOrder = 1024;

    private static float[] TrainProgressive(ReadOnlySpan<float> train, int m, int d, int k, KMeansOptions options, LloydState state)
    {
        // The PCA sees the k-means sample (at most MaxPointsPerCentroid * k points), not Faiss' up to 1000 * d points,
        // and at most MaxPcaOrder of them when both m and d exceed it: its cost stays O(m d min(m, d)) with
        // min(m, d) <= MaxPcaOrder instead of growing with d³. With fewer PCA points than dimensions it keeps r < d
        // axes that span them.
        Pca? pca = null;
        bool spansSample = true; // every sample point lies in the span of the r axes
        if (options.ApplyPca && m >= 2)
        {
            if (Math.Min(m, d) <= MaxPcaOrder)
            {
                pca = Pca.Fit(train, d, StreamSeed(options.Seed, 2), options.Parallelism.MaxDegreeOfParallelism);
            }
            else
            {
                var rows = new int[MaxPcaOrder];
                Stream(options.Seed, 2).SampleWithoutReplacement(m, new int[m], rows);
                Array.Sort(rows);
                var points = new float[(long)MaxPcaOrder * d];
                for (int i = 0; i < rows.Length; i++)
                {
                    train.Slice(rows[i] * d, d).CopyTo(points.AsSpan(i * d, d));
                }
                pca = Pca.Fit(points, d, StreamSeed(options.Seed, 2), options.Parallelism.MaxDegreeOfParallelism);
                spansSample = pca.Components == d;
            }
        }
        int r = pca?.Components ?? d;
        float[] rotated;
        if (pca is not null)
        {
            rotated = new float[(long)m * r];
            pca.Apply(train, m, rotated, options.Parallelism.MaxDegreeOfParallelism);
        }
        else
        {
            rotated = train.ToArray();
        }

        int[] dims = ProgressiveStageDimensions(d, options.ProgressiveDimensionSteps);
        float[] previous = [];
        int previousD = 0;
        float[] columns = new float[(long)m * r];
        for (int s = 0; s < dims.Length; s++)
        {
            if (!spansSample && s > 0 && dims[s] == d && pca is not null)
            {
                // The full-dimension stage in the original coordinates (distances do not depend on the basis): the
                // previous centroids, zero-padded, rotated back; the sample points outside the axes' span count fully.
                var full = new float[k * d];
                pca.Reverse(Padded(previous, previousD, k, r), k, full, options.Parallelism.MaxDegreeOfParallelism);
                state.Run(train, d, full);
                return full;
            }
            // Coordinates beyond r are zero for every sample point (or, with a sampled PCA, left to the last stage).
            int ds = Math.Min(dims[s], r);
            Span<float> xs = columns.AsSpan(0, m * ds);
            for (int i = 0; i < m; i++)
            {
                rotated.AsSpan(i * r, ds).CopyTo(xs.Slice(i * ds, ds));
            }
            float[] centroids;
            if (s == 0)
            {
                centroids = new float[k * ds];
                InitialCentroids(xs, m, ds, ds, k, options.Seed, centroids);
            }
            else
            {
                centroids = Padded(previous, previousD, k, ds);
            }
            state.Run(xs, ds, centroids);
            previous = centroids;
            previousD = ds;
        }

        if (pca is null)
        {
            return previous;
        }
        var result = new float[k * d];
        pca.Reverse(previous, k, result, options.Parallelism.MaxDegreeOfParallelism);
        return result;
    }

    /// <summary>The k rows of <paramref name="from"/> (width <paramref name="fromD"/>) cut or zero-padded to width <paramref name="toD"/>.</summary>
    private static float[] Padded(float[] from, int fromD, int k, int toD)
    {
        var to = new float[k * toD];
        int copy = Math.Min(fromD, toD);
        for (int c = 0; c < k; c++)
        {
            from.AsSpan(c * fromD, copy).CopyTo(to.AsSpan(c * toD, copy));
        }
        return to;
    }

    /// <summary>Centroid c = training point perm[c] for a seeded partial permutation (stream 1).</summary>
    private static void InitialCentroids(ReadOnlySpan<float> train, int m, int rowStride, int d, int k, int seed, Span<float> centroids)
    {
        var rows = new int[k];
        var rng = Stream(seed, 1);
        rng.SampleWithoutReplacement(m, new int[m], rows);
        for (int c = 0; c < k; c++)
        {
            train.Slice(rows[c] * rowStride, d).CopyTo(centroids.Slice(c * d, d));
        }
    }

    internal static ulong StreamSeed(int seed, ulong stream) =>
        unchecked((ulong)(long)seed * 0xD1B54A32D192ED03UL + stream * 0x9E3779B97F4A7C15UL);

    internal static SplitMix64 Stream(int seed, ulong stream) => new(StreamSeed(seed, stream));

    /// <summary>Buffers and bookkeeping shared by the runs of one training call.</summary>
    private sealed class LloydState(int m, int k, KMeansOptions options, CancellationToken cancellationToken)
    {
        private readonly int[] _labels = new int[m];
        private readonly float[] _distances = new float[m];
        private readonly double[] _counts = new double[k];
        private readonly double[] _squares = new double[k];
        private readonly bool[] _donates = new bool[k];
        private double[] _sums = [];

        public List<double> Objective { get; } = [];

        public List<int> Splits { get; } = [];

        public List<int> Dimensions { get; } = [];

        public void Run(ReadOnlySpan<float> x, int d, float[] centroids)
        {
            if (_sums.Length < k * d)
            {
                _sums = new double[k * d];
            }
            double previous = double.NaN;
            for (int it = 0; it < options.Iterations; it++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Distances.AssignNearest(x, centroids, m, k, d, _labels, _distances, options.Parallelism.MaxDegreeOfParallelism, options.DistanceForm);
                double objective = 0;
                for (int i = 0; i < m; i++)
                {
                    objective += _distances[i];
                }
                Objective.Add(objective);
                Dimensions.Add(d);
                if (objective == previous)
                {
                    Splits.Add(0);
                    break;
                }
                previous = objective;
                ComputeCentroids(x, d, centroids);
                // One split stream, restarted at every iteration as Faiss restarts its split generator: measured on few
                // points per centroid (docs/rq-parity.md), it ends lower than fresh draws per iteration.
                Splits.Add(SplitClusters(d, centroids, StreamSeed(options.Seed, 1000)));
            }
        }

        private unsafe void ComputeCentroids(ReadOnlySpan<float> x, int d, float[] centroids)
        {
            int dop = options.Parallelism.Threads;
            int parts = Math.Max(1, Math.Min(dop, k));
            Array.Clear(_counts);
            Array.Clear(_squares);
            fixed (float* px = x)
            {
                nint ax = (nint)px;
                int dd = d;
                if (parts == 1)
                {
                    AccumulatePart(ax, dd, 0, k, centroids);
                }
                else
                {
                    var po = new ParallelOptions { MaxDegreeOfParallelism = parts };
                    Parallel.For(0, parts, po, p =>
                    {
                        int c0 = (int)((long)k * p / parts), c1 = (int)((long)k * (p + 1) / parts);
                        AccumulatePart(ax, dd, c0, c1, centroids);
                    });
                }
            }
        }

        /// <summary>Sums (in point order) and means of the centroids in [c0, c1); empty ones are set to 0 before splitting.</summary>
        private unsafe void AccumulatePart(nint ax, int d, int c0, int c1, float[] centroids)
        {
            Span<double> sums = _sums.AsSpan(c0 * d, (c1 - c0) * d);
            sums.Clear();
            var x = new ReadOnlySpan<float>((void*)ax, m * d);
            for (int i = 0; i < m; i++)
            {
                int c = _labels[i];
                if (c < c0 || c >= c1)
                {
                    continue;
                }
                _counts[c] += 1;
                _squares[c] += AddWidened(sums.Slice((c - c0) * d, d), x.Slice(i * d, d));
            }
            for (int c = c0; c < c1; c++)
            {
                Span<float> centroid = centroids.AsSpan(c * d, d);
                double count = _counts[c];
                if (count == 0)
                {
                    centroid.Clear();
                    continue;
                }
                double inv = 1.0 / count;
                ReadOnlySpan<double> s = sums.Slice((c - c0) * d, d);
                for (int j = 0; j < d; j++)
                {
                    centroid[j] = (float)(s[j] * inv);
                }
            }
        }

        /// <summary>sum_j += (double)x_j (lane-wise, so bit-identical to the scalar loop on every ISA), returning ||x||^2 in double.</summary>
        private static double AddWidened(Span<double> sum, ReadOnlySpan<float> x)
        {
            int j = 0;
            double squares = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                ref float xr = ref MemoryMarshal.GetReference(x);
                ref double sr = ref MemoryMarshal.GetReference(sum);
                for (; j <= x.Length - Vector256<float>.Count; j += Vector256<float>.Count)
                {
                    (Vector256<double> lower, Vector256<double> upper) = Vector256.Widen(Vector256.LoadUnsafe(ref xr, (nuint)j));
                    (Vector256.LoadUnsafe(ref sr, (nuint)j) + lower).StoreUnsafe(ref sr, (nuint)j);
                    (Vector256.LoadUnsafe(ref sr, (nuint)(j + 4)) + upper).StoreUnsafe(ref sr, (nuint)(j + 4));
                    squares += Vector256.Sum((lower * lower) + (upper * upper));
                }
            }
            for (; j < x.Length; j++)
            {
                sum[j] += x[j];
                squares += (double)x[j] * x[j];
            }
            return squares;
        }

        /// <summary>
        /// Whether cluster <paramref name="c"/> can donate in a split: more than one point, and not all of them the same
        /// point (within double rounding of its scatter), since the halves of a split of coinciding points take the
        /// same side at the next assignment and the emptied cluster is empty again.
        /// </summary>
        private bool CanDonate(int c, int d)
        {
            double count = _counts[c];
            if (count <= 1)
            {
                return false;
            }
            ReadOnlySpan<double> sum = _sums.AsSpan(c * d, d);
            double sumSquared = 0;
            for (int t = 0; t < d; t++)
            {
                sumSquared += sum[t] * sum[t];
            }
            return _squares[c] - (sumSquared / count) > 1e-9 * _squares[c];
        }

        private int SplitClusters(int d, float[] centroids, ulong seed)
        {
            int splits = 0;
            SplitMix64 rng = default;
            bool seeded = false, anyDonor = false;
            for (int ci = 0; ci < k; ci++)
            {
                if (_counts[ci] != 0)
                {
                    continue;
                }
                if (!seeded)
                {
                    rng = new SplitMix64(seed);
                    seeded = true;
                    for (int c = 0; c < k; c++)
                    {
                        _donates[c] = CanDonate(c, d);
                        anyDonor |= _donates[c];
                    }
                }
                int cj = -1;
                long budget = anyDonor ? 1000L * k : 0;
                for (int j = 0; budget > 0; j = (j + 1) % k, budget--)
                {
                    double p = _donates[j] ? (_counts[j] - 1.0) / (m - k) : 0;
                    if (rng.NextDouble() < p)
                    {
                        cj = j;
                        break;
                    }
                }
                if (cj < 0)
                {
                    cj = 0;
                    for (int j = 1; j < k; j++)
                    {
                        if ((_donates[j], _counts[j]).CompareTo((_donates[cj], _counts[cj])) > 0)
                        {
                            cj = j;
                        }
                    }
                }
                _donates[ci] = _donates[cj];
                Span<float> target = centroids.AsSpan(ci * d, d);
                Span<float> donor = centroids.AsSpan(cj * d, d);
                donor.CopyTo(target);
                for (int t = 0; t < d; t++)
                {
                    if (t % 2 == 0)
                    {
                        target[t] *= 1 + SplitEpsilon;
                        donor[t] *= 1 - SplitEpsilon;
                    }
                    else
                    {
                        target[t] *= 1 - SplitEpsilon;
                        donor[t] *= 1 + SplitEpsilon;
                    }
                }
                _counts[ci] = _counts[cj] / 2;
                _counts[cj] -= _counts[ci];
                splits++;
            }
            return splits;
        }
    }
}
