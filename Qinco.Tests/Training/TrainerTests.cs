using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.Extensions.Logging;
using NUnit.Framework;
using Qinco.Training;

namespace Qinco.Tests.Training;

public sealed class TrainerTests
{
    private static LinearRegressionModel Model(int initSeed = 7) => new(rows: 500, dimension: 8, seed: 42, initSeed: initSeed);

    private static TrainingOptions Options(int workers = 1, int maxEpochs = 6, ScheduleKind schedule = ScheduleKind.Constant, OptimizerKind optimizer = OptimizerKind.Adam) => new()
    {
        BatchSize = 64,
        MaxEpochs = maxEpochs,
        LearningRate = 0.02,
        Schedule = schedule,
        Optimizer = optimizer,
        Workers = workers,
        Seed = 5,
    };

    private static float[] Flat(ITrainableModel m) => m.Parameters.CopyValuesToSnapshot();

    [Test]
    public void ReportedTrainLoss_IsTheMeanPerRowLoss()
    {
        LinearRegressionModel model = Model();
        double halfMse = 0.5 * model.TrainMse(); // the model's per-row loss is r²/2
        var batchLosses = new System.Collections.Generic.List<double>();
        var progress = new SyncProgress<TrainingProgress>(p =>
        {
            if (p.Phase == TrainingPhase.BatchCompleted)
            {
                batchLosses.Add(p.TrainLoss);
            }
        });
        // A learning rate too small to move the parameters: every loss is the starting point's.
        TrainingResult result = new Trainer(model, Options(maxEpochs: 1) with { LearningRate = 1e-12 }).Train(progress);
        Assert.That(result.History[0].TrainLoss, Is.EqualTo(halfMse).Within(0.1).Percent);
        Assert.That(batchLosses.Average(), Is.EqualTo(halfMse).Within(20).Percent);
    }

    [Test]
    public void ValidateInitialParameters_KeepsTheStartWhenNoEpochBeatsIt()
    {
        LinearRegressionModel model = Model();
        float[] start = Flat(model);
        model.ScriptedValidation = [1.0, 2.0, 1.5, 3.0]; // the start (1.0) beats every epoch
        TrainingResult result = new Trainer(model, Options(maxEpochs: 3) with { ValidateInitialParameters = true }).Train();
        Assert.That(result.BestEpoch, Is.Null);
        Assert.That(result.RestoredBestParameters, Is.True);
        Assert.That(result.InitialValidationMetric, Is.EqualTo(1.0));
        Assert.That(Flat(model), Is.EqualTo(start));
        Assert.That(model.ValidationCalls, Is.EqualTo(4));
    }

    [Test]
    public void ValidateInitialParameters_LetsABetterEpochWin()
    {
        LinearRegressionModel model = Model();
        float[] start = Flat(model);
        model.ScriptedValidation = [1.0, 2.0, 0.5, 3.0];
        TrainingResult result = new Trainer(model, Options(maxEpochs: 3) with { ValidateInitialParameters = true }).Train();
        Assert.That(result.BestEpoch, Is.EqualTo(1));
        Assert.That(new Trainer(Model(), Options(maxEpochs: 1)).Train().InitialValidationMetric, Is.Null, "not measured unless asked");
        Assert.That(result.BestValidationMetric, Is.EqualTo(0.5));
        Assert.That(Flat(model), Is.Not.EqualTo(start));
    }

    [Test]
    public void LinearRegression_ReachesLowLoss()
    {
        LinearRegressionModel model = Model();
        double before = model.TrainMse();
        var options = new TrainingOptions { BatchSize = 32, MaxEpochs = 40, LearningRate = 0.05, Schedule = ScheduleKind.Constant, ResetOptimizerEachEpoch = false };
        TrainingResult result = new Trainer(model, options).Train();
        Assert.That(result.StopReason, Is.EqualTo(StopReason.MaxEpochsReached));
        Assert.That(result.EpochsCompleted, Is.EqualTo(40));
        Assert.That(result.History, Has.Count.EqualTo(40));
        Assert.That(before, Is.GreaterThan(0.1));
        Assert.That(result.BestValidationMetric, Is.LessThan(2e-3)); // noise floor ≈ 0.05²/12 ≈ 2e-4
        Assert.That(model.TrainMse(), Is.LessThan(2e-3));
        Assert.That(result.History[^1].TrainLoss, Is.LessThan(result.History[0].TrainLoss));
    }

    [Test]
    public void TwoWorkers_EqualOneWorkerUpToRounding()
    {
        LinearRegressionModel m1 = Model(), m2 = Model(), m3 = Model();
        TrainingResult r1 = new Trainer(m1, Options(workers: 1, maxEpochs: 3)).Train();
        TrainingResult r2 = new Trainer(m2, Options(workers: 2, maxEpochs: 3)).Train();
        new Trainer(m3, Options(workers: 3, maxEpochs: 3)).Train();
        float[] a = Flat(m1), b = Flat(m2), c = Flat(m3);
        for (int i = 0; i < a.Length; i++)
        {
            double scale = Math.Max(Math.Abs(a[i]), 1e-3);
            Assert.That(Math.Abs(a[i] - b[i]) / scale, Is.LessThan(1e-5), $"W=2, element {i}");
            Assert.That(Math.Abs(a[i] - c[i]) / scale, Is.LessThan(1e-5), $"W=3, element {i}");
        }
        Assert.That(r2.History[^1].TrainLoss, Is.EqualTo(r1.History[^1].TrainLoss).Within(1e-5).Percent);
    }

    [Test]
    public void TwoWorkers_RunToRunBitIdentical()
    {
        LinearRegressionModel a = Model(), b = Model();
        TrainingResult ra = new Trainer(a, Options(workers: 2)).Train();
        TrainingResult rb = new Trainer(b, Options(workers: 2)).Train();
        Assert.That(Flat(b), Is.EqualTo(Flat(a)));
        Assert.That(rb.History.Select(h => h.TrainLoss), Is.EqualTo(ra.History.Select(h => h.TrainLoss)));
    }

    [Test]
    public void Shuffle_IsSeededPerEpoch()
    {
        LinearRegressionModel a = Model(), b = Model(), c = Model();
        new Trainer(a, Options(maxEpochs: 2)).Train();
        new Trainer(b, Options(maxEpochs: 2)).Train();
        TrainingOptions other = Options(maxEpochs: 2);
        new Trainer(c, new TrainingOptions { BatchSize = other.BatchSize, MaxEpochs = 2, LearningRate = other.LearningRate, Schedule = other.Schedule, Seed = 6 }).Train();
        Assert.That(Flat(b), Is.EqualTo(Flat(a)));
        Assert.That(Flat(c), Is.Not.EqualTo(Flat(a)));
    }

    [Test]
    public void EarlyStopping_RestoresBestParameters()
    {
        LinearRegressionModel model = Model();
        model.ScriptedValidation = [5, 3, 4, 6, 7, 8, 9];
        var atEpochEnd = new List<float[]>();
        var progress = new SyncProgress<TrainingProgress>(p =>
        {
            if (p.Phase == TrainingPhase.EpochCompleted)
            {
                atEpochEnd.Add(Flat(model));
            }
        });
        var options = new TrainingOptions { BatchSize = 64, MaxEpochs = 20, LearningRate = 0.02, Schedule = ScheduleKind.Constant, EarlyStoppingPatience = 3 };
        TrainingResult result = new Trainer(model, options).Train(progress);
        Assert.That(result.StopReason, Is.EqualTo(StopReason.EarlyStopping));
        Assert.That(result.EpochsCompleted, Is.EqualTo(5)); // best at epoch 1, three epochs without improvement
        Assert.That(result.BestEpoch, Is.EqualTo(1));
        Assert.That(result.BestValidationMetric, Is.EqualTo(3));
        Assert.That(result.RestoredBestParameters, Is.True);
        Assert.That(Flat(model), Is.EqualTo(atEpochEnd[1]));
        Assert.That(Flat(model), Is.Not.EqualTo(atEpochEnd[^1]));
    }

    [Test]
    public void EarlyStopping_MinDeltaCountsSmallGainsAsNoImprovement()
    {
        LinearRegressionModel model = Model();
        model.ScriptedValidation = [5, 4.9999995, 4.9999993, 4.9999991];
        var options = new TrainingOptions { BatchSize = 64, MaxEpochs = 20, LearningRate = 0.02, Schedule = ScheduleKind.Constant, EarlyStoppingPatience = 3, EarlyStoppingMinDelta = 1e-6 };
        TrainingResult result = new Trainer(model, options).Train();
        Assert.That(result.StopReason, Is.EqualTo(StopReason.EarlyStopping));
        Assert.That(result.BestEpoch, Is.EqualTo(0));
        Assert.That(result.EpochsCompleted, Is.EqualTo(4));
    }

    [Test]
    public void PlateauSchedule_DrivesTheRun()
    {
        LinearRegressionModel model = Model();
        model.ScriptedValidation = [1, 2];
        var options = new TrainingOptions { BatchSize = 250, MaxEpochs = 1000, LearningRate = 1e-4 };
        TrainingResult result = new Trainer(model, options).Train();
        Assert.That(result.StopReason, Is.EqualTo(StopReason.LearningRateBelowMinimum));
        Assert.That(result.EpochsCompleted, Is.EqualTo(22));
        Assert.That(result.History[10].LearningRate, Is.EqualTo(1e-4));
        Assert.That(result.History[11].LearningRate, Is.EqualTo(1e-5).Within(1e-18));
        Assert.That(model.EpochStarts, Is.EqualTo(Enumerable.Range(0, 22)));
    }

    [Test]
    public void Progress_ReportsBatchesEpochsAndStop()
    {
        LinearRegressionModel model = Model();
        var reports = new List<TrainingProgress>();
        TrainingResult result = new Trainer(model, Options(maxEpochs: 2)).Train(new SyncProgress<TrainingProgress>(reports.Add));
        Assert.That(reports.Count(r => r.Phase == TrainingPhase.BatchCompleted), Is.EqualTo(2 * 8));
        Assert.That(reports.Count(r => r.Phase == TrainingPhase.EpochCompleted), Is.EqualTo(2));
        TrainingProgress last = reports[^1];
        Assert.That(last.Phase, Is.EqualTo(TrainingPhase.Stopped));
        Assert.That(last.StopReason, Is.EqualTo(StopReason.MaxEpochsReached));
        TrainingProgress epoch = reports.First(r => r.Phase == TrainingPhase.EpochCompleted);
        Assert.That(epoch.ValidationMetric, Is.Not.Null);
        Assert.That(epoch.BestValidationMetric, Is.EqualTo(epoch.ValidationMetric));
        Assert.That(epoch.BatchesPerEpoch, Is.EqualTo(8));
        Assert.That(reports[1].EstimatedRemaining, Is.Not.Null);
        Assert.That(result.Elapsed, Is.GreaterThan(TimeSpan.Zero));
    }

    [Test]
    public void MaxDuration_StopsBetweenSteps()
    {
        LinearRegressionModel model = Model();
        model.OnRow = _ => Thread.SpinWait(2000);
        var options = new TrainingOptions { BatchSize = 64, MaxEpochs = 1000, LearningRate = 0.02, Schedule = ScheduleKind.Constant, MaxDuration = TimeSpan.FromMilliseconds(150) };
        TrainingResult result = new Trainer(model, options).Train();
        Assert.That(result.StopReason, Is.EqualTo(StopReason.MaxDurationReached));
        Assert.That(result.EpochsCompleted, Is.LessThan(1000));
    }

    [Test]
    public void MaxDuration_InsideTheFirstEpoch_ValidatesThePartialEpochAndKeepsItsWork()
    {
        LinearRegressionModel model = Model();
        model.OnRow = _ => Thread.SpinWait(20_000);
        var options = new TrainingOptions
        {
            BatchSize = 1, MaxEpochs = 10, LearningRate = 0.02, Schedule = ScheduleKind.Constant, ValidateInitialParameters = true,
            MaxDuration = TimeSpan.FromMilliseconds(200),
        };
        TrainingResult result = new Trainer(model, options).Train();
        Assert.That(result.StopReason, Is.EqualTo(StopReason.MaxDurationReached));
        Assert.That(result.EpochsCompleted, Is.EqualTo(1), "the budget ended the first epoch early; it still counts");
        Assert.That(result.BestEpoch, Is.EqualTo(0), "its batches beat the starting point, so they are kept");
        Assert.That(result.BestValidationMetric, Is.LessThan(result.InitialValidationMetric!.Value));
    }

    [Test]
    public void Cancel_BetweenSteps_ReturnsBestModelAndConsistentCheckpoint()
    {
        LinearRegressionModel model = Model();
        using var cts = new CancellationTokenSource();
        float[]? bestAtEpoch = null;
        float[]? afterLastStep = null;
        var progress = new SyncProgress<TrainingProgress>(p =>
        {
            if (p.Phase == TrainingPhase.EpochCompleted && p.ValidationMetric == p.BestValidationMetric)
            {
                bestAtEpoch = Flat(model);
            }
            if (p.Phase == TrainingPhase.BatchCompleted)
            {
                afterLastStep = Flat(model);
                if (p.Epoch == 3 && p.Batch == 2)
                {
                    cts.Cancel();
                }
            }
        });
        TrainingResult result = new Trainer(model, Options(maxEpochs: 10)).Train(progress, cts.Token);
        Assert.That(result.StopReason, Is.EqualTo(StopReason.Cancelled));
        Assert.That(result.EpochsCompleted, Is.EqualTo(3));
        Assert.That(result.Checkpoint.NextEpoch, Is.EqualTo(3));
        Assert.That(result.Checkpoint.NextBatch, Is.EqualTo(3));
        Assert.That(result.RestoredBestParameters, Is.True);
        Assert.That(Flat(model), Is.EqualTo(bestAtEpoch));
        // The checkpoint holds the state after the last complete step, not a half-applied one.
        var restoredModel = Model(initSeed: 99);
        restoredModel.Parameters.CopyValuesFrom(new float[restoredModel.Parameters.TotalElementCount]);
        var probe = new Trainer(restoredModel, Options(maxEpochs: 3)); // MaxEpochs reached at once: loads the checkpoint only
        TrainingResult probeResult = probe.Resume(result.Checkpoint);
        Assert.That(probeResult.StopReason, Is.EqualTo(StopReason.MaxEpochsReached));
        Assert.That(probeResult.Checkpoint.NextBatch, Is.EqualTo(3));
        Assert.That(Flat(restoredModel), Is.EqualTo(bestAtEpoch)); // restored best again
        var noRestore = Model(initSeed: 99);
        new Trainer(noRestore, new TrainingOptions { BatchSize = 64, MaxEpochs = 3, LearningRate = 0.02, Schedule = ScheduleKind.Constant, Seed = 5, RestoreBestParameters = false }).Resume(result.Checkpoint);
        Assert.That(Flat(noRestore), Is.EqualTo(afterLastStep));
    }

    [Test]
    public void Cancel_InsideWorker_DiscardsTheBatch()
    {
        LinearRegressionModel model = Model();
        using var cts = new CancellationTokenSource();
        float[]? afterLastStep = null;
        int rowsSeen = 0;
        model.OnRow = _ =>
        {
            if (++rowsSeen == (64 * 5) + 10)
            {
                cts.Cancel(); // in the middle of batch 5 of epoch 0
            }
        };
        var progress = new SyncProgress<TrainingProgress>(p =>
        {
            if (p.Phase == TrainingPhase.BatchCompleted)
            {
                afterLastStep = Flat(model);
            }
        });
        var options = new TrainingOptions { BatchSize = 64, MaxEpochs = 10, LearningRate = 0.02, Schedule = ScheduleKind.Constant, Seed = 5, RestoreBestParameters = false };
        TrainingResult result = new Trainer(model, options).Train(progress, cts.Token);
        Assert.That(result.StopReason, Is.EqualTo(StopReason.Cancelled));
        Assert.That(result.RestoredBestParameters, Is.False);
        Assert.That(result.Checkpoint.NextEpoch, Is.Zero);
        Assert.That(result.Checkpoint.NextBatch, Is.EqualTo(5));
        Assert.That(Flat(model), Is.EqualTo(afterLastStep));
    }

    [TestCase(1, ScheduleKind.Plateau, OptimizerKind.Adam, 3, 0)]
    [TestCase(1, ScheduleKind.Plateau, OptimizerKind.Adam, 2, 5)]
    [TestCase(2, ScheduleKind.WarmupCosine, OptimizerKind.AdamW, 1, 3)]
    public void Resume_AfterInterruption_EqualsUninterruptedRun(int workers, ScheduleKind schedule, OptimizerKind optimizer, int cancelEpoch, int cancelAfterBatch)
    {
        TrainingOptions options = new()
        {
            BatchSize = 64,
            MaxEpochs = 6,
            LearningRate = 0.01,
            Schedule = schedule,
            Optimizer = optimizer,
            WeightDecay = optimizer == OptimizerKind.AdamW ? 0.1 : 0,
            GradientClipValue = optimizer == OptimizerKind.AdamW ? 0.5 : null,
            ResetOptimizerEachEpoch = optimizer == OptimizerKind.Adam,
            WarmupEpochs = 1,
            CosineEpochs = 4,
            PlateauPatience = 2,
            Workers = workers,
            Seed = 11,
        };
        LinearRegressionModel full = Model();
        full.ScriptedValidation = schedule == ScheduleKind.Plateau ? [3, 2, 2.5, 2.6, 2.7, 2.8] : null;
        TrainingResult expected = new Trainer(full, options).Train();

        LinearRegressionModel first = Model();
        first.ScriptedValidation = full.ScriptedValidation;
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress<TrainingProgress>(p =>
        {
            bool atEpochEnd = cancelAfterBatch == 0 && p.Phase == TrainingPhase.EpochCompleted && p.Epoch == cancelEpoch - 1;
            bool atBatch = cancelAfterBatch > 0 && p.Phase == TrainingPhase.BatchCompleted && p.Epoch == cancelEpoch && p.Batch == cancelAfterBatch - 1;
            if (atEpochEnd || atBatch)
            {
                cts.Cancel();
            }
        });
        TrainingResult interrupted = new Trainer(first, options).Train(progress, cts.Token);
        Assert.That(interrupted.StopReason, Is.EqualTo(StopReason.Cancelled));

        using var stream = new MemoryStream();
        interrupted.Checkpoint.Save(stream);
        stream.Position = 0;
        TrainingCheckpoint loaded = TrainingCheckpoint.Load(stream);
        Assert.That(loaded.NextEpoch, Is.EqualTo(cancelEpoch));
        Assert.That(loaded.NextBatch, Is.EqualTo(cancelAfterBatch));

        LinearRegressionModel second = Model(initSeed: 1234); // different initial values: the checkpoint must overwrite them
        second.ScriptedValidation = full.ScriptedValidation?[cancelEpoch..];
        TrainingResult resumed = new Trainer(second, options).Resume(loaded);

        Assert.That(resumed.StopReason, Is.EqualTo(expected.StopReason));
        Assert.That(resumed.EpochsCompleted, Is.EqualTo(expected.EpochsCompleted));
        Assert.That(resumed.BestEpoch, Is.EqualTo(expected.BestEpoch));
        Assert.That(Flat(second), Is.EqualTo(Flat(full)));
        Assert.That(resumed.History.Select(h => (h.TrainLoss, h.ValidationMetric, h.LearningRate)), Is.EqualTo(expected.History.Select(h => (h.TrainLoss, h.ValidationMetric, h.LearningRate))));
        if (cancelAfterBatch > 0)
        {
            Assert.That(second.EpochStarts, Does.Not.Contain(cancelEpoch)); // no second OnEpochStart for the resumed epoch
        }
    }

    [Test]
    public void Cancel_DuringValidation_ResumesWithValidationOnly()
    {
        var options = new TrainingOptions { BatchSize = 64, MaxEpochs = 4, LearningRate = 1e-2, Seed = 3, PlateauPatience = 1 };
        LinearRegressionModel full = Model();
        new Trainer(full, options).Train();

        LinearRegressionModel first = Model();
        using var cts = new CancellationTokenSource();
        first.OnValidate = (call, token) =>
        {
            if (call == 2)
            {
                cts.Cancel();
                token.ThrowIfCancellationRequested();
            }
        };
        TrainingResult interrupted = new Trainer(first, options).Train(null, cts.Token);
        Assert.That(interrupted.StopReason, Is.EqualTo(StopReason.Cancelled));
        Assert.That(interrupted.EpochsCompleted, Is.EqualTo(2));
        Assert.That(interrupted.Checkpoint.NextEpoch, Is.EqualTo(2));
        Assert.That(interrupted.Checkpoint.NextBatch, Is.EqualTo(8)); // all batches of epoch 2 done, validation pending

        LinearRegressionModel second = Model(initSeed: 5);
        TrainingResult resumed = new Trainer(second, options).Resume(interrupted.Checkpoint);
        Assert.That(second.EpochStarts, Is.EqualTo(new[] { 3 }));
        Assert.That(resumed.EpochsCompleted, Is.EqualTo(4));
        Assert.That(Flat(second), Is.EqualTo(Flat(full)));
    }

    [Test]
    public void WorkerException_PropagatesUnwrapped()
    {
        LinearRegressionModel model = Model();
        model.OnRow = row =>
        {
            if (row == 17)
            {
                throw new InvalidOperationException("boom");
            }
        };
        var ex = Assert.Throws<InvalidOperationException>(() => new Trainer(model, Options(workers: 2)).Train());
        Assert.That(ex!.Message, Is.EqualTo("boom"));
    }

    [Test]
    public void CheckpointSink_ReceivesEpochCheckpoints_ThatResumeExactly()
    {
        TrainingOptions options = Options(maxEpochs: 4) is var o ? new TrainingOptions { BatchSize = o.BatchSize, MaxEpochs = 4, LearningRate = o.LearningRate, Schedule = o.Schedule, Seed = o.Seed, CheckpointIntervalEpochs = 2 } : null!;
        LinearRegressionModel full = Model();
        var checkpoints = new List<TrainingCheckpoint>();
        var trainer = new Trainer(full, options) { CheckpointSink = checkpoints.Add };
        trainer.Train();
        Assert.That(checkpoints.Select(c => c.NextEpoch), Is.EqualTo(new[] { 2, 4 }));
        LinearRegressionModel resumed = Model(initSeed: 3);
        new Trainer(resumed, options).Resume(checkpoints[0]);
        Assert.That(Flat(resumed), Is.EqualTo(Flat(full)));
    }

    [Test]
    public void Resume_RejectsMismatchedCheckpoint()
    {
        LinearRegressionModel model = Model();
        TrainingResult result = new Trainer(model, Options(maxEpochs: 1)).Train();
        var otherSeed = new TrainingOptions { BatchSize = 64, MaxEpochs = 2, LearningRate = 0.02, Schedule = ScheduleKind.Constant, Seed = 6 };
        Assert.Throws<ArgumentException>(() => new Trainer(Model(), otherSeed).Resume(result.Checkpoint));
        var otherModel = new LinearRegressionModel(rows: 500, dimension: 4, seed: 42);
        Assert.Throws<ArgumentException>(() => new Trainer(otherModel, Options()).Resume(result.Checkpoint));
    }

    [Test]
    public void Logging_EmitsEpochAndStopMessages()
    {
        var factory = new ListLoggerFactory();
        new Trainer(Model(), Options(maxEpochs: 2), factory).Train();
        Assert.That(factory.Messages.Count(m => m.StartsWith("Epoch ", StringComparison.Ordinal)), Is.EqualTo(2));
        Assert.That(factory.Messages.Any(m => m.StartsWith("Training stopped (MaxEpochsReached)", StringComparison.Ordinal)), Is.True);
    }

    private static IEnumerable<TestCaseData> InvalidOptions()
    {
        yield return new TestCaseData(new TrainingOptions { BatchSize = 0 }, "BatchSize");
        yield return new TestCaseData(new TrainingOptions { MaxEpochs = 0 }, "MaxEpochs");
        yield return new TestCaseData(new TrainingOptions { MaxDuration = TimeSpan.Zero }, "MaxDuration");
        yield return new TestCaseData(new TrainingOptions { LearningRate = -1 }, "LearningRate");
        yield return new TestCaseData(new TrainingOptions { LearningRate = double.NaN }, "LearningRate");
        yield return new TestCaseData(new TrainingOptions { Workers = 0 }, "Workers");
        yield return new TestCaseData(new TrainingOptions { Beta1 = 1 }, "Beta1");
        yield return new TestCaseData(new TrainingOptions { Epsilon = 0 }, "Epsilon");
        yield return new TestCaseData(new TrainingOptions { GradientClipValue = -1 }, "GradientClipValue");
        yield return new TestCaseData(new TrainingOptions { PlateauPatience = 0 }, "PlateauPatience");
        yield return new TestCaseData(new TrainingOptions { PlateauDecayFactor = 1 }, "PlateauDecayFactor");
        yield return new TestCaseData(new TrainingOptions { CosineEpochs = 0 }, "CosineEpochs");
        yield return new TestCaseData(new TrainingOptions { CosineMinFactor = 2 }, "CosineMinFactor");
        yield return new TestCaseData(new TrainingOptions { EarlyStoppingPatience = -1 }, "EarlyStoppingPatience");
        yield return new TestCaseData(new TrainingOptions { Optimizer = (OptimizerKind)9 }, "Optimizer");
        yield return new TestCaseData(new TrainingOptions { Schedule = (ScheduleKind)9 }, "Schedule");
    }

    [TestCaseSource(nameof(InvalidOptions))]
    public void Options_OutOfRange_NameTheOption(TrainingOptions options, string name)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Trainer(Model(), options));
        Assert.That(ex!.ParamName, Is.EqualTo(name));
    }

    [Test]
    public void Options_PlateauWithoutValidation_NamesValidateEveryEpoch()
    {
        var ex = Assert.Throws<ArgumentException>(() => _ = new Trainer(Model(), new TrainingOptions { ValidateEveryEpoch = false }));
        Assert.That(ex!.ParamName, Is.EqualTo("ValidateEveryEpoch"));
        Assert.DoesNotThrow(() => TrainingOptions.Qinco2Preset().Validate());
    }

    [Test]
    public void WithoutValidation_KeepsLastParameters()
    {
        LinearRegressionModel model = Model();
        var options = new TrainingOptions { BatchSize = 64, MaxEpochs = 2, LearningRate = 0.02, Schedule = ScheduleKind.Constant, ValidateEveryEpoch = false };
        TrainingResult result = new Trainer(model, options).Train();
        Assert.That(model.ValidationCalls, Is.Zero);
        Assert.That(result.BestEpoch, Is.Null);
        Assert.That(result.RestoredBestParameters, Is.False);
        Assert.That(result.History[0].ValidationMetric, Is.Null);
    }

    private sealed class ListLoggerFactory : ILoggerFactory, ILogger
    {
        public List<string> Messages { get; } = [];

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public ILogger CreateLogger(string categoryName) => this;

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                lock (Messages)
                {
                    Messages.Add(formatter(state, exception));
                }
            }
        }
    }
}
