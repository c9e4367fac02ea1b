using System;
using System.Linq;
using System.Threading;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Search;
using Qinco.Training;

namespace Qinco.Tests.Quantizers;

public sealed class IvfQincoQuantizerTests
{
    private const int D = 16;

    private static readonly VectorSet s_train = SyntheticData.Generate(3000, D, seed: 1, latentDimension: 8);
    private static readonly VectorSet s_test = SyntheticData.Generate(300, D, seed: 2, latentDimension: 8);

    [Test]
    public void DecodingNoSteps_GivesTheListsCentroid_AndSplitCodeNamesThatList()
    {
        IvfQincoQuantizer ivf = Small(lists: 16).WithTraining(t => t.MaxEpochs(1)).Build();
        ivf.Fit(s_train);
        CodeSet codes = ivf.Encode(s_test);
        VectorSet centroids = ivf.Decode(codes, steps: 0);
        float[] all = ivf.GetCentroids();
        var steps = new int[ivf.Steps];
        var residual = new float[D];
        for (int i = 0; i < s_test.Count; i++)
        {
            int list = ivf.SplitCode(codes.Row(i), steps);
            Assert.That(centroids.Row(i).ToArray(), Is.EqualTo(all.AsSpan(list * D, D).ToArray()).Within(1e-5f));
            Assert.That(ivf.Assign(s_test.Row(i), residual), Is.EqualTo(list), "Assign names the list the encoder chose");
            for (int j = 0; j < D; j++)
            {
                Assert.That(residual[j], Is.EqualTo(s_test[i][j] - all[list * D + j]).Within(1e-4f));
            }
        }
        Assert.That(ivf.Layout.ListBits, Is.EqualTo(4));
        Assert.That(ivf.CodeSize, Is.EqualTo((4 + (4 * 5) + 7) / 8));
    }

    [Test]
    public void ZeroInitialisedModel_ReproducesRqOnTheResiduals()
    {
        // Greedy search and an untrained zero-initialised network: IVF-QINCo is exactly IVF-RQ (RQ on the residuals).
        IvfQincoQuantizer ivf = Small(lists: 16).WithEncoding(1, 0).WithInitializationBeamWidth(1).Build();
        ivf.FitInitializationOnly(s_train);
        var residuals = new VectorSet(s_train.Count, D);
        var lists = new int[s_test.Count];
        for (int i = 0; i < s_train.Count; i++)
        {
            ivf.Assign(s_train.Row(i), residuals[i]);
        }
        var rq = Quantizer.Residual(D).WithSteps(4).WithCodebookBits(5).WithBeamWidth(1).WithSeed(1234).WithThreads(2).Build();
        rq.Fit(residuals);
        var testResiduals = new VectorSet(s_test.Count, D);
        for (int i = 0; i < s_test.Count; i++)
        {
            lists[i] = ivf.Assign(s_test.Row(i), testResiduals[i]);
        }
        byte[] rqCodes = rq.Encode(testResiduals).Data;
        CodeSet ivfCodes = ivf.Encode(s_test);
        var rqIndices = new int[4];
        var ivfSteps = new int[4];
        int same = 0;
        for (int i = 0; i < s_test.Count; i++)
        {
            CodePacking.Unpack(rqCodes.AsSpan(i * rq.CodeSize, rq.CodeSize), rq.Layout, rqIndices);
            Assert.That(ivf.SplitCode(ivfCodes.Row(i), ivfSteps), Is.EqualTo(lists[i]));
            same += rqIndices.Zip(ivfSteps).Count(p => p.First == p.Second);
        }
        Assert.That(same, Is.GreaterThanOrEqualTo((4 * s_test.Count) - 3), "identical codes up to rare floating-point ties");
        VectorSet rqDecoded = rq.Decode(rqCodes);
        double rqMse = 0;
        for (int i = 0; i < s_test.Count; i++)
        {
            for (int j = 0; j < D; j++)
            {
                double diff = testResiduals[i][j] - rqDecoded[i][j];
                rqMse += diff * diff;
            }
        }
        Assert.That(Mse(s_test, ivf.Decode(ivfCodes)), Is.EqualTo(rqMse / s_test.Count).Within(0.01).Percent);
    }

    [Test]
    public void Training_LowersTheErrorOfItsIvfRqStart()
    {
        IvfQincoQuantizer ivf = Small(lists: 16).WithTraining(t => t.MaxEpochs(6).BatchSize(256).LearningRate(2e-3).Workers(2)).Build();
        ivf.Fit(s_train, s_test);
        Assert.That(ivf.LastTraining!.BestValidationMetric, Is.LessThan(ivf.InitialValidationMse!.Value * 0.99));
        Assert.That(Mse(s_test, ivf.Decode(ivf.Encode(s_test))), Is.EqualTo(ivf.LastTraining.BestValidationMetric!.Value).Within(0.1).Percent);
        Assert.That(ivf.ParameterCount, Is.EqualTo(4 * ((32 * D) + (2 * D * D) + D + (2 * 2 * D * 16))), "the centroids are frozen, not parameters");
    }

    [Test]
    public void Fit_ReportsProgress_AndCancellationKeepsTheBestModel()
    {
        using var cts = new CancellationTokenSource();
        var phases = new System.Collections.Generic.List<string>();
        IvfQincoQuantizer ivf = Small(lists: 16).WithTraining(t => t.MaxEpochs(5).BatchSize(256)).Build();
        ivf.Fit(s_train, s_test, new SynchronousProgress(p =>
        {
            phases.Add(p.Phase);
            if (p.Training is { Phase: TrainingPhase.EpochCompleted, Epoch: 0 })
            {
                cts.Cancel();
            }
        }), cts.Token);
        Assert.That(phases, Has.Some.StartsWith("coarse k-means").And.Some.StartsWith("RQ initialisation").And.Some.EqualTo("training"));
        Assert.That(ivf.LastTraining!.StopReason, Is.EqualTo(StopReason.Cancelled));
        Assert.That(ivf.Encode(s_test).Count, Is.EqualTo(s_test.Count));

        using var before = new CancellationTokenSource();
        before.Cancel();
        Assert.Throws<OperationCanceledException>(() => Small(lists: 16).Build().Fit(s_train, null, null, before.Token));
    }

    [Test]
    public void DefaultListCount_FollowsTheDocumentedRule()
    {
        Assert.That(IvfQincoOptions.DefaultLists(500_000), Is.EqualTo(2048), "4·√500000 ≈ 2828 → 2^11");
        Assert.That(IvfQincoOptions.DefaultLists(10_000), Is.EqualTo(512), "4·100 = 400 → 2^9");
        Assert.That(IvfQincoOptions.DefaultLists(10), Is.EqualTo(8), "at least 16, but never more than n");
        Assert.That(IvfQincoOptions.DefaultLists(1_000_000_000), Is.EqualTo(65536));
        IvfQincoQuantizer auto = Small(lists: null).WithTraining(t => t.MaxEpochs(1)).Build();
        auto.Fit(s_train);
        Assert.That(auto.Lists, Is.EqualTo(IvfQincoOptions.DefaultLists(s_train.Count)));
    }

    [Test]
    public void BadSettingsAndCodes_AreRefusedWithClearMessages()
    {
        var tooMany = Assert.Throws<ArgumentException>(() => Small(lists: 4000).Build().Fit(s_train));
        Assert.That(tooMany!.Message, Does.Contain("4000").And.Contain("3000"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => Small(lists: 0).Build())!.ParamName, Is.EqualTo("Lists"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => Small(lists: -3).Build())!.ParamName, Is.EqualTo("Lists"));

        IvfQincoQuantizer ivf = Small(lists: 10).WithTraining(t => t.MaxEpochs(1)).Build();
        ivf.Fit(s_train);
        byte[] codes = ivf.Encode(s_test.Slice(0, 3)).Data;
        codes[ivf.CodeSize] = (byte)((codes[ivf.CodeSize] & 0xF0) | 12); // code 1: list 12 of 10 (4 list bits)
        var bad = Assert.Throws<ArgumentException>(() => ivf.Decode(codes));
        Assert.That(bad!.Message, Does.Contain("list 12").And.Contain("10 lists").And.Contain("Code 1"));
    }

    [TestCase(4)]
    [TestCase(8)] // more lists than the beam width (5): the first step keeps more beams than the later ones
    public void WithProbedLists_StartsTheBeamsFromTheNearestLists_AndItsCodesDecodeWithTheModel(int probed)
    {
        IvfQincoQuantizer ivf = Small(lists: 16).WithTraining(t => t.MaxEpochs(1)).Build();
        ivf.Fit(s_train);
        Assert.That(ivf.Search.BeamWidth, Is.EqualTo(5));
        IvfQincoQuantizer wide = ivf.WithProbedLists(probed);
        Assert.That((wide.Options.ProbedLists, ivf.Options.ProbedLists), Is.EqualTo((probed, 1)), "a copy; the original keeps its setting");
        CodeSet nearest = ivf.Encode(s_test), spanning = wide.Encode(s_test);
        float[] centroids = ivf.GetCentroids();
        var steps = new int[ivf.Steps];
        int otherList = 0;
        for (int i = 0; i < s_test.Count; i++)
        {
            int list = wide.SplitCode(spanning.Row(i), steps);
            float Distance(int c)
            {
                float sum = 0;
                for (int j = 0; j < D; j++)
                {
                    float e = s_test[i][j] - centroids[c * D + j];
                    sum += e * e;
                }
                return sum;
            }
            int closer = Enumerable.Range(0, 16).Count(c => Distance(c) < Distance(list));
            Assert.That(closer, Is.LessThan(probed), $"vector {i} was coded in a list that is not among its {probed} nearest");
            otherList += list != ivf.SplitCode(nearest.Row(i), steps) ? 1 : 0;
        }
        Assert.That(otherList, Is.GreaterThan(0), "some vectors are coded better from a farther list");
        Assert.That(ivf.Decode(spanning).Data, Is.EqualTo(wide.Decode(spanning).Data), "the codes decode with the same model");
        Assert.Throws<ArgumentOutOfRangeException>(() => ivf.WithProbedLists(0));
        var tooMany = Assert.Throws<ArgumentOutOfRangeException>(() => ivf.WithProbedLists(17));
        Assert.That(tooMany!.Message, Does.Contain("16 lists"));
        Assert.Throws<InvalidOperationException>(() => Small(lists: 16).Build().WithProbedLists(2));
    }

    [Test]
    public void TrainingWithMoreProbedListsThanTheBeamWidth_Works()
    {
        IvfQincoQuantizer ivf = Small(lists: 16).WithProbedLists(8).WithTraining(t => t.MaxEpochs(1)).Build();
        ivf.Fit(s_train);
        Assert.That(ivf.Search.BeamWidth, Is.LessThan(ivf.Options.ProbedLists));
        VectorSet decoded = ivf.Decode(ivf.Encode(s_test));
        Assert.That(Mse(s_test, decoded), Is.LessThan(Mse(s_test, ivf.Decode(ivf.Encode(s_test), steps: 0))), "the steps refine the centroid");
    }

    private static IvfQincoQuantizerBuilder Small(int? lists) =>
        Quantizer.IvfQinco(D).WithLists(lists).WithSteps(4).WithCodebookBits(5).WithResidualBlocks(2).WithHiddenSize(16).WithThreads(2);

    private static double Mse(VectorSet expected, VectorSet actual) => QuantizerEvaluation.MeanSquaredError(expected, actual);

    private sealed class SynchronousProgress(Action<FitProgress> report) : IProgress<FitProgress>
    {
        public void Report(FitProgress value) => report(value);
    }
}
