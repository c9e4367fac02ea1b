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
    public void Jacobi_DecomposesSymmetricMatrices(int d)
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
        var values = new double[d];
        var vectors = new double[d * d];
        SymmetricEigen.Decompose(a, d, values, vectors);
        Assert.That(values, Is.Ordered.Descending);
        for (int e = 0; e < d; e++)
        {
            for (int i = 0; i < d; i++)
            {
                double av = 0;
                for (int j = 0; j < d; j++)
                {
                    av += a[i * d + j] * vectors[e * d + j];
                }
                Assert.That(av, Is.EqualTo(values[e] * vectors[e * d + i]).Within(1e-10));
            }
            for (int f = 0; f < d; f++)
            {
                double dot = Enumerable.Range(0, d).Sum(j => vectors[e * d + j] * vectors[f * d + j]);
                Assert.That(dot, Is.EqualTo(e == f ? 1.0 : 0.0).Within(1e-10));
            }
        }
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
}
