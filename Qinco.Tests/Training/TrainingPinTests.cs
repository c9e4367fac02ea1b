using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Threading;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Core.Numerics;
using Qinco.Training;

namespace Qinco.Tests.Training;

/// <summary>
/// Pins, by SHA-256, what short training runs produced before the trainer was split into a run state, a stop policy
/// and a device seam (issue 10, recorded on commit 13ffae0): the final parameters, the history with every
/// deterministic field of every progress report, and the bytes of every checkpoint (with the wall-clock field and the
/// CRC that covers it left out). A refactoring of the training engine must leave all three unchanged.
/// </summary>
/// <remarks>
/// The linear-regression runs use only scalar double arithmetic, element-wise TensorPrimitives and the Adam kernel
/// (whose vector and scalar paths agree), so their hashes do not depend on the SIMD width. The QINCo run encodes with
/// the SIMD kernels and is pinned for the variant it was recorded with (Vector512) only.
/// </remarks>
public sealed class TrainingPinTests
{
    /// <summary>Byte offset of the elapsed-ticks field in a checkpoint (magic 8, versions 8, 3 i32, 2 i32, u8, f64, i64).</summary>
    private const int ElapsedTicksOffset = 53;

    private static IEnumerable<TestCaseData> Runs()
    {
        yield return new TestCaseData("plateau-adam-w1", StopReason.LearningRateBelowMinimum, "1063D82C1695DAA41CF9C78AE7E73231A0636348B6B2EE8E529C397092BA2230", "33B66ED22C2FF3486BB29E4961A544A2DCBC5896406AFAB3E01909FD947A3624", "4AACD6D3C4698E5207C4337B0635CA0D9F48733542A4A223F2BFC1B3F26741AB").SetName("Pin_PlateauAdam_OneWorker");
        yield return new TestCaseData("cosine-adamw-w3", StopReason.EarlyStopping, "7A4C3C794241560EEE2467F2B6E53D1CD2FA4AF049611133A02EFC5F6C08DE5C", "D598B78698E67FF379893454D0B07395C77EE272D88F81456EA14FEF86A6D647", "178D2FC9F70994495E4BF1912236BD89AA352490E2590B4AA0D98831551ED7D8").SetName("Pin_CosineAdamW_ThreeWorkers_EarlyStopping");
        yield return new TestCaseData("constant-w2-edits", StopReason.MaxEpochsReached, "B593B3D45D0E58855F1BF24D99B44F4141C30808EA61FCC790C9E3D4D1B5EAF7", "626FFB9204729A78A6314C9ACFAB9D887FAF55F62D56A44F137F8A84491A1A21", "C5D48F88560152EE7E5DB6EA3F392C60FCD2024460E88497E00DAE20D2420B69").SetName("Pin_Constant_TwoWorkers_HostEditsWithoutValidation");
        yield return new TestCaseData("cancel-mid-epoch-w2", StopReason.Cancelled, "B68E70E645A9DA78650955589181F2D9E7B91C604F9B8D9D0BEC08C23645AD8C", "E46E40664B59A460616359CC396205B541B443DF9BEAAA6B60EAD16754488EEA", "36E2E901E5F2CBA2C809D6DCCD6E3D4A26C119725C6A69D24C8F4E6334973C55").SetName("Pin_CancelMidEpoch_TwoWorkers");
    }

    [TestCaseSource(nameof(Runs))]
    public void ShortRun_GivesPinnedParametersHistoryAndCheckpoints(string run, StopReason stopReason, string parametersHash, string historyHash, string checkpointsHash)
    {
        RunDigest digest = RunAndDigest(run);
        TestContext.Out.WriteLine($"{run}: {digest.ParametersHash} {digest.HistoryHash} {digest.CheckpointsHash}");
        Assert.That(digest.StopReason, Is.EqualTo(stopReason));
        Assert.That(digest.ParametersHash, Is.EqualTo(parametersHash), "final parameters");
        Assert.That(digest.HistoryHash, Is.EqualTo(historyHash), "progress reports, history and result");
        Assert.That(digest.CheckpointsHash, Is.EqualTo(checkpointsHash), "checkpoint bytes");
    }

    /// <summary>
    /// Trains a fresh model with the settings of <paramref name="run"/> (then <paramref name="adjust"/>) and hashes
    /// the final parameters, every progress report with the history and result, and every checkpoint.
    /// </summary>
    internal static RunDigest RunAndDigest(string run, Func<TrainingOptions, TrainingOptions>? adjust = null)
    {
        var model = new LinearRegressionModel(rows: 300, dimension: 6, seed: 3);
        var history = new MemoryStream();
        var record = new BinaryWriter(history);
        var checkpoints = new MemoryStream();
        using var cts = new CancellationTokenSource();
        TrainingOptions options = Configure(run, model);
        var trainer = new Trainer(model, adjust is null ? options : adjust(options)) { CheckpointSink = c => AppendCheckpoint(checkpoints, c) };
        var progress = new SyncProgress<TrainingProgress>(p =>
        {
            record.Write((int)p.Phase);
            record.Write(p.Epoch);
            record.Write(p.Batch);
            record.Write(p.BatchesPerEpoch);
            record.Write(p.TrainLoss);
            record.Write(p.ValidationMetric ?? -1);
            record.Write(p.BestValidationMetric ?? -1);
            record.Write(p.LearningRate);
            record.Write((int)p.StopReason);
            if (run == "cancel-mid-epoch-w2" && p.Phase == TrainingPhase.BatchCompleted && p.Epoch == 1 && p.Batch == 2)
            {
                cts.Cancel();
            }
        });
        TrainingResult result = trainer.Train(progress, cts.Token);
        foreach (EpochRecord e in result.History)
        {
            record.Write(e.Epoch);
            record.Write(e.TrainLoss);
            record.Write(e.ValidationMetric ?? -1);
            record.Write(e.LearningRate);
        }
        record.Write((int)result.StopReason);
        record.Write(result.EpochsCompleted);
        record.Write(result.BestEpoch ?? -1);
        record.Write(result.BestValidationMetric ?? -1);
        record.Write(result.InitialValidationMetric ?? -1);
        record.Write(result.RestoredBestParameters);
        record.Flush();
        AppendCheckpoint(checkpoints, result.Checkpoint);
        return new RunDigest(result.StopReason, Sha256(Floats(model.Parameters.CopyValuesToSnapshot())), Sha256(history.ToArray()), Sha256(checkpoints.ToArray()), result.Checkpoint);
    }

    [Test]
    public void QincoFit_TwoWorkers_GivesPinnedModel()
    {
        if (Kernels.Active != KernelVariant.Vector512)
        {
            Assert.Ignore($"The pinned hash was recorded with the Vector512 kernels; this process runs {Kernels.Active}.");
        }
        var rng = new Random(5);
        var train = new VectorSet(600, 8);
        for (int i = 0; i < train.Data.Length; i++)
        {
            train.Data[i] = (float)(rng.NextDouble() * 4 - 2);
        }
        IQuantizer qinco = Quantizer.Qinco(8).WithSteps(2).WithCodebookBits(4).WithResidualBlocks(1).WithHiddenSize(8)
            .WithZeroInitialization(false).WithSeed(9).WithThreads(2)
            .WithTraining(t => t.MaxEpochs(3).BatchSize(128).LearningRate(1e-3).Workers(2))
            .Build();
        qinco.Fit(train);
        var saved = new MemoryStream();
        qinco.Save(saved);
        TestContext.Out.WriteLine($"qinco: {Sha256(saved.ToArray())}");
        // Recorded after the core redesign, whose training forward pass is the encoder's (codeword tables of ALGORITHM.md
        // §8.1) instead of a concat GEMM: same function, other rounding. The trainer refactoring left this hash unchanged.
        // Re-recorded when the PCA of the RQ initialisation's progressive k-means moved from Jacobi to Householder/QL
        // (issue 13): its eigenvectors differ at rounding level.
        Assert.That(Sha256(saved.ToArray()), Is.EqualTo("B417905489079B23FC32C5E80A45555DE1B4A0EB5A48D40D34AF0063A2A2B9D6"));
    }

    internal static TrainingOptions Configure(string run, LinearRegressionModel model)
    {
        switch (run)
        {
            case "plateau-adam-w1":
                model.ScriptedValidation = [2.5, 3, 2, 2.5, 2.6, 2.7, 2.8, 2.9, 3.0, 3.1];
                return new TrainingOptions
                {
                    BatchSize = 40, MaxEpochs = 10, LearningRate = 0.02, Schedule = ScheduleKind.Plateau, PlateauPatience = 2,
                    PlateauStopPatience = 6, MinLearningRate = 1e-4, ValidateInitialParameters = true, CheckpointIntervalEpochs = 2, Seed = 17,
                };
            case "cosine-adamw-w3":
                model.ScriptedValidation = [5, 4, 3.99995, 3.9999, 3.99999, 4, 4];
                return TrainingOptions.Qinco2Preset() with
                {
                    BatchSize = 32, MaxEpochs = 10, LearningRate = 0.01, WarmupEpochs = 1, CosineEpochs = 5, GradientClipValue = 0.5,
                    EarlyStoppingPatience = 2, EarlyStoppingMinDelta = 1e-4, Workers = 3, NumpyCompatibleShuffle = true,
                    DropLastPartialBatch = true, CheckpointIntervalEpochs = 1, Seed = 123,
                };
            case "constant-w2-edits":
                model.OnEpochEndAction = epoch => model.Bias.Value[0] = 0.1f * epoch;
                return new TrainingOptions
                {
                    BatchSize = 50, MaxEpochs = 4, LearningRate = 0.03, Schedule = ScheduleKind.Constant, ValidateEveryEpoch = false,
                    ShuffleEachEpoch = false, ResetOptimizerEachEpoch = false, Workers = 2, CheckpointIntervalEpochs = 3,
                };
            default:
                return new TrainingOptions
                {
                    BatchSize = 64, MaxEpochs = 5, LearningRate = 0.01, Schedule = ScheduleKind.Constant, Workers = 2, Seed = 4,
                    CheckpointIntervalEpochs = 1,
                };
        }
    }

    internal static void AppendCheckpoint(MemoryStream destination, TrainingCheckpoint checkpoint)
    {
        var bytes = new MemoryStream();
        checkpoint.Save(bytes);
        byte[] b = bytes.ToArray();
        destination.Write(b, 0, ElapsedTicksOffset);
        destination.Write(b, ElapsedTicksOffset + 8, b.Length - ElapsedTicksOffset - 8 - 4);
    }

    private static byte[] Floats(float[] values)
    {
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return bytes;
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes));
}

/// <summary>What <see cref="TrainingPinTests.RunAndDigest"/> hashed, and the run's final checkpoint.</summary>
internal sealed record RunDigest(StopReason StopReason, string ParametersHash, string HistoryHash, string CheckpointsHash, TrainingCheckpoint Checkpoint);
