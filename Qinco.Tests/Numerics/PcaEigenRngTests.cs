using System;
using System.Linq;
using NUnit.Framework;
using Qinco.Core.Numerics;
using Qinco.Training;
using static Qinco.Tests.Numerics.NumericsTestData;

namespace Qinco.Tests.Numerics;

public sealed class PcaEigenRngTests
{
    [Test]
    public void SplitMix64_MatchesPublishedSequence()
    {
        // Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
        var rng = new SplitMix64(0);
        Assert.That(rng.NextUInt64(), Is.EqualTo(0xE220A8397B1DCDAFUL));
        Assert.That(rng.NextUInt64(), Is.EqualTo(0x6E789E6AA1B965F4UL));
        Assert.That(rng.NextUInt64(), Is.EqualTo(0x06C45D188009454FUL));
    }

    [Test]
    public void SplitMix64_SampleIsDistinctAndInRange()
    {
        var rng = new SplitMix64(42);
        var sample = new int[50];
        rng.SampleWithoutReplacement(60, new int[60], sample);
        Assert.That(sample, Is.Unique);
        Assert.That(sample, Is.All.InRange(0, 59));
        for (int i = 0; i < 1000; i++)
        {
            Assert.That(rng.NextIntFromHigh32Bits(7), Is.InRange(0, 6));
            Assert.That(rng.NextDouble(), Is.InRange(0.0, 1.0).And.LessThan(1.0));
        }
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(10)]
    [TestCase(33)]
    [TestCase(300)] // above the parallel row threshold and several rotation blocks
    public void Eigen_DecomposesRandomSymmetricMatrices(int d)
    {
        var rng = new Random(d);
        var a = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = i; j < d; j++)
            {
                a[i * d + j] = a[j * d + i] = rng.NextDouble() * 2 - 1;
            }
        }
        CheckEigenpairs(a, d, expected: null);
    }

    [TestCase(8, 1)]
    [TestCase(40, 2)]
    [TestCase(260, 3)]
    public void Eigen_DecomposesMatricesWithRepeatedEigenvalues(int d, int seed)
    {
        // A = Q diag(λ) Qᵀ for a random orthogonal Q, with λ in blocks of equal values (and a zero block).
        double[] lambda = Enumerable.Range(0, d).Select(i => (i % 4) switch { 0 => 3.0, 1 => 3.0, 2 => 0.0, _ => -1.5 - i / (4.0 * d) }).ToArray();
        double[] q = RandomOrthogonal(d, seed);
        var a = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                double sum = 0;
                for (int t = 0; t < d; t++)
                {
                    sum += q[i * d + t] * lambda[t] * q[j * d + t];
                }
                a[i * d + j] = sum;
            }
        }
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < i; j++)
            {
                a[i * d + j] = a[j * d + i]; // exactly symmetric
            }
        }
        CheckEigenpairs(a, d, lambda.OrderByDescending(v => v).ToArray());
    }

    [Test]
    public void Eigen_HandlesDiagonalIdentityAndZeroMatrices()
    {
        const int d = 70;
        var diagonal = new double[d * d];
        var identity = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            diagonal[i * d + i] = (i * 37) % 11 - 5;
            identity[i * d + i] = 1;
        }
        CheckEigenpairs(diagonal, d, Enumerable.Range(0, d).Select(i => (double)((i * 37) % 11 - 5)).OrderByDescending(v => v).ToArray());
        CheckEigenpairs(identity, d, Enumerable.Repeat(1.0, d).ToArray());
        CheckEigenpairs(new double[d * d], d, new double[d]);
    }

    [Test]
    public void Eigen_ResultsDoNotDependOnTheThreadCount()
    {
        const int d = 300;
        var rng = new Random(5);
        var a = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = i; j < d; j++)
            {
                a[i * d + j] = a[j * d + i] = rng.NextDouble();
            }
        }
        var (v1, e1, v4, e4) = (new double[d], new double[d * d], new double[d], new double[d * d]);
        SymmetricEigen.Decompose(a, d, v1, e1, maxDegreeOfParallelism: 1);
        SymmetricEigen.Decompose(a, d, v4, e4, maxDegreeOfParallelism: 4);
        Assert.That(v4, Is.EqualTo(v1));
        Assert.That(e4, Is.EqualTo(e1));
    }

    [TestCase(KernelVariant.Scalar)]
    [TestCase(KernelVariant.Vector128)]
    [TestCase(KernelVariant.Vector256)]
    [TestCase(KernelVariant.Vector512)]
    public void Eigen_ResultsDoNotDependOnTheKernelWidth(KernelVariant variant)
    {
        if (!Kernels.IsSupported(variant))
        {
            Assert.Ignore($"{variant} is not accelerated on this CPU.");
        }
        // 203 = 3 x 64 + 11: full rotation blocks, a partial one, and every tail length of the row kernels.
        const int d = 203;
        var rng = new Random(11);
        var a = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = i; j < d; j++)
            {
                a[i * d + j] = a[j * d + i] = rng.NextDouble() - 0.5;
            }
        }
        var (expectedValues, expectedVectors) = (new double[d], new double[d * d]);
        using (Kernels.Force(KernelVariant.Scalar))
        {
            SymmetricEigen.Decompose(a, d, expectedValues, expectedVectors, maxDegreeOfParallelism: 1);
        }
        var (values, vectors) = (new double[d], new double[d * d]);
        using (Kernels.Force(variant))
        {
            SymmetricEigen.Decompose(a, d, values, vectors, maxDegreeOfParallelism: 2);
        }
        Assert.That(values, Is.EqualTo(expectedValues));
        Assert.That(vectors, Is.EqualTo(expectedVectors));
    }

    [Test]
    public void Eigen_RefusesNonFiniteEntries()
    {
        var a = new double[] { 1, double.NaN, double.NaN, 1 };
        Assert.Throws<ArgumentException>(() => SymmetricEigen.Decompose(a, 2, new double[2], new double[4]));
    }

    [Test]
    public void Pca_RotatesOrthonormally_AndReverses()
    {
        const int n = 2000, d = 12;
        var data = Blobs(n, d, 5, seed: 8, spread: 0.3);
        var pca = Pca.Fit(data, d);
        Assert.That(pca.Eigenvalues.ToArray(), Is.Ordered.Descending);
        var y = new float[n * d];
        pca.Apply(data, n, y);
        // Rotated coordinates are centred and their variances are the eigenvalues, decorrelated.
        for (int j = 0; j < d; j++)
        {
            double mean = 0, variance = 0;
            for (int i = 0; i < n; i++)
            {
                mean += y[i * d + j];
                variance += (double)y[i * d + j] * y[i * d + j];
            }
            Assert.That(mean / n, Is.EqualTo(0).Within(1e-4));
            Assert.That(variance / n, Is.EqualTo(pca.Eigenvalues[j]).Within(1e-3).Percent.Or.EqualTo(pca.Eigenvalues[j]).Within(1e-6));
        }
        var back = new float[n * d];
        pca.Reverse(y, n, back);
        for (int i = 0; i < data.Length; i++)
        {
            Assert.That(back[i], Is.EqualTo(data[i]).Within(1e-5));
        }
    }

    [Test]
    public void Pca_SubsamplesToThousandPointsPerDimension()
    {
        const int d = 1, n = 1500;
        var data = Blobs(n, d, 3, seed: 1);
        var a = Pca.Fit(data, d, seed: 5);
        var b = Pca.Fit(data, d, seed: 5);
        Assert.That(a.Mean.ToArray(), Is.EqualTo(b.Mean.ToArray()));
        Assert.That(Math.Abs(a.Matrix[0]), Is.EqualTo(1f));
        Assert.Throws<ArgumentException>(() => Pca.Fit(new float[3], 3));
    }

    [Test]
    public void Pca_WithFewerPointsThanDimensions_KeepsTheSpanOfThePoints()
    {
        const int n = 20, d = 50;
        var data = Blobs(n, d, 4, seed: 3, spread: 0.5);
        var pca = Pca.Fit(data, d);
        Assert.That(pca.Components, Is.InRange(1, n - 1));
        Assert.That(pca.Eigenvalues.ToArray(), Is.Ordered.Descending);
        int r = pca.Components;
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++)
            {
                double dot = 0;
                for (int t = 0; t < d; t++)
                {
                    dot += (double)pca.Matrix[i * d + t] * pca.Matrix[j * d + t];
                }
                Assert.That(dot, Is.EqualTo(i == j ? 1.0 : 0.0).Within(1e-4), $"axes {i}, {j}");
            }
        }
        var y = new float[n * r];
        pca.Apply(data, n, y);
        var back = new float[n * d];
        pca.Reverse(y, n, back);
        for (int i = 0; i < data.Length; i++)
        {
            Assert.That(back[i], Is.EqualTo(data[i]).Within(1e-4));
        }
    }

    private static void CheckEigenpairs(double[] a, int d, double[]? expected)
    {
        var values = new double[d];
        var vectors = new double[d * d];
        SymmetricEigen.Decompose(a, d, values, vectors);
        Assert.That(values, Is.Ordered.Descending);
        double scale = Math.Max(1, a.Max(Math.Abs) * Math.Sqrt(d));
        double tolerance = 1e-12 * d * scale;
        if (expected is not null)
        {
            Assert.That(values, Is.EqualTo(expected).Within(tolerance).AsCollection);
        }
        for (int e = 0; e < d; e++)
        {
            for (int i = 0; i < d; i++)
            {
                double av = 0;
                for (int j = 0; j < d; j++)
                {
                    av += a[i * d + j] * vectors[e * d + j];
                }
                Assert.That(av, Is.EqualTo(values[e] * vectors[e * d + i]).Within(tolerance), $"(A v - λ v) of pair {e}, row {i}");
            }
        }
        for (int e = 0; e < d; e++)
        {
            for (int f = e; f < d; f++)
            {
                double dot = 0;
                for (int j = 0; j < d; j++)
                {
                    dot += vectors[e * d + j] * vectors[f * d + j];
                }
                Assert.That(dot, Is.EqualTo(e == f ? 1.0 : 0.0).Within(1e-12 * d), $"vectors {e}, {f}");
            }
        }
    }

    /// <summary>Q of the QR decomposition of a random Gaussian-like matrix (modified Gram-Schmidt, twice), row-major.</summary>
    private static double[] RandomOrthogonal(int d, int seed)
    {
        var rng = new Random(seed);
        var q = new double[d * d];
        for (int i = 0; i < q.Length; i++)
        {
            q[i] = rng.NextDouble() + rng.NextDouble() + rng.NextDouble() - 1.5;
        }
        for (int pass = 0; pass < 2; pass++)
        {
            for (int c = 0; c < d; c++)
            {
                for (int p = 0; p < c; p++)
                {
                    double dot = 0;
                    for (int r = 0; r < d; r++)
                    {
                        dot += q[r * d + c] * q[r * d + p];
                    }
                    for (int r = 0; r < d; r++)
                    {
                        q[r * d + c] -= dot * q[r * d + p];
                    }
                }
                double norm = 0;
                for (int r = 0; r < d; r++)
                {
                    norm += q[r * d + c] * q[r * d + c];
                }
                norm = Math.Sqrt(norm);
                for (int r = 0; r < d; r++)
                {
                    q[r * d + c] /= norm;
                }
            }
        }
        return q;
    }
}
