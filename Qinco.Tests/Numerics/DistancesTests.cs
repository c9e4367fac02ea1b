using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using Qinco.Core.Numerics;
using static Qinco.Tests.Numerics.NumericsTestData;

namespace Qinco.Tests.Numerics;

public sealed class DistancesTests
{
    private const double DirectTolerance = 2e-5;

    private static readonly int[] s_dims = [.. Enumerable.Range(1, 40), 63, 64, 65, 127, 128, 129];

    private static IEnumerable<TestCaseData> VariantCases() => SupportedVariants().Select(v => new TestCaseData(v).SetArgDisplayNames(v.ToString()));

    [TestCaseSource(nameof(VariantCases))]
    public void Direct_MatchesDoubleReference_ForEveryDimension(KernelVariant variant)
    {
        using var _ = Kernels.Force(variant);
        (int n, int k)[] shapes = [(1, 1), (3, 5), (7, 2)];
        foreach (int d in s_dims)
        {
            foreach (var (n, k) in shapes)
            {
                var x = Guarded(n * d, 100 + d);
                var c = Guarded(k * d, 200 + d);
                var dest = new float[n * k];
                Distances.SquaredL2Direct(x, c, n, k, d, dest);
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j < k; j++)
                    {
                        double expected = ReferenceSquaredL2(x.AsSpan(i * d, d), c.AsSpan(j * d, d));
                        Assert.That(dest[i * k + j], Is.EqualTo(expected).Within(DirectTolerance * expected + 1e-9),
                            $"variant {variant}, d={d}, n={n}, k={k}, ({i},{j})");
                    }
                }
                // The pair overload agrees bit for bit with the batch.
                Assert.That(Distances.SquaredL2(x.AsSpan(0, d), c.AsSpan(0, d)), Is.EqualTo(dest[0]));
            }
        }
    }

    /// <summary>Every length from 0 to 70 (each tail of each width) and a few long ones.</summary>
    private static readonly int[] s_pairLengths = [.. Enumerable.Range(0, 71), 127, 255, 256, 257, 1000, 4099];

    [TestCaseSource(nameof(VariantCases))]
    public void Pair_MatchesDoubleReference_ForEveryLength(KernelVariant variant)
    {
        using var _ = Kernels.Force(variant);
        foreach (int d in s_pairLengths)
        {
            // Guarded inputs: a read past either end would bring a NaN guard cell into the sum.
            var x = Guarded(d, 300 + d);
            var c = Guarded(d, 400 + d, 0.5f);
            double expected = ReferenceSquaredL2(x, c);
            float actual = Distances.SquaredL2(x, c);
            Assert.That(actual, Is.EqualTo(expected).Within(DirectTolerance * expected + 1e-9), $"variant {variant}, d={d}");
            Assert.That(Distances.SquaredL2(c, x), Is.EqualTo(actual), $"variant {variant}, d={d}: not symmetric");
        }
    }

    [TestCaseSource(nameof(VariantCases))]
    public void Pair_PropagatesNaNAndInfinityFromEveryPosition(KernelVariant variant)
    {
        using var _ = Kernels.Force(variant);
        foreach (int d in s_pairLengths.Where(d => d is >= 1 and <= 70))
        {
            var x = Guarded(d, 500 + d).ToArray();
            var c = Guarded(d, 600 + d).ToArray();
            for (int j = 0; j < d; j++)
            {
                float saved = x[j];
                x[j] = float.NaN;
                Assert.That(Distances.SquaredL2(x, c), Is.NaN, $"variant {variant}, d={d}, NaN at {j}");
                x[j] = float.PositiveInfinity;
                Assert.That(Distances.SquaredL2(x, c), Is.EqualTo(float.PositiveInfinity), $"variant {variant}, d={d}, +Inf at {j}");
                c[j] = float.PositiveInfinity;
                Assert.That(Distances.SquaredL2(x, c), Is.NaN, $"variant {variant}, d={d}, Inf - Inf at {j}");
                c[j] = x[j] = saved;
            }
        }
    }

    [TestCaseSource(nameof(VariantCases))]
    public void Pair_OfEqualVectorsIsZero_AndBatchRowsAgreeBitForBit(KernelVariant variant)
    {
        using var _ = Kernels.Force(variant);
        foreach (int d in s_pairLengths.Where(d => d >= 1))
        {
            const int n = 3, k = 4;
            var x = Guarded(n * d, 700 + d);
            var c = Guarded(k * d, 800 + d);
            Assert.That(Distances.SquaredL2(x.AsSpan(0, d), x.AsSpan(0, d)), Is.Zero, $"variant {variant}, d={d}");
            var batch = new float[n * k];
            Distances.SquaredL2Direct(x, c, n, k, d, batch);
            var labels = new int[n];
            var nearest = new float[n];
            Distances.AssignNearest(x, c, n, k, d, labels, nearest, form: DistanceForm.Direct);
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < k; j++)
                {
                    Assert.That(batch[i * k + j], Is.EqualTo(Distances.SquaredL2(x.AsSpan(i * d, d), c.AsSpan(j * d, d))), $"variant {variant}, d={d}, ({i},{j})");
                }
                Assert.That(nearest[i], Is.EqualTo(batch[i * k + labels[i]]), $"variant {variant}, d={d}, row {i}");
            }
        }
    }

    [Test]
    public void NormsForm_MatchesDirect_WithinNormScaledTolerance()
    {
        foreach (int d in new[] { 1, 5, 16, 33, 128, 129 })
        {
            const int n = 37, k = 19;
            var x = Guarded(n * d, 7 + d, 3f);
            var c = Guarded(k * d, 8 + d, 3f);
            var direct = new float[n * k];
            var gemm = new float[n * k];
            var auto = new float[n * k];
            Distances.SquaredL2Direct(x, c, n, k, d, direct);
            Distances.SquaredL2Gemm(x, c, n, k, d, gemm, maxDegreeOfParallelism: 2);
            Distances.SquaredL2(x, c, n, k, d, auto);
            var xn = new float[n];
            var cn = new float[k];
            Distances.RowNorms(x, n, d, xn);
            Distances.RowNorms(c, k, d, cn);
            for (int i = 0; i < n; i++)
            {
                Assert.That(xn[i], Is.EqualTo(ReferenceSquaredL2(x.AsSpan(i * d, d), new float[d])).Within(1e-4).Percent);
                for (int j = 0; j < k; j++)
                {
                    double scale = xn[i] + cn[j];
                    Assert.That(gemm[i * k + j], Is.EqualTo(direct[i * k + j]).Within(1e-5 * scale + 1e-6), $"d={d} ({i},{j})");
                    Assert.That(gemm[i * k + j], Is.GreaterThanOrEqualTo(0f));
                }
            }
            Assert.That(auto, Is.EqualTo(Distances.PrefersGemm(n, k, d) ? gemm : direct));
        }
    }

    [Test]
    public void NormsForm_ClampsCancellationToZero()
    {
        // Identical large vectors: ||x||^2 - 2x.c + ||c||^2 may round below zero; the result must be >= 0.
        const int d = 64;
        var x = Guarded(d, 3, 1000f).ToArray();
        var dest = new float[1];
        Distances.SquaredL2Gemm(x, x, 1, 1, d, dest);
        Assert.That(dest[0], Is.GreaterThanOrEqualTo(0f));
    }

    [TestCaseSource(nameof(VariantCases))]
    public void AssignNearest_MatchesArgMinOfDistanceMatrix(KernelVariant variant)
    {
        using var _ = Kernels.Force(variant);
        foreach (int d in new[] { 3, 16, 40, 129 })
        {
            foreach (var (n, k) in new[] { (1, 1), (5, 3), (300, 17), (61, 40) })
            {
                var x = Guarded(n * d, 11 + d + n);
                var c = Guarded(k * d, 12 + d + k);
                foreach (DistanceForm form in new[] { DistanceForm.Direct, DistanceForm.Gemm, DistanceForm.Auto })
                {
                    var labels = new int[n];
                    var dist = new float[n];
                    Distances.AssignNearest(x, c, n, k, d, labels, dist, maxDegreeOfParallelism: 2, form: form);
                    var labels1 = new int[n];
                    var dist1 = new float[n];
                    Distances.AssignNearest(x, c, n, k, d, labels1, dist1, maxDegreeOfParallelism: 1, form: form);
                    Assert.That(labels1, Is.EqualTo(labels), "labels depend on the parallelism");
                    Assert.That(dist1, Is.EqualTo(dist), "distances depend on the parallelism");

                    var full = new float[n * k];
                    bool gemm = form == DistanceForm.Gemm || (form == DistanceForm.Auto && Distances.PrefersGemm(n, k, d));
                    if (gemm)
                    {
                        Distances.SquaredL2Gemm(x, c, n, k, d, full);
                    }
                    else
                    {
                        Distances.SquaredL2Direct(x, c, n, k, d, full);
                    }
                    for (int i = 0; i < n; i++)
                    {
                        int expected = RowSelection.ArgMin(full.AsSpan(i * k, k));
                        Assert.That(labels[i], Is.EqualTo(expected), $"{form} d={d} n={n} k={k} row {i}");
                        Assert.That(dist[i], Is.EqualTo(full[i * k + expected]));
                        double refBest = Enumerable.Range(0, k).Min(j => ReferenceSquaredL2(x.AsSpan(i * d, d), c.AsSpan(j * d, d)));
                        Assert.That(dist[i], Is.EqualTo(refBest).Within(1e-4 * (refBest + 1)));
                    }
                }
            }
        }
    }

    [TestCaseSource(nameof(VariantCases))]
    public void AssignNearest_LargeCodebooks_AreBlockedWithTheSameResults(KernelVariant variant)
    {
        using var _ = Kernels.Force(variant);
        const int d = 24, n = 300, k = 9000; // three codeword blocks, the last partial
        float[] x = Guarded(n * d, 3).ToArray();
        float[] c = Guarded(k * d, 4).ToArray();
        c.AsSpan(7000 * d, d).CopyTo(c.AsSpan(8500 * d, d)); // an exact tie across blocks
        var labels = new int[n];
        var dist = new float[n];
        Distances.AssignNearest(x, c, n, k, d, labels, dist, maxDegreeOfParallelism: 2, form: DistanceForm.Gemm);
        var full = new float[n * k];
        Distances.SquaredL2Gemm(x, c, n, k, d, full);
        for (int i = 0; i < n; i++)
        {
            int expected = RowSelection.ArgMin(full.AsSpan(i * k, k));
            Assert.That((labels[i], dist[i]), Is.EqualTo((expected, full[(i * k) + expected])), $"row {i}");
            Assert.That(labels[i], Is.Not.EqualTo(8500), "the later copy of a tied codeword never wins");
        }
    }

    [Test]
    public void AssignNearest_TiesGoToTheSmallestIndex()
    {
        const int d = 20, k = 6, n = 40;
        var x = Guarded(n * d, 5).ToArray();
        var c = new float[k * d];
        var row = Guarded(d, 6).ToArray();
        // codewords 1, 3 and 4 are identical and nearest for every point (x itself is far from 0, 2, 5).
        for (int j = 0; j < k; j++)
        {
            for (int t = 0; t < d; t++)
            {
                c[j * d + t] = j is 1 or 3 or 4 ? row[t] * 0.01f : 50f + j;
            }
        }
        foreach (DistanceForm form in new[] { DistanceForm.Direct, DistanceForm.Gemm })
        {
            var labels = new int[n];
            Distances.AssignNearest(x, c, n, k, d, labels, new float[n], form: form);
            Assert.That(labels, Is.All.EqualTo(1), form.ToString());
        }
    }

    [Test]
    public void Validation_NamesTheArgument()
    {
        var ex = Assert.Throws<ArgumentException>(() => Distances.SquaredL2Direct(new float[5], new float[6], 2, 2, 3, new float[4]));
        Assert.That(ex!.ParamName, Is.EqualTo("x"));
        ex = Assert.Throws<ArgumentException>(() => Distances.SquaredL2Gemm(new float[6], new float[6], 2, 2, 3, new float[3]));
        Assert.That(ex!.ParamName, Is.EqualTo("destination"));
        ex = Assert.Throws<ArgumentException>(() => Distances.AssignNearest(new float[6], new float[6], 2, 2, 3, new int[1], new float[2]));
        Assert.That(ex!.ParamName, Is.EqualTo("labels"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Distances.AssignNearest(new float[6], new float[6], 2, 2, 3, new int[2], new float[2], maxDegreeOfParallelism: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Distances.AssignNearest(new float[6], [], 2, 0, 3, new int[2], new float[2]));
        Assert.Throws<ArgumentException>(() => Distances.SquaredL2(new float[3], new float[4]));
    }
}
