using System;
using System.Threading.Tasks;
using Qinco.Training;

namespace Qinco.Core.Numerics;

/// <summary>
/// A full-rank PCA rotation (Faiss <c>PCAMatrix(d, d)</c> without whitening): <c>y = P (x - mean)</c>, where the rows
/// of <c>P</c> are the unit eigenvectors of the covariance sorted by descending eigenvalue. Immutable once fitted.
/// </summary>
public sealed class Pca
{
    /// <summary>Faiss' <c>max_points_per_d</c>: at most this many points per dimension are used to fit.</summary>
    public const int MaxPointsPerDimension = 1000;

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

    /// <summary>Input and output dimension.</summary>
    public int Dimension { get; }

    /// <summary>Shape: [d]. The mean subtracted before rotating.</summary>
    public ReadOnlySpan<float> Mean => _mean;

    /// <summary>Shape: [d, d]. Row <c>i</c> is the <c>i</c>-th principal axis.</summary>
    public ReadOnlySpan<float> Matrix => _matrix;

    /// <summary>Shape: [d]. The covariance eigenvalues (variances along the axes), descending.</summary>
    public ReadOnlySpan<double> Eigenvalues => _eigenvalues;

    /// <summary>
    /// Fits the rotation: mean and covariance in double precision on at most <see cref="MaxPointsPerDimension"/>
    /// <c>* d</c> points (a seeded sample without replacement when there are more), then a Jacobi
    /// eigen-decomposition (<see cref="SymmetricEigen.Decompose"/>).
    /// </summary>
    /// <param name="data">Shape: [n, d], finite values.</param>
    /// <param name="dimension">d, at least 1.</param>
    /// <param name="seed">Seed of the <see cref="SplitMix64"/> sample (used only when subsampling).</param>
    /// <param name="maxDegreeOfParallelism">Threads for the covariance; -1 for all processors. Results do not depend on it.</param>
    /// <exception cref="ArgumentException">The data length is not a multiple of <paramref name="dimension"/>, or there are fewer than 2 points.</exception>
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

        // Upper triangle of sum (x - mean)(x - mean)^T, blocks of points centred into doubles; every covariance row
        // is owned by one thread and accumulated in point order, so the result does not depend on the parallelism.
        var cov = new double[d * d];
        const int Block = 256;
        var centred = new double[Block * d];
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        for (int start = 0; start < used; start += Block)
        {
            int count = Math.Min(Block, used - start);
            for (int p = 0; p < count; p++)
            {
                ReadOnlySpan<float> x = data.Slice((rows is null ? start + p : rows[start + p]) * d, d);
                for (int j = 0; j < d; j++)
                {
                    centred[p * d + j] = x[j] - mean[j];
                }
            }
            if (d < 32 || maxDegreeOfParallelism == 1)
            {
                for (int i = 0; i < d; i++)
                {
                    AccumulateRow(centred, cov, count, d, i);
                }
            }
            else
            {
                Parallel.For(0, d, options, i => AccumulateRow(centred, cov, count, d, i));
            }
        }
        for (int i = 0; i < d; i++)
        {
            for (int j = i; j < d; j++)
            {
                cov[i * d + j] /= used;
            }
        }

        var eigenvalues = new double[d];
        var vectors = new double[d * d];
        SymmetricEigen.Decompose(cov, d, eigenvalues, vectors);
        var matrix = new float[d * d];
        for (int i = 0; i < matrix.Length; i++)
        {
            matrix[i] = (float)vectors[i];
        }
        var meanF = new float[d];
        for (int j = 0; j < d; j++)
        {
            meanF[j] = (float)mean[j];
        }
        return new Pca(d, meanF, matrix, eigenvalues);
    }

    private static void AccumulateRow(double[] centred, double[] cov, int count, int d, int i)
    {
        Span<double> row = cov.AsSpan(i * d + i, d - i);
        for (int p = 0; p < count; p++)
        {
            double xi = centred[p * d + i];
            ReadOnlySpan<double> x = centred.AsSpan(p * d + i, d - i);
            for (int j = 0; j < row.Length; j++)
            {
                row[j] += xi * x[j];
            }
        }
    }

    /// <summary>Rotates: <c>destination_i = P (x_i - mean)</c>.</summary>
    /// <param name="x">Shape: [n, d].</param>
    /// <param name="n">Rows.</param>
    /// <param name="destination">Shape: [n, d]; must not overlap <paramref name="x"/>.</param>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs.</exception>
    public void Apply(ReadOnlySpan<float> x, int n, Span<float> destination)
    {
        int d = Dimension;
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        CheckLength(x.Length, (long)n * d, nameof(x));
        CheckLength(destination.Length, (long)n * d, nameof(destination));
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
            Gemm.Multiply(centred.AsSpan(0, count * d), _matrix, destination.Slice(start * d, count * d), count, d, d, transposeB: true);
        }
    }

    /// <summary>Un-rotates: <c>destination_i = P^T y_i + mean</c> (exact inverse of <see cref="Apply"/> up to rounding).</summary>
    /// <param name="y">Shape: [n, d].</param>
    /// <param name="n">Rows.</param>
    /// <param name="destination">Shape: [n, d]; must not overlap <paramref name="y"/>.</param>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs.</exception>
    public void Reverse(ReadOnlySpan<float> y, int n, Span<float> destination)
    {
        int d = Dimension;
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        CheckLength(y.Length, (long)n * d, nameof(y));
        CheckLength(destination.Length, (long)n * d, nameof(destination));
        Gemm.Multiply(y.Slice(0, n * d), _matrix, destination.Slice(0, n * d), n, d, d, transposeB: false);
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
