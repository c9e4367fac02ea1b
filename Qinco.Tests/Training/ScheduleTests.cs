using System;
using System.Linq;
using NUnit.Framework;
using Qinco.Training;

namespace Qinco.Tests.Training;

public sealed class ScheduleTests
{
    private static StopReason[] Feed(PlateauSchedule s, params double[] values) => values.Select(s.Append).ToArray();

    [Test]
    public void Plateau_DropsAfterPatienceEpochsWithoutNewBest()
    {
        var s = new PlateauSchedule(1e-3);
        // best 8 at E = 3, then worse values: E = 11, 12 still see the best inside the window of 10, E = 13 does not.
        Feed(s, 10, 9, 8);
        for (int e = 4; e <= 12; e++)
        {
            Assert.That(s.Append(11), Is.EqualTo(StopReason.None));
            Assert.That(s.LearningRate, Is.EqualTo(1e-3), $"E = {e}");
        }
        Assert.That(s.Append(11), Is.EqualTo(StopReason.None));
        Assert.That(s.LearningRate, Is.EqualTo(1e-4).Within(1e-18));
        Assert.That(s.LastChange, Is.EqualTo(13));
    }

    [Test]
    public void Plateau_ImprovementInsideWindowPreventsDrop()
    {
        var s = new PlateauSchedule(1e-3);
        Feed(s, 10, 11, 11, 11, 11, 11, 11, 11, 11, 11, 9, 11, 11);
        Assert.That(s.LearningRate, Is.EqualTo(1e-3));
    }

    [Test]
    public void Plateau_Lr1em3_GoesThrough3LevelsThenStopsAtFloor()
    {
        var s = new PlateauSchedule(1e-3);
        Assert.That(s.Append(1), Is.EqualTo(StopReason.None));
        StopReason reason = StopReason.None;
        int e = 1;
        while (reason == StopReason.None && e < 100)
        {
            reason = s.Append(2);
            e++;
            if (e == 11)
            {
                Assert.That(s.LearningRate, Is.EqualTo(1e-4).Within(1e-18));
            }
            if (e == 22)
            {
                Assert.That(s.LearningRate, Is.EqualTo(1e-5).Within(1e-18));
            }
        }
        Assert.That(reason, Is.EqualTo(StopReason.LearningRateBelowMinimum));
        Assert.That(e, Is.EqualTo(33));
    }

    [Test]
    public void Plateau_Lr1em4_StopsAtSecondDrop()
    {
        var s = new PlateauSchedule(1e-4);
        StopReason[] reasons = Feed(s, [1, .. Enumerable.Repeat(2.0, 21)]);
        Assert.That(reasons[..21], Is.All.EqualTo(StopReason.None));
        Assert.That(reasons[21], Is.EqualTo(StopReason.LearningRateBelowMinimum)); // E = 22
    }

    [Test]
    public void Plateau_StopPatienceRule()
    {
        var s = new PlateauSchedule(1, patience: 5, stopPatience: 3);
        StopReason[] r = Feed(s, 5, 6, 7, 8);
        Assert.That(r, Is.EqualTo(new[] { StopReason.None, StopReason.None, StopReason.None, StopReason.PlateauPatienceExhausted }));
        Assert.That(s.LearningRate, Is.EqualTo(1));
    }

    [Test]
    public void Plateau_ConfigurableFactorAndFloor()
    {
        var s = new PlateauSchedule(1, patience: 2, stopPatience: 100, decayFactor: 2, minLearningRate: 0.3);
        StopReason[] r = Feed(s, 1, 2, 2, 2, 2, 2, 2);
        // drops at E = 3 (0.5), E = 6 (0.25 < 0.3 → stop)
        Assert.That(r[2], Is.EqualTo(StopReason.None));
        Assert.That(r[5], Is.EqualTo(StopReason.LearningRateBelowMinimum));
        Assert.That(s.LearningRate, Is.EqualTo(0.25));
    }

    [Test]
    public void Plateau_StateRoundTrip_ContinuesIdentically()
    {
        double[] script = [5, 4, 4.5, 4.6, 4.7, 4.8, 4.9, 5, 5.1, 5.2, 5.3, 5.4, 5.5, 5.6, 5.7, 5.8, 5.9, 6, 6.1, 6.2, 6.3, 6.4, 6.5];
        var a = new PlateauSchedule(1e-3);
        var b = new PlateauSchedule(1e-3);
        Feed(a, script[..7]);
        b.ImportState(a.ExportState());
        foreach (double v in script[7..])
        {
            Assert.That(b.Append(v), Is.EqualTo(a.Append(v)));
            Assert.That(b.LearningRate, Is.EqualTo(a.LearningRate));
        }
        Assert.That(b.ExportState(), Is.EqualTo(a.ExportState()));
        Assert.Throws<ArgumentException>(() => b.ImportState([1.0, 0, 5]));
    }

    [Test]
    public void Plateau_NeedsValidationValue()
    {
        Assert.Throws<InvalidOperationException>(() => new PlateauSchedule(1e-3).OnEpochCompleted(0, null));
    }

    [TestCase(0.5, 8e-4 / 6)]
    [TestCase(3, 8e-4)]
    [TestCase(33, 8e-4 * 0.70710678118654757)]
    [TestCase(63, 8e-4 * 1e-3)]
    [TestCase(70, 8e-4 * 1e-3)]
    [TestCase(0, 8e-4 * 1e-3)]
    [TestCase(1.5, 8e-4 / 2)]
    public void Cosine_ValuesOfFormula58(double t, double expected)
    {
        var s = new WarmupCosineSchedule(8e-4);
        Assert.That(s.LearningRateAt(t), Is.EqualTo(expected).Within(1e-12 * 8e-4));
    }

    [Test]
    public void Cosine_PerBatchFractionalEpoch()
    {
        var s = new WarmupCosineSchedule(8e-4);
        // Batch 4 of 10 in epoch 0 → t = 0.5; last batch of epoch 2 → t = 3.
        Assert.That(s.GetLearningRate(0, 4, 10), Is.EqualTo(s.LearningRateAt(0.5)));
        Assert.That(s.GetLearningRate(2, 9, 10), Is.EqualTo(8e-4).Within(1e-18));
        Assert.That(s.GetLearningRate(32, 99, 100), Is.EqualTo(s.LearningRateAt(33)));
        Assert.That(s.OnEpochCompleted(100, 1.0), Is.EqualTo(StopReason.None));
    }

    [Test]
    public void Cosine_ReferenceFloorCanBeReproduced()
    {
        var s = new WarmupCosineSchedule(8e-4, minFactor: 8e-7);
        Assert.That(s.LearningRateAt(70), Is.EqualTo(8e-4 * 8e-7).Within(1e-20));
    }

    [Test]
    public void Schedules_ValidateArguments()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new PlateauSchedule(1e-3, patience: 0))!.ParamName, Is.EqualTo("patience"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new PlateauSchedule(1e-3, decayFactor: 1))!.ParamName, Is.EqualTo("decayFactor"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new WarmupCosineSchedule(1e-3, cosineEpochs: 0))!.ParamName, Is.EqualTo("cosineEpochs"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new WarmupCosineSchedule(0))!.ParamName, Is.EqualTo("learningRate"));
    }
}
