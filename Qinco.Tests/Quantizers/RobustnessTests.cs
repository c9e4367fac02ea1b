using System;
using System.Linq;
using System.Threading;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Core.IO;
using Qinco.Core.Numerics;

namespace Qinco.Tests.Quantizers;

/// <summary>The inputs of shared/cases (and their kinds) give the right outcome: scale-independent results, or a clear exception before any work.</summary>
public sealed class RobustnessTests
{
    [TestCase("1e18")]
    [TestCase("1e19")]
    [TestCase("1e20")]
    public void ResidualQuantizer_ErrorDoesNotDependOnTheDataScale(string scale)
    {
        double unit = RelativeError(TrainRq(VectorFile.Read(TestData.RequireCase("magnitude/mag_1.fvecs"))), VectorFile.Read(TestData.RequireCase("magnitude/mag_1.fvecs")));
        VectorSet scaled = VectorFile.Read(TestData.RequireCase($"magnitude/mag_{scale}.fvecs"));
        ResidualQuantizer rq = TrainRq(scaled);
        Assert.That(RelativeError(rq, scaled), Is.EqualTo(unit).Within(2).Percent, $"unit scale {unit}");
        var copy = (ResidualQuantizer)Quantizer.Load(SaveToStream(rq));
        Assert.That(copy.Decode(copy.Encode(scaled)).Data, Is.EqualTo(rq.Decode(rq.Encode(scaled)).Data), "the scale is saved");
    }

    [TestCase(1e-19f)]
    [TestCase(1e20f)]
    public void ResidualQuantizer_PowerOfTwoScaling_GivesTheCodesOfTheUnscaledData(float factor)
    {
        VectorSet data = SyntheticData.Generate(600, 8, seed: 3);
        float exact = MathF.ScaleB(1f, MathF.ILogB(factor)); // a power of two: scaling is exact
        VectorSet scaled = VectorSet.FromArray(Array.ConvertAll(data.Data, v => v * exact), 8);
        Assert.That(TrainRq(scaled).Encode(scaled).Data, Is.EqualTo(TrainRq(data).Encode(data).Data));
    }

    [TestCase(1e37f)]
    [TestCase(1e-38f)]
    public void Fit_RefusesMagnitudesWhoseScaleAModelFileCannotRecord(float factor)
    {
        VectorSet data = SyntheticData.Generate(600, 8, seed: 3);
        VectorSet scaled = Scaled(data, factor);
        var ex = Assert.Throws<ArgumentException>(() => Quantizer.Residual(8).WithSteps(2).WithCodebookBits(4).Build().Fit(scaled));
        Assert.That(ex!.Message, Does.Contain("largest magnitude").And.Contain("2^-120..2^120"));
    }

    [Test]
    public void IvfQinco_MoreProbedListsThanLists_IsRefusedBeforeAnyWork()
    {
        VectorSet data = SyntheticData.Generate(600, 8, seed: 3);
        var explicitLists = Assert.Throws<ArgumentOutOfRangeException>(() => Quantizer.IvfQinco(8).WithLists(8).WithProbedLists(9).Build());
        Assert.That(explicitLists!.ParamName, Is.EqualTo("ProbedLists"));
        var chosen = Assert.Throws<ArgumentException>(() => Quantizer.IvfQinco(8).WithProbedLists(1000).WithSteps(2).WithCodebookBits(4).Build().Fit(data));
        Assert.That(chosen!.Message, Does.Contain("1000 lists").And.Contain("chosen from the 600 training vectors"));
    }

    [Test]
    public void Qinco_AtAnExtremeScale_LearnsAsAtUnitScale()
    {
        VectorSet unit = VectorFile.Read(TestData.RequireCase("magnitude/mag_1.fvecs"));
        VectorSet huge = VectorFile.Read(TestData.RequireCase("magnitude/mag_1e20.fvecs"));
        double unitError = RelativeError(TrainQinco(unit), unit), hugeError = RelativeError(TrainQinco(huge), huge);
        Assert.That(hugeError, Is.EqualTo(unitError).Within(5).Percent);
        Assert.That(hugeError, Is.LessThan(0.5));
    }

    [Test]
    public void Encode_RefusesMagnitudesTheModelCannotRepresent_NamingTheValue()
    {
        VectorSet unit = VectorFile.Read(TestData.RequireCase("magnitude/mag_1.fvecs"));
        foreach (IQuantizer q in new IQuantizer[] { TrainRq(unit), TrainQinco(unit) })
        {
            VectorSet far = unit.Slice(0, 3);
            far[2][5] = 1e25f;
            var ex = Assert.Throws<ArgumentException>(() => q.Encode(far));
            Assert.That(ex!.Message, Does.Contain("Vector 2, component 5").And.Contain("1E+25"), q.Description);
        }
    }

    [Test]
    public void ResidualQuantizer_BeamStateBeyondOneArray_IsRefusedBeforeAnyWork()
    {
        // The beam state is n × beam × M code indices: 10,000 × 1,024 × 256 > Array.MaxLength.
        var data = new VectorSet(10_000, 2);
        var random = new Random(1);
        for (int i = 0; i < data.Data.Length; i++)
        {
            data.Data[i] = (float)random.NextDouble();
        }
        IQuantizer rq = Quantizer.Residual(2).WithSteps(256).WithCodebookBits(8).WithBeamWidth(1024).WithProgressiveDimensions(false).Build();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var ex = Assert.Throws<ArgumentException>(() => rq.Fit(data));
        Assert.That(ex!.Message, Does.Contain("BeamWidth 1024").And.Contain("10000 vectors").And.Contain("GiB"));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "refused before k-means runs");
    }

    [Test]
    public void ResidualQuantizer_CodebooksBeyondOneArray_AreRefusedBeforeAnyWork()
    {
        // qinco train --method rq --steps 1024 --codebook-bits 12 on 4,096 × 512 vectors: M × K × D = 2^31 floats, every option in range.
        VectorSet data = SyntheticData.Generate(4096, 512, seed: 1);
        IQuantizer rq = Quantizer.Residual(512).WithSteps(1024).WithCodebookBits(12).WithThreads(2).Build();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var ex = Assert.Throws<ArgumentException>(() => rq.Fit(data));
        Assert.That(ex!.Message, Does.Contain("Steps 1024").And.Contain("CodebookBits 12").And.Contain("dimension 512").And.Contain("8.0 GiB"));
        Assert.That(ex.ParamName, Is.EqualTo("train"));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "refused before k-means runs");
        Assert.That(rq.IsTrained, Is.False);
    }

    [Test]
    public void ResidualQuantizer_KMeansSampleBeyondOneArray_IsRefusedBeforeAnyWork()
    {
        // Step 2 clusters min(n × beam, 256 · K) = 65,536 residuals of dimension 32,768: 2^31 floats.
        VectorSet data = SyntheticData.Generate(256, 32768, seed: 1);
        IQuantizer rq = Quantizer.Residual(32768).WithSteps(2).WithCodebookBits(8).WithBeamWidth(1024).WithProgressiveDimensions(false).WithThreads(2).Build();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var ex = Assert.Throws<ArgumentException>(() => rq.Fit(data));
        Assert.That(ex!.Message, Does.Contain("CodebookBits 8").And.Contain("BeamWidth 1024").And.Contain("dimension 32768").And.Contain("8.0 GiB"));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "refused before k-means runs");
    }

    [Test]
    public void Qinco_BuffersBeyondOneArray_AreRefusedBeforeAnyWork()
    {
        VectorSet wide = SyntheticData.Generate(4096, 512, seed: 1);
        QincoQuantizer big = Quantizer.Qinco(512).WithSteps(1024).WithCodebookBits(12).WithResidualBlocks(1).WithHiddenSize(8).WithThreads(2).Build();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var ex = Assert.Throws<ArgumentException>(() => big.Fit(wide));
        Assert.That(ex!.Message, Does.Contain("Steps 1024").And.Contain("CodebookBits 12").And.Contain("dimension 512").And.Contain("8.0 GiB")
            .And.Contain("initialises from RQ codebooks"));
        Assert.That(big.IsTrained, Is.False);

        VectorSet small = SyntheticData.Generate(600, 8, seed: 1);
        QincoQuantizer batch = Quantizer.Qinco(8).WithSteps(2).WithCodebookBits(4).WithResidualBlocks(1).WithHiddenSize(8).WithThreads(2)
            .WithTraining(t => t.BatchSize(1 << 30)).Build();
        var batchEx = Assert.Throws<ArgumentException>(() => batch.Fit(small));
        Assert.That(batchEx!.Message, Does.Contain("BatchSize 1073741824").And.Contain("32.0 GiB"));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "refused before the RQ initialisation runs");
    }

    [Test]
    public void Qinco_CancelledBeforeItsFirstEpochEnds_StaysUntrained()
    {
        VectorSet train = SyntheticData.Generate(1000, 8, seed: 1);
        using var cts = new CancellationTokenSource();
        QincoQuantizer qinco = Quantizer.Qinco(8).WithSteps(2).WithCodebookBits(4).WithResidualBlocks(1).WithHiddenSize(8).WithThreads(2)
            .WithTraining(t => t.MaxEpochs(3).BatchSize(100)).Build();
        var progress = new SynchronousProgress(p =>
        {
            if (p.Training is { Phase: Qinco.Training.TrainingPhase.BatchCompleted })
            {
                cts.Cancel();
            }
        });
        Assert.Throws<OperationCanceledException>(() => qinco.Fit(train, null, progress, cts.Token));
        Assert.That(qinco.IsTrained, Is.False);
        Assert.That(qinco.LastTraining!.StopReason, Is.EqualTo(Qinco.Training.StopReason.Cancelled));
    }

    [Test]
    public void ResidualQuantizer_CancelledAtItsLastStep_ThrowsAndStaysUntrained()
    {
        // The cancel arrives once the last step's k-means has run (from the step's report, before Fit returns): the fit
        // must throw, not return the model it was building.
        VectorSet train = SyntheticData.Generate(2000, 8, seed: 1);
        using var cts = new CancellationTokenSource();
        ResidualQuantizer rq = Quantizer.Residual(8).WithSteps(3).WithCodebookBits(4).WithBeamWidth(4).WithThreads(2).Build();
        int cancelledAt = -1;
        var progress = new SynchronousProgress(p =>
        {
            if (p.Completed == p.Total && p.Total == 3)
            {
                cancelledAt = p.Completed;
                cts.Cancel();
            }
        });
        Assert.Throws<OperationCanceledException>(() => rq.Fit(train, null, progress, cts.Token));
        Assert.That(cancelledAt, Is.EqualTo(3), "cancelled at the last step");
        Assert.That(rq.IsTrained, Is.False);
        Assert.Throws<InvalidOperationException>(() => rq.Encode(train));
    }

    [TestCase("1e18")]
    [TestCase("1e19")]
    [TestCase("1e20")]
    public void KMeansAndCoarseQuantizer_ErrorDoesNotDependOnTheDataScale(string scale)
    {
        // Before: relative error 0.534 at S = 1, 0.58 at 1e19 and 0.71 at 1e20 (float32 squared norms overflow), silently.
        VectorSet unit = VectorFile.Read(TestData.RequireCase("magnitude/mag_1.fvecs"));
        VectorSet scaled = VectorFile.Read(TestData.RequireCase($"magnitude/mag_{scale}.fvecs"));
        var options = new KMeansOptions { Parallelism = new Parallelism(2) };
        double unitError = ClusteringError(KMeans.Train(unit, 16, options).Centroids, unit);
        double scaledError = ClusteringError(KMeans.Train(scaled, 16, options).Centroids, scaled);
        Assert.That(scaledError, Is.EqualTo(unitError).Within(2).Percent, $"unit scale {unitError}");
        double coarseError = ClusteringError(Qinco.Search.CoarseQuantizer.Train(scaled, 16, options).Centroids.ToArray(), scaled);
        Assert.That(coarseError, Is.EqualTo(unitError).Within(2).Percent, "qinco index centroids trains the same k-means");
    }

    [TestCase(66)]
    [TestCase(-70)]
    public void KMeans_PowerOfTwoScaledData_GivesTheScaledCentroidsExactly(int exponent)
    {
        VectorSet data = SyntheticData.Generate(2000, 8, seed: 5);
        float factor = MathF.ScaleB(1f, exponent);
        VectorSet scaled = Scaled(data, factor);
        var options = new KMeansOptions { Parallelism = new Parallelism(2) };
        KMeansResult unitResult = KMeans.Train(data, 32, options);
        KMeansResult scaledResult = KMeans.Train(scaled, 32, options);
        Assert.That(scaledResult.Centroids, Is.EqualTo(Array.ConvertAll(unitResult.Centroids, v => v * factor)));
        Assert.That(scaledResult.Objective[^1] / ((double)factor * factor), Is.EqualTo(unitResult.Objective[^1]).Within(1e-9).Percent, "the objective is in the data's units");
    }

    [TestCase(256)]
    [TestCase(512)]
    public void ResidualQuantizer_HighDimension_TrainsInATimeDominatedByKMeans(int dimension)
    {
        // shared/cases/highdim: `qinco train --method rq --steps 1` (default 8 bits, progressive dimensions on) took 3.3 s at
        // d = 256 and 55 s at d = 512, nearly all of it the progressive-dimension PCA's eigen-solver. The same fit without
        // progressive dimensions is k-means alone: with them it may cost a few times that plus 2 s of fixed work (the
        // PCA: about 0.3 s here at both dimensions, 2 threads), which the old 3.3 s and 55 s both exceed.
        VectorSet data = VectorFile.Read(TestData.RequireCase($"highdim/d{dimension}.fvecs"));
        Assert.That(data.Dimension, Is.EqualTo(dimension));
        ResidualQuantizer KMeansOnly() => Quantizer.Residual(dimension).WithSteps(1).WithProgressiveDimensions(false).WithThreads(2).Build();
        ResidualQuantizer Progressive() => Quantizer.Residual(dimension).WithSteps(1).WithThreads(2).Build();
        KMeansOnly().Fit(data); // warm-up (JIT)
        var watch = System.Diagnostics.Stopwatch.StartNew();
        ResidualQuantizer plain = KMeansOnly();
        plain.Fit(data);
        TimeSpan kmeans = watch.Elapsed;
        watch.Restart();
        ResidualQuantizer progressive = Progressive();
        progressive.Fit(data);
        TimeSpan total = watch.Elapsed;
        TestContext.Out.WriteLine($"d = {dimension}: k-means alone {kmeans.TotalSeconds:F2} s, with progressive dimensions {total.TotalSeconds:F2} s; relative error {RelativeError(progressive, data):F4} / {RelativeError(plain, data):F4}");
        Assert.That(total, Is.LessThan(kmeans * 3 + TimeSpan.FromSeconds(2)), $"k-means alone {kmeans.TotalSeconds:F2} s");
        Assert.That(progressive.IsTrained, Is.True);
        // 300 vectors, 256 codewords: k-means places most codewords on single vectors, so the error is far below the data's norm.
        Assert.That(RelativeError(progressive, data), Is.LessThan(0.5).And.EqualTo(RelativeError(plain, data)).Within(25).Percent);
    }

    [TestCase(66)]
    [TestCase(-75)]
    public void CoarseQuantizer_AtAnExtremeScale_AssignsTheListsOfTheUnscaledData(int exponent)
    {
        // qinco index: centroids, then every vector's nearest list; at 2^66 the float32 squared distances overflowed.
        VectorSet data = SyntheticData.Generate(2000, 8, seed: 5);
        float factor = MathF.ScaleB(1f, exponent);
        VectorSet scaled = Scaled(data, factor);
        var options = new KMeansOptions { Parallelism = new Parallelism(2) };
        var unitLists = new int[data.Count];
        var scaledLists = new int[data.Count];
        Qinco.Search.CoarseQuantizer.Train(data, 32, options).Assign(data.Data, unitLists, 2);
        Qinco.Search.CoarseQuantizer.Train(scaled, 32, options).Assign(scaled.Data, scaledLists, 2);
        Assert.That(scaledLists, Is.EqualTo(unitLists));
        Assert.That(unitLists.Distinct().Count(), Is.GreaterThan(16), "the lists are used");
    }

    /// <summary>Every value of <paramref name="data"/> times <paramref name="factor"/>.</summary>
    private static VectorSet Scaled(VectorSet data, float factor) => VectorSet.FromArray(Array.ConvertAll(data.Data, v => v * factor), data.Dimension);

    private static ResidualQuantizer TrainRq(VectorSet data)
    {
        ResidualQuantizer rq = Quantizer.Residual(data.Dimension).WithSteps(2).WithCodebookBits(6).WithThreads(2).Build();
        rq.Fit(data);
        return rq;
    }

    private static QincoQuantizer TrainQinco(VectorSet data)
    {
        QincoQuantizer q = Quantizer.Qinco(data.Dimension).WithSteps(2).WithCodebookBits(6).WithResidualBlocks(1).WithHiddenSize(16).WithThreads(2)
            .WithTraining(t => t.MaxEpochs(2).BatchSize(128)).Build();
        q.Fit(data);
        return q;
    }

    /// <summary>Sum over points of the squared distance to the nearest centroid / sum of squared norms, in double.</summary>
    private static double ClusteringError(float[] centroids, VectorSet data)
    {
        int d = data.Dimension, k = centroids.Length / d;
        double error = 0, norm = 0;
        for (int i = 0; i < data.Count; i++)
        {
            double best = double.PositiveInfinity;
            for (int c = 0; c < k; c++)
            {
                double distance = 0;
                for (int j = 0; j < d; j++)
                {
                    double diff = (double)data.Data[i * d + j] - centroids[c * d + j];
                    distance += diff * diff;
                }
                best = Math.Min(best, distance);
            }
            error += best;
            for (int j = 0; j < d; j++)
            {
                norm += (double)data.Data[i * d + j] * data.Data[i * d + j];
            }
        }
        return error / norm;
    }

    /// <summary>MSE / mean squared norm, in double.</summary>
    private static double RelativeError(IQuantizer q, VectorSet data)
    {
        VectorSet decoded = q.Decode(q.Encode(data));
        double error = 0, norm = 0;
        for (int i = 0; i < data.Data.Length; i++)
        {
            double diff = (double)data.Data[i] - decoded.Data[i];
            error += diff * diff;
            norm += (double)data.Data[i] * data.Data[i];
        }
        return error / norm;
    }

    private static System.IO.MemoryStream SaveToStream(IQuantizer q)
    {
        var stream = new System.IO.MemoryStream();
        q.Save(stream);
        stream.Position = 0;
        return stream;
    }

    private sealed class SynchronousProgress(Action<FitProgress> report) : IProgress<FitProgress>
    {
        public void Report(FitProgress value) => report(value);
    }
}
