using System;
using System.IO;
using System.Linq;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Search;
using Qinco.Training;

namespace Qinco.Tests.Quantizers;

/// <summary>QINCo2 (ALGORITHM.md §5): presets, the exact-RQ start, dead-codeword resets, the time-budget schedule, save/load.</summary>
public sealed class Qinco2Tests
{
    private const int D = 16;
    private static readonly VectorSet s_train = SyntheticData.Generate(1500, D, seed: 1, latentDimension: 8);
    private static readonly VectorSet s_test = SyntheticData.Generate(300, D, seed: 2, latentDimension: 8);

    [TestCase(Qinco2Preset.S, 64, 2, 128, 256)]
    [TestCase(Qinco2Preset.S, 128, 2, 128, 256)]
    [TestCase(Qinco2Preset.M, 96, 4, 384, 384)]
    public void Preset_BuildsTheDocumentedShapesAndParameterCount(Qinco2Preset preset, int d, int blocks, int embedding, int hidden)
    {
        var quantizer = Quantizer.Qinco2(d, preset).WithSteps(3).WithCodebookBits(4).WithThreads(2).Build();
        VectorSet train = SyntheticData.Generate(200, d, seed: 3, latentDimension: 8);
        quantizer.FitInitializationOnly(train);
        QincoModel model = quantizer.Network!;
        Assert.That(model.StepShape, Is.EqualTo(new QincoStepShape(d, 16, embedding, hidden, blocks, Projections: embedding != d, CodewordSkip: 1f, Preselection: true)));
        Assert.That(quantizer.Options.Search, Is.EqualTo(new EncoderSearch(32, 16)));
        Assert.That(quantizer.Options.Training.Optimizer, Is.EqualTo(OptimizerKind.AdamW));
        Assert.That(quantizer.Options.Training.Schedule, Is.EqualTo(ScheduleKind.WarmupCosine));

        // (5.9): P_step = 2·K·D + 2·D·De·[De ≠ D] + (De + D)·De + De + 2·L·De·Dh, plus the step-0 codebook K·D.
        long k = 16;
        long perStep = (2 * k * d) + (embedding != d ? 2L * d * embedding : 0) + ((long)(embedding + d) * embedding) + embedding + (2L * blocks * embedding * hidden);
        Assert.That(model.ParameterCount, Is.EqualTo((k * d) + (2 * perStep)));
        Assert.That(model.Tensors.Any(t => t.Name == "step1.in_proj"), Is.EqualTo(embedding != d));
        Assert.That(model.Mean, Is.Not.Null, "QINCo2 normalises by the per-dimension mean (§5.2)");
    }

    [TestCase(16, 4, 8)]
    [TestCase(8, 3, 3)]
    [TestCase(16, 1, 0)]
    public void ExactRqStart_ReproducesRqBeamSearchCodes(int embedding, int beam, int candidates)
    {
        var qinco = Quantizer.Qinco2(D).WithEmbeddingSize(embedding).WithResidualBlocks(2).WithHiddenSize(24).WithSteps(4).WithCodebookBits(5)
            .WithEncoding(beam, candidates).WithInitializationBeamWidth(beam).WithSeed(3).WithThreads(2).Build();
        qinco.FitInitializationOnly(s_train);
        var rq = Quantizer.Residual(D).WithSteps(4).WithCodebookBits(5).WithBeamWidth(beam).WithSeed(3).WithThreads(2).Build();
        rq.Fit(s_train);

        byte[] expected = rq.Encode(s_test).Data, actual = qinco.Encode(s_test).Data;
        int same = Enumerable.Range(0, s_test.Count).Count(i => expected.AsSpan(i * rq.CodeSize, rq.CodeSize).SequenceEqual(actual.AsSpan(i * rq.CodeSize, rq.CodeSize)));
        Assert.That(same, Is.GreaterThanOrEqualTo(s_test.Count - 3), "the same codes up to rare floating-point ties of the normalisation");
        Assert.That(Mse(s_test, qinco.Decode(actual)), Is.EqualTo(Mse(s_test, rq.Decode(expected))).Within(0.05).Percent);
    }

    [Test]
    public void DeadCodewordReset_ReplacesOnlyUnusedCodewords()
    {
        QincoModel model = QincoModel.Zeros(new QincoStepShape(4, 8, 4, 6, 1, Projections: false, CodewordSkip: 1f, Preselection: true), steps: 3, scale: 1f, mean: new float[4]);
        var random = new Random(5);
        foreach (ModelTensor tensor in model.Tensors)
        {
            for (int i = 0; i < tensor.Values.Length; i++)
            {
                tensor.Values[i] = (float)random.NextDouble();
            }
        }
        float[][] before = model.Tensors.Select(t => (float[])t.Values.Clone()).ToArray();
        var reset = new DeadCodewordReset(model, seed: 1);
        DeadCodewordReset.Tally tally = reset.CreateTally(worker: 0);
        // Step 1 uses codewords 0, 1, 2; step 2 only codeword 5. Targets x − x̂ have mean 10 and spread 2 per dimension.
        float[] x = [12, 12, 12, 12, 8, 8, 8, 8, 12, 12, 12, 12, 8, 8, 8, 8];
        float[] previous = new float[16];
        tally.Add(1, [0, 1, 2, 0], x, previous, 4);
        tally.Add(2, [5, 5, 5, 5], x, previous, 4);

        Assert.That(reset.Apply(epoch: 0), Is.EqualTo(5 + 7));
        for (int t = 0; t < model.Tensors.Count; t++)
        {
            ModelTensor tensor = model.Tensors[t];
            int[] used = tensor.Name.StartsWith("step1.", StringComparison.Ordinal) ? [0, 1, 2] : tensor.Name.StartsWith("step2.", StringComparison.Ordinal) ? [5] : [];
            bool isCodebook = tensor.Name.EndsWith(".codebook", StringComparison.Ordinal) || tensor.Name.EndsWith(".preselection", StringComparison.Ordinal);
            for (int row = 0; row < tensor.Values.Length / 4; row++)
            {
                float[] was = before[t].AsSpan(row * 4, 4).ToArray(), now = tensor.Values.AsSpan(row * 4, 4).ToArray();
                if (!isCodebook || used.Contains(row))
                {
                    Assert.That(now, Is.EqualTo(was), $"{tensor.Name} row {row} is used or not a codebook: untouched");
                }
                else
                {
                    Assert.That(now, Has.All.InRange(10 - (2 * Math.Sqrt(3) * 1.1), 10 + (2 * Math.Sqrt(3) * 1.1)), $"{tensor.Name} row {row}: redrawn around the targets' mean 10, std 2");
                }
            }
        }
        Assert.That(reset.Apply(epoch: 1), Is.EqualTo(0), "the tallies are cleared: an epoch without rows replaces nothing");
    }

    [Test]
    public void FitSaveLoad_RoundTripsTheCodesAndTrainingLowersTheRqError()
    {
        var qinco = Quantizer.Qinco2(D).WithEmbeddingSize(8).WithResidualBlocks(1).WithHiddenSize(32).WithSteps(4).WithCodebookBits(5)
            .WithEncoding(4, 8).WithInitializationBeamWidth(4).WithSeed(3).WithThreads(2)
            .WithTraining(t => t.MaxEpochs(6).BatchSize(128).LearningRate(2e-3).WarmupCosine(1, 5).Workers(2))
            .Build();
        qinco.Fit(s_train, s_test);
        Assert.That(qinco.LastTraining!.BestValidationMetric, Is.LessThan(qinco.InitialValidationMse!.Value), "training beats the exact-RQ start");

        using var stream = new MemoryStream();
        qinco.Save(stream);
        byte[] header = stream.ToArray()[8..12];
        Assert.That(header, Is.EqualTo(new byte[] { 2, 0, 2, 0 }), "a QINCo2 file is format 2, so a version-1 reader refuses it instead of reading it as QINCo1");
        stream.Position = 0;
        IQuantizer loaded = Quantizer.Load(stream);
        Assert.That(loaded.Description, Is.EqualTo(qinco.Description));
        Assert.That(loaded.Description, Does.Contain("QINCo2"));
        byte[] codes = qinco.Encode(s_test).Data;
        Assert.That(loaded.Encode(s_test).Data, Is.EqualTo(codes));
        Assert.That(loaded.Decode(codes).Data, Is.EqualTo(qinco.Decode(codes).Data));
    }

    [Test]
    public void WarmupCosine_FollowingTheBudget_DecaysWithinTheBudget()
    {
        var schedule = new WarmupCosineSchedule(1.0, warmupEpochs: 3, cosineEpochs: 60, minFactor: 1e-3, followBudget: true);
        Assert.That(schedule.GetLearningRate(0, 0, 100, budgetUsed: 0.5), Is.EqualTo(Math.Cos((31.5 - 3) / 60 * Math.PI / 2)).Within(1e-12), "half the budget is half the schedule");
        Assert.That(schedule.GetLearningRate(0, 0, 100, budgetUsed: 1), Is.EqualTo(1e-3), "the budget's end is the floor");
        Assert.That(schedule.GetLearningRate(10, 49, 100, budgetUsed: 0.01), Is.EqualTo(schedule.LearningRateAt(10.5)), "epochs further along than the budget win");
        var epochsOnly = new WarmupCosineSchedule(1.0);
        Assert.That(epochsOnly.GetLearningRate(0, 0, 100, budgetUsed: 0.5), Is.EqualTo(epochsOnly.LearningRateAt(0.01)), "without FollowsBudget the budget is ignored");
    }

    private static double Mse(VectorSet expected, VectorSet actual) => QuantizerEvaluation.MeanSquaredError(expected, actual);
}
