using System;
using NUnit.Framework;
using Qinco.Training;

namespace Qinco.Tests.Training;

public sealed class TrainingBuilderTests
{
    [Test]
    public void Builder_ChangesOnlyWhatItIsTold_FromTheOptionsItStartsWith()
    {
        var start = new TrainingOptions { BatchSize = 256, Workers = 2, WeightDecay = 0.3 };
        TrainingOptions built = new TrainingBuilder(start).LearningRate(1e-3).MaxEpochs(7).Plateau(3, 9).Optimizer(OptimizerKind.AdamW)
            .With(o => o with { GradientClipValue = 0.1 }).Options;
        Assert.That(built, Is.EqualTo(start with
        {
            LearningRate = 1e-3, MaxEpochs = 7, PlateauPatience = 3, PlateauStopPatience = 9, Optimizer = OptimizerKind.AdamW,
            WeightDecay = 0, GradientClipValue = 0.1,
        }));
        Assert.That(new TrainingBuilder().Options, Is.EqualTo(new TrainingOptions()));
        Assert.Throws<ArgumentNullException>(() => new TrainingBuilder().With(null!));
    }
}
