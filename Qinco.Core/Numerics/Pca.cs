using System;
using Qinco.Training;

namespace Qinco.Core.Numerics;

/// <summary>
/// A PCA rotation (Faiss <c>PCAMatrix(d, d)</c> without whitening, ALGORITHM.md §6.2): <c>y = P (x - mean)</c>, where
/// the rows of <c>P</c> are the unit eigenvectors of the covariance sorted by descending eigenvalue. Immutable once
/// fitted.
/// </summary>
/// <remarks>
/// With at least as many points as dimensions, <c>P</c> is square (<see cref="Components"/> = d). With fewer points
/// than dimensions the covariance has rank below the point count, and only the components of non-negligible variance
/// are kept (<see cref="Components"/> &lt; d): the fitted points lie in their span, so rotating and reversing them
/// loses nothing. Faiss completes <c>P</c> with random orthogonal rows instead, which carry no variance.
/// </remarks>
public sealed class Pca
{
    /// <summary>Faiss' <c>max_points_per_d</c>: at most this many points per dimension are used to fit.</summary>
    public const int MaxPointsPerDimension = 1000;

    /// <summary>
    /// Largest order of the eigen-problem <see cref="Fit"/> solves: <c>min(points, d)</c> after subsampling (about
    /// 0.5 GiB of doubles). Above it, <see cref="Fit"/> throws; <see cref="KMeans"/> then clusters without a PCA.
    /// </summary>
    public const int MaxOrder = 8192;

    /// <summary>Components whose variance is below this fraction of the largest are dropped by the few-points path.</summary>
    private const double RankTolerance = 1e-9;

    /// <summary>Rows or dimensions per float product block summed into the double accumulator.</summary>
    private const int ProductBlock = 1024;

    private readonly float[] _mean;
    private readonly float[] _matrix;
    private readonly double[] _eigenvalues;

    private Pca(int dimension, float[] mean, float[] matrix, double[] eigenvalues)
    {
        Dimension = dimension;
        _mean = mean;
        _matrix = matrix;
        _eigenvalues = eigenvalues;
    }

    /// <summary>Input dimension d.</summary>
    public int Dimension { get; }

    /// <summary>Output dimension r: d, or fewer when the fit had fewer points than dimensions (see the remarks).</summary>
    public int Components => _eigenvalues.Length;

    /// <summary>Shape: [d]. The mean subtracted before rotating.</summary>
    public ReadOnlySpan<float> Mean => _mean;

    /// <summary>Shape: [r, d]. Row <c>i</c> is the <c>i</c>-th principal axis.</summary>
    public ReadOnlySpan<float> Matrix => _matrix;

    /// <summary>Shape: [r]. The covariance eigenvalues (variances along the axes), descending.</summary>
    public ReadOnlySpan<double> Eigenvalues => _eigenvalues;

    /// <summary>
    /// Fits the rotation on at most <see cref="MaxPointsPerDimension"/><c> * d</c> points (a seeded sample without
    /// replacement when there are more): the mean in double precision, then, with n points,
    /// <list type="bullet">
    /// <item><description>n &gt; d: the covariance <c>[d, d]</c> and its eigen-decomposition
    /// (<see cref="SymmetricEigen.Decompose"/>); O(n d² + d³);</description></item>
    /// <item><description>n ≤ d: the Gram matrix <c>[n, n]</c> of the centred points, whose eigenvectors u give the
    /// axes <c>Xᵀu / sqrt(μ)</c>; O(n² d + n³), so a few points in a high dimension cost little.</description></item>
    /// </list>
    /// Products are single-precision GEMMs over blocks of 1,024 rows or dimensions, summed in double.
    /// </summary>
    /// <param name="data">Shape: [n, d], finite values.</param>
    /// <param name="dimension">d, at least 1.</param>
    /// <param name="seed">Seed of the <see cref="SplitMix64"/> sample (used only when subsampling).</param>
    /// <param name="maxDegreeOfParallelism">Threads; -1 for all processors. Results do not depend on it.</param>
    /// <exception cref="ArgumentException">The data length is not a multiple of <paramref name="dimension"/>, there are fewer than 2 points, or <c>min(n, d)</c> exceeds <see cref="MaxOrder"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is below 1, or <paramref name="maxDegreeOfParallelism"/> is 0 or below -1.</exception>
    public static Pca Fit(ReadOnlySpan<float> data, int dimension, ulong seed = 1234, int maxDegreeOfParallelism = -1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        Distances.CheckParallelism(maxDegreeOfParallelism, nameof(maxDegreeOfParallelism));
        if (data.Length % dimension != 0)
        {
            throw new ArgumentException($"The data holds {data.Length} floats, not a multiple of the dimension {dimension}.", nameof(data));
        }
        int d = dimension;
        int n = data.Length / d;
        if (n < 2)
        {
            throw new ArgumentException($"PCA needs at least 2 points; got {n}.", nameof(data));
        }
        long cap = (long)MaxPointsPerDimension * d;
        int[]? rows = null;
        int used = n;
        if (n > cap)
        {
            used = (int)cap;
            rows = new int[used];
            var rng = new SplitMix64(seed);
            rng.SampleWithoutReplacement(n, new int[n], rows);
            Array.Sort(rows); // read in memory order; the sample itself is what the seed fixes
        }
        if (Math.Min(used, d) > MaxOrder)
        {
            throw new ArgumentException($"A PCA of {used} points in dimension {d} needs an eigen-decomposition of order {Math.Min(used, d)}; at most {MaxOrder} is supported.", nameof(data));
        }

        var mean = new double[d];
        for (int p = 0; p < used; p++)
        {
            ReadOnlySpan<float> x = data.Slice((rows is null ? p : rows[p]) * d, d);
            for (int j = 0; j < d; j++)
            {
                mean[j] += x[j];
            }
        }
        for (int j = 0; j < d; j++)
        {
            mean[j] /= used;
        }
        var centred = new float[(long)used * d];
        for (int p = 0; p < used; p++)
        {
            ReadOnlySpan<float> x = data.Slice((rows is null ? p : rows[p]) * d, d);
            Span<float> c = centred.AsSpan(p * d, d);
            for (int j = 0; j < d; j++)
            {
                c[j] = (float)(x[j] - mean[j]);
            }
        }
        var meanF = new float[d];
        for (int j = 0; j < d; j++)
        {
            meanF[j] = (float)mean[j];
        }
        return used > d
            ? FitCovariance(centred, used, d, meanF, maxDegreeOfParallelism)
            : FitGram(centred, used, d, meanF, maxDegreeOfParallelism);
    }

    private static Pca FitCovariance(float[] centred, int n, int d, float[] mean, int threads)
    {
        // cov = sum over blocks of rows of (Xbᵀ Xb), each block a float GEMM, summed in double.
        var cov = new double[(long)d * d];
        int block = Math.Min(ProductBlock, n);
        var transposed = new float[(long)d * block];
        var product = new float[(long)d * d];
        for (int start = 0; start < n; start += block)
        {
            int count = Math.Min(block, n - start);
            ReadOnlySpan<float> rowsOfBlock = centred.AsSpan(start * d, count * d);
            for (int p = 0; p < count; p++)
            {
                for (int j = 0; j < d; j++)
                {
                    transposed[(long)j * count + p] = rowsOfBlock[p * d + j];
                }
            }
            Gemm.Multiply(transposed.AsSpan(0, d * count), rowsOfBlock, product, d, d, count, maxDegreeOfParallelism: threads);
            AddTo(cov, product);
        }
        for (long i = 0; i < cov.Length; i++)
        {
            cov[i] /= n;
        }
        var eigenvalues = new double[d];
        var vectors = new double[(long)d * d];
        SymmetricEigen.Decompose(cov, d, eigenvalues, vectors, threads);
        var matrix = new float[(long)d * d];
        for (long i = 0; i < matrix.Length; i++)
        {
            matrix[i] = (float)vectors[i];
        }
        return new Pca(d, mean, matrix, eigenvalues);
    }

    private static Pca FitGram(float[] centred, int n, int d, float[] mean, int threads)
    {
        // gram = sum over blocks of dimensions of (Xb Xbᵀ), each block a float GEMM, summed in double.
        var gram = new double[(long)n * n];
        int block = Math.Min(ProductBlock, d);
        var columns = new float[(long)n * block];
        var product = new float[(long)n * n];
        for (int start = 0; start < d; start += block)
        {
            int count = Math.Min(block, d - start);
            for (int p = 0; p < n; p++)
            {
                centred.AsSpan(p * d + start, count).CopyTo(columns.AsSpan(p * count, count));
            }
            ReadOnlySpan<float> x = columns.AsSpan(0, n * count);
            Gemm.Multiply(x, x, product, n, n, count, transposeB: true, maxDegreeOfParallelism: threads);
            AddTo(gram, product);
        }
        var mu = new double[n];
        var u = new double[(long)n * n];
        SymmetricEigen.Decompose(gram, n, mu, u, threads);

        // Keep the components of non-negligible variance (centring leaves at most n - 1), at least one.
        int r = 1;
        while (r < n && mu[r] > RankTolerance * mu[0])
        {
            r++;
        }
        var eigenvalues = new double[r];
        var matrix = new float[(long)r * d];
        if (!(mu[0] > 0))
        {
            matrix[0] = 1; // every point equals the mean: any axis will do
            return new Pca(d, mean, matrix, eigenvalues);
        }
        // Axis i = Xᵀ u_i / sqrt(mu_i): a float GEMM [r, n] x [n, d], then the row scale.
        var uf = new float[(long)r * n];
        for (long i = 0; i < uf.Length; i++)
        {
            uf[i] = (float)u[i];
        }
        Gemm.Multiply(uf, centred, matrix, r, d, n, maxDegreeOfParallelism: threads);
        for (int i = 0; i < r; i++)
        {
            eigenvalues[i] = mu[i] / n;
            float scale = (float)(1 / Math.Sqrt(mu[i]));
            Span<float> axis = matrix.AsSpan(i * d, d);
            for (int j = 0; j < d; j++)
            {
                axis[j] *= scale;
            }
        }
        return new Pca(d, mean, matrix, eigenvalues);
    }

    private static void AddTo(double[] sum, float[] product)
    {
        for (long i = 0; i < sum.Length; i++)
        {
            sum[i] += product[i];
        }
    }

    /// <summary>Rotates: <c>destination_i = P (x_i - mean)</c>.</summary>
    /// <param name="x">Shape: [n, d].</param>
    /// <param name="n">Rows.</param>
    /// <param name="destination">Shape: [n, r] (r = <see cref="Components"/>); must not overlap <paramref name="x"/>.</param>
    /// <param name="maxDegreeOfParallelism">Threads of the product; -1 (default) for all processors. Results do not depend on it.</param>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is negative, or <paramref name="maxDegreeOfParallelism"/> is 0 or below -1.</exception>
    public void Apply(ReadOnlySpan<float> x, int n, Span<float> destination, int maxDegreeOfParallelism = -1)
    {
        int d = Dimension, r = Components;
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        Distances.CheckParallelism(maxDegreeOfParallelism, nameof(maxDegreeOfParallelism));
        CheckLength(x.Length, (long)n * d, nameof(x));
        CheckLength(destination.Length, (long)n * r, nameof(destination));
        float[] centred = new float[Math.Min(n, 256) * d];
        for (int start = 0; start < n; start += 256)
        {
            int count = Math.Min(256, n - start);
            for (int p = 0; p < count; p++)
            {
                for (int j = 0; j < d; j++)
                {
                    centred[p * d + j] = x[(start + p) * d + j] - _mean[j];
                }
            }
            Gemm.Multiply(centred.AsSpan(0, count * d), _matrix, destination.Slice(start * r, count * r), count, r, d, transposeB: true, maxDegreeOfParallelism: maxDegreeOfParallelism);
        }
    }

    /// <summary>Un-rotates: <c>destination_i = Pᵀ y_i + mean</c> (the inverse of <see cref="Apply"/> on the span of the axes, up to rounding).</summary>
    /// <param name="y">Shape: [n, r] (r = <see cref="Components"/>).</param>
    /// <param name="n">Rows.</param>
    /// <param name="destination">Shape: [n, d]; must not overlap <paramref name="y"/>.</param>
    /// <param name="maxDegreeOfParallelism">Threads of the product; -1 (default) for all processors. Results do not depend on it.</param>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is negative, or <paramref name="maxDegreeOfParallelism"/> is 0 or below -1.</exception>
    public void Reverse(ReadOnlySpan<float> y, int n, Span<float> destination, int maxDegreeOfParallelism = -1)
    {
        int d = Dimension, r = Components;
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        Distances.CheckParallelism(maxDegreeOfParallelism, nameof(maxDegreeOfParallelism));
        CheckLength(y.Length, (long)n * r, nameof(y));
        CheckLength(destination.Length, (long)n * d, nameof(destination));
        Gemm.Multiply(y.Slice(0, n * r), _matrix, destination.Slice(0, n * d), n, d, r, transposeB: false, maxDegreeOfParallelism: maxDegreeOfParallelism);
        for (int p = 0; p < n; p++)
        {
            for (int j = 0; j < d; j++)
            {
                destination[p * d + j] += _mean[j];
            }
        }
    }

    private static void CheckLength(int actual, long needed, string parameter)
    {
        if (actual < needed)
        {
            throw new ArgumentException($"The span holds {actual} values; its shape needs {needed}.", parameter);
        }
    }
}
