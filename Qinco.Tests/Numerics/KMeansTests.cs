using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Core.Numerics;
using Qinco.Training;
using static Qinco.Tests.Numerics.NumericsTestData;

namespace Qinco.Tests.Numerics;

public sealed class KMeansTests
{
    /// <summary>
    /// A plain scalar transcription of the documented algorithm (double distances, no SIMD, no threads), sharing only
    /// the documented RNG streams with the library.
    /// </summary>
    private static (float[] Centroids, List<double> Objective, List<int> Splits) ReferenceKMeans(float[] data, int d, int k, KMeansOptions o)
    {
        int n = data.Length / d;
        float[] x = data;
        int m = n;
        if (n > (long)o.MaxPointsPerCentroid * k)
        {
            m = o.MaxPointsPerCentroid * k;
            var perm = new int[m];
            var rng0 = KMeans.Stream(o.Seed, 0);
            rng0.SampleWithoutReplacement(n, new int[n], perm);
            x = perm.SelectMany(i => data.Skip(i * d).Take(d)).ToArray();
        }
        var init = new int[k];
        var rng1 = KMeans.Stream(o.Seed, 1);
        rng1.SampleWithoutReplacement(m, new int[m], init);
        var cen = init.SelectMany(i => x.Skip(i * d).Take(d)).ToArray();
        var objective = new List<double>();
        var splits = new List<int>();
        double previous = double.NaN;
        var labels = new int[m];
        for (int it = 0; it < o.Iterations; it++)
        {
            double obj = 0;
            for (int i = 0; i < m; i++)
            {
                int best = 0;
                double bestD = double.PositiveInfinity;
                for (int c = 0; c < k; c++)
                {
                    double dist = ReferenceSquaredL2(x.AsSpan(i * d, d), cen.AsSpan(c * d, d));
                    if (dist < bestD)
                    {
                        bestD = dist;
                        best = c;
                    }
                }
                labels[i] = best;
                obj += bestD;
            }
            objective.Add(obj);
            if (obj == previous)
            {
                splits.Add(0);
                break;
            }
            previous = obj;
            var counts = new double[k];
            var sums = new double[k * d];
            for (int i = 0; i < m; i++)
            {
                counts[labels[i]]++;
                for (int t = 0; t < d; t++)
                {
                    sums[labels[i] * d + t] += x[i * d + t];
                }
            }
            for (int c = 0; c < k; c++)
            {
                for (int t = 0; t < d; t++)
                {
                    cen[c * d + t] = counts[c] == 0 ? 0f : (float)(sums[c * d + t] * (1.0 / counts[c]));
                }
            }
            int nsplit = 0;
            var rng = new SplitMix64(KMeans.StreamSeed(o.Seed, 1000));
            // A cluster whose points are all the same point never donates (its halves would merge again).
            var first = new int[k];
            Array.Fill(first, -1);
            var donates = new bool[k];
            for (int i = 0; i < m; i++)
            {
                int c = labels[i];
                if (first[c] < 0)
                {
                    first[c] = i;
                }
                else if (!x.AsSpan(i * d, d).SequenceEqual(x.AsSpan(first[c] * d, d)))
                {
                    donates[c] = true;
                }
            }
            for (int ci = 0; ci < k; ci++)
            {
                if (counts[ci] != 0)
                {
                    continue;
                }
                int cj = 0;
                while (!(rng.NextDouble() < (donates[cj] ? (counts[cj] - 1.0) / (m - k) : 0)))
                {
                    cj = (cj + 1) % k;
                }
                donates[ci] = donates[cj];
                for (int t = 0; t < d; t++)
                {
                    float v = cen[cj * d + t];
                    cen[ci * d + t] = v * (t % 2 == 0 ? 1 + 1f / 1024 : 1 - 1f / 1024);
                    cen[cj * d + t] = v * (t % 2 == 0 ? 1 - 1f / 1024 : 1 + 1f / 1024);
                }
                counts[ci] = counts[cj] / 2;
                counts[cj] -= counts[ci];
                nsplit++;
            }
            splits.Add(nsplit);
        }
        return (cen, objective, splits);
    }

    private static void AssertClose(float[] expected, float[] actual, double rel)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        double scale = expected.Max(v => Math.Abs((double)v));
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(rel * scale), $"index {i}");
        }
    }

    [TestCase(600, 5, 7, 256, TestName = "MatchesReference_Small")]
    [TestCase(600, 19, 4, 50, TestName = "MatchesReference_Subsampled")]
    [TestCase(900, 40, 24, 256, TestName = "MatchesReference_NormsFormAssignment")]
    public void MatchesScalarReference(int n, int d, int k, int maxPerCentroid)
    {
        var data = Blobs(n, d, k + 2, seed: n + d + k);
        var options = new KMeansOptions { Iterations = 12, MaxPointsPerCentroid = maxPerCentroid, Seed = 77 };
        var result = KMeans.Train(data, d, k, options);
        var (centroids, objective, splits) = ReferenceKMeans(data, d, k, options);
        AssertClose(centroids, result.Centroids, 1e-5);
        Assert.That(result.Objective, Has.Count.EqualTo(objective.Count));
        for (int i = 0; i < objective.Count; i++)
        {
            Assert.That(result.Objective[i], Is.EqualTo(objective[i]).Within(1e-3).Percent);
        }
        Assert.That(result.Splits, Is.EqualTo(splits));
        Assert.That(result.TrainingPointCount, Is.EqualTo(Math.Min(n, maxPerCentroid * k)));
        Assert.That(result.IterationDimensions, Is.All.EqualTo(d));
    }

    [Test]
    public void Objective_NeverIncreases_WithoutSplits()
    {
        var data = Blobs(3000, 16, 30, seed: 5, spread: 0.3);
        var result = KMeans.Train(data, 16, 25, new KMeansOptions { Iterations = 25 });
        Assert.That(result.Objective.Count, Is.GreaterThan(3));
        for (int i = 0; i + 1 < result.Objective.Count; i++)
        {
            if (result.Splits[i] == 0)
            {
                Assert.That(result.Objective[i + 1], Is.LessThanOrEqualTo(result.Objective[i] * (1 + 1e-7)), $"iteration {i + 1}");
            }
        }
        Assert.That(result.Objective[^1], Is.LessThan(result.Objective[0]));
    }

    [Test]
    public void SameSeed_IsBitIdentical_AcrossRunsAndParallelism()
    {
        var data = Blobs(4000, 24, 40, seed: 9, spread: 0.2);
        var o1 = new KMeansOptions { Seed = 3, Parallelism = new Parallelism(1), ComputeLabels = true };
        var o2 = o1 with { Parallelism = new Parallelism(2) };
        var a = KMeans.Train(data, 24, 32, o1);
        var b = KMeans.Train(data, 24, 32, o2);
        var c = KMeans.Train(data, 24, 32, o2);
        Assert.That(b.Centroids, Is.EqualTo(a.Centroids));
        Assert.That(c.Centroids, Is.EqualTo(b.Centroids));
        Assert.That(b.Objective, Is.EqualTo(a.Objective));
        Assert.That(b.Labels, Is.EqualTo(a.Labels));
        var other = KMeans.Train(data, 24, 32, o2 with { Seed = 4 });
        Assert.That(other.Centroids, Is.Not.EqualTo(a.Centroids));
    }

    [Test]
    public void EmptyClusters_AreSplit_AndNoneRemainsEmpty()
    {
        // 600 exact copies of one point among 8 blobs: the random init picks several identical centroids, whose
        // clusters are empty after the first assignment (ties go to the smallest index).
        const int d = 6, k = 10;
        var rng = new Random(2);
        var blobs = Blobs(400, d, 9, seed: 2, spread: 0.05);
        var dup = Enumerable.Range(0, d).Select(t => 0.5f + 0.1f * t).ToArray();
        var data = blobs.Concat(Enumerable.Range(0, 600).SelectMany(_ => dup)).ToArray();
        var result = KMeans.Train(data, d, k, new KMeansOptions { Iterations = 20, ComputeLabels = true });
        Assert.That(result.Splits[0], Is.GreaterThan(0), "the first update should re-seed empty clusters");
        var (reference, _, refSplits) = ReferenceKMeans(data, d, k, new KMeansOptions { Iterations = 20 });
        Assert.That(result.Splits, Is.EqualTo(refSplits));
        AssertClose(reference, result.Centroids, 1e-5);
        int[] sizes = new int[k];
        foreach (int label in result.Labels!)
        {
            sizes[label]++;
        }
        Assert.That(sizes, Is.All.GreaterThan(0), string.Join(",", sizes));
    }

    [Test]
    public void Progressive_IsNearPlainKMeans_OnStructuredData()
    {
        const int d = 24, k = 16;
        var data = Blobs(3000, d, 16, seed: 21, spread: 0.15);
        var plain = KMeans.Train(data, d, k, new KMeansOptions { Iterations = 10 });
        var prog = KMeans.Train(data, d, k, new KMeansOptions { Iterations = 10, ProgressiveDimensions = true });
        var progNoPca = KMeans.Train(data, d, k, new KMeansOptions { Iterations = 10, ProgressiveDimensions = true, ApplyPca = false });
        double objPlain = Objective(data, plain.Centroids, d);
        double objProg = Objective(data, prog.Centroids, d);
        double objNoPca = Objective(data, progNoPca.Centroids, d);
        Assert.That(objProg, Is.LessThanOrEqualTo(1.1 * objPlain), $"plain {objPlain}, progressive {objProg}");
        Assert.That(objNoPca, Is.LessThanOrEqualTo(1.1 * objPlain), $"plain {objPlain}, progressive without PCA {objNoPca}");
        Assert.That(prog.IterationDimensions.Distinct().ToArray(), Is.EqualTo(KMeans.ProgressiveStageDimensions(d, 10).Distinct().ToArray()));
        Assert.That(prog.Centroids, Has.Length.EqualTo(k * d));
        var again = KMeans.Train(data, d, k, new KMeansOptions { Iterations = 10, ProgressiveDimensions = true, Parallelism = new Parallelism(1) });
        Assert.That(again.Centroids, Is.EqualTo(prog.Centroids));
    }

    [Test]
    public void Progressive_AboveTheMaxPcaOrder_FitsTheSampledPcaAndEndsInAllDimensions()
    {
        // d and n both above KMeans.MaxPcaOrder: the PCA sees MaxPcaOrder points, so it spans fewer than d axes; the
        // last stage must still cluster in all d dimensions and do as well as the plain k-means.
        const int d = KMeans.MaxPcaOrder + 76, n = KMeans.MaxPcaOrder + 276, k = 8;
        var data = Blobs(n, d, 8, seed: 4, spread: 0.2);
        var prog = KMeans.Train(data, d, k, new KMeansOptions { Iterations = 4, ProgressiveDimensions = true, Parallelism = new Parallelism(2) });
        var plain = KMeans.Train(data, d, k, new KMeansOptions { Iterations = 4, Parallelism = new Parallelism(2) });
        Assert.That(prog.IterationDimensions[^1], Is.EqualTo(d));
        Assert.That(prog.IterationDimensions.Max(), Is.EqualTo(d));
        Assert.That(Objective(data, prog.Centroids, d), Is.LessThanOrEqualTo(1.05 * Objective(data, plain.Centroids, d)));
    }

    [Test]
    public void ProgressiveStageDimensions_MatchFaissFor128()
    {
        Assert.That(KMeans.ProgressiveStageDimensions(128, 10), Is.EqualTo(new[] { 1, 2, 4, 6, 11, 18, 29, 48, 78, 128 }));
        Assert.That(KMeans.ProgressiveStageDimensions(1, 10), Is.All.EqualTo(1));
    }

    [Test]
    public void KEqualsN_ReturnsThePoints()
    {
        var data = Guarded(12 * 3, 1).ToArray(); // 12 distinct points
        var result = KMeans.Train(data, 3, 12, new KMeansOptions { MinPointsPerCentroid = 1 });
        Assert.That(result.Centroids.Chunk(3).Select(c => string.Join(",", c)).Order(),
            Is.EqualTo(data.Chunk(3).Select(c => string.Join(",", c)).Order()));
        Assert.That(result.Objective[^1], Is.EqualTo(0));
        Assert.That(result.Warnings, Is.Empty);
        var single = KMeans.Train([1f, 2f, 3f], 3, 1, new KMeansOptions { ProgressiveDimensions = true, MinPointsPerCentroid = 0 });
        Assert.That(single.Centroids, Is.EqualTo(new[] { 1f, 2f, 3f }));
    }

    [Test]
    public void FewPointsPerCentroid_Warns()
    {
        var result = KMeans.Train(Blobs(100, 4, 5, 3), 4, 5);
        Assert.That(result.Warnings, Has.Count.EqualTo(1));
        Assert.That(result.Warnings[0], Does.Contain("195"));
    }

    [Test]
    public void Errors_AreClear()
    {
        var ex = Assert.Throws<ArgumentException>(() => KMeans.Train(new float[5 * 3], 3, 8));
        Assert.That(ex!.Message, Does.Contain("5 points").And.Contain("k = 8"));
        var bad = Blobs(50, 3, 2, 1);
        bad[40] = float.NaN;
        ex = Assert.Throws<ArgumentException>(() => KMeans.Train(bad, 3, 2));
        Assert.That(ex!.Message, Does.Contain("Point 13"));
        bad[40] = float.PositiveInfinity;
        Assert.Throws<ArgumentException>(() => KMeans.Train(bad, 3, 2));
        ex = Assert.Throws<ArgumentException>(() => KMeans.Train(new float[10], 3, 2));
        Assert.That(ex!.ParamName, Is.EqualTo("data"));
        Assert.Throws<ArgumentOutOfRangeException>(() => KMeans.Train(new float[9], 3, 0));
        var aex = Assert.Throws<ArgumentOutOfRangeException>(() => KMeans.Train(new float[9], 3, 1, new KMeansOptions { Iterations = 0 }));
        Assert.That(aex!.ParamName, Is.EqualTo("Iterations"));
        aex = Assert.Throws<ArgumentOutOfRangeException>(() => KMeans.Train(new float[9], 3, 1, new KMeansOptions { Parallelism = new Parallelism(0) }));
        Assert.That(aex!.ParamName, Is.EqualTo("MaxDegreeOfParallelism"));
        Assert.Throws<ArgumentNullException>(() => KMeans.Train((VectorSet)null!, 1));
    }

    [Test]
    public void Cancellation_IsObserved()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => KMeans.Train(Blobs(200, 4, 4, 1), 4, 4, cancellationToken: cts.Token));
    }

    [Test]
    public void VectorSetOverload_MatchesSpanOverload()
    {
        var data = Blobs(500, 8, 6, 17);
        var a = KMeans.Train(VectorSet.FromArray(data, 8), 6);
        var b = KMeans.Train(data, 8, 6);
        Assert.That(a.Centroids, Is.EqualTo(b.Centroids));
        Assert.That(a.ToVectorSet().Count, Is.EqualTo(6));
    }
}
