using System;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Training;

namespace Qinco.Tests.Quantizers;

/// <summary>The training recipe chosen by training-set size (issue 17, item 2): the rule and what each recipe sets and keeps.</summary>
public sealed class TrainingRecipeTests
{
    [TestCase(0, QincoTrainingRecipe.Plateau)]
    [TestCase(4_500, QincoTrainingRecipe.Plateau)]
    [TestCase(99_999, QincoTrainingRecipe.Plateau)]
    [TestCase(100_000, QincoTrainingRecipe.WarmupCosine)]
    [TestCase(500_000, QincoTrainingRecipe.WarmupCosine)]
    [TestCase(10_000_000_000, QincoTrainingRecipe.WarmupCosine)]
    public void ChooseRecipe_PlateauBelowTheLargeSetSize_WarmupCosineFromIt(long rows, QincoTrainingRecipe expected)
    {
        Assert.That(QincoOptions.ChooseRecipe(rows), Is.EqualTo(expected));
        Assert.That(QincoOptions.LargeTrainingSetRows, Is.EqualTo(100_000));
    }

    [Test]
    public void ChooseRecipe_RefusesANegativeSize() =>
        Assert.That(() => QincoOptions.ChooseRecipe(-1), Throws.InstanceOf<ArgumentOutOfRangeException>());

    [Test]
    public void BuilderForALargeSet_GetsTheCosineRecipe_KeepingWorkersBudgetSeedAndArchitecture()
    {
        var budget = TimeSpan.FromMinutes(30);
        QincoOptions options = Quantizer.Qinco(16).WithHiddenSize(64)
            .WithTraining(t => t.Workers(3).MaxDuration(budget).Seed(77).NumpyCompatibleShuffle())
            .WithTrainingRecipeFor(500_000).Options;
        TrainingOptions t = options.Training;
        Assert.That((t.Schedule, t.ScheduleFollowsBudget, t.Optimizer, t.LearningRate, t.BatchSize), Is.EqualTo((ScheduleKind.WarmupCosine, true, OptimizerKind.AdamW, 8e-4, 1024)));
        Assert.That((t.Workers, t.MaxDuration, t.Seed, t.NumpyCompatibleShuffle, t.ValidateInitialParameters), Is.EqualTo((3, (TimeSpan?)budget, 77, true, true)));
        Assert.That((options.Version, options.HiddenSize, options.Search), Is.EqualTo((QincoVersion.Qinco1, 64, new EncoderSearch(5, 16))));
        Assert.That(options.TrainingSearch, Is.EqualTo(new EncoderSearch(1, 16)), "the cosine recipe trains with the greedy 16-candidate search");
    }

    [Test]
    public void TrainingSearch_IsTheRecipes_UntilSetAfterIt()
    {
        QincoOptions plateau = Quantizer.Qinco(16).WithTrainingRecipe(QincoTrainingRecipe.WarmupCosine).WithTrainingRecipe(QincoTrainingRecipe.Plateau).Options;
        Assert.That(plateau.TrainingSearch, Is.Null, "the plateau recipe trains with the encoder's search");
        QincoOptions chosen = Quantizer.Qinco(16).WithTrainingRecipe(QincoTrainingRecipe.WarmupCosine).WithTrainingSearch(new EncoderSearch(2, 8)).Options;
        Assert.That((chosen.TrainingSearch, chosen.Search), Is.EqualTo(((EncoderSearch?)new EncoderSearch(2, 8), new EncoderSearch(5, 16))));
        Assert.That(Quantizer.Qinco2(16).Options.TrainingSearch, Is.Null, "QINCo2's presets keep the reference's: training searches as the encoder");
        Assert.That(() => Quantizer.Qinco(16).WithTrainingSearch(new EncoderSearch(0, 16)).Build(),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("BeamWidth"));
    }

    [Test]
    public void BuilderForASmallSet_KeepsTheDefaultPlateauRecipe()
    {
        QincoOptions small = Quantizer.Qinco(16).WithTraining(t => t.Workers(1)).WithTrainingRecipeFor(4_500).Options;
        Assert.That(small.Training, Is.EqualTo(QincoOptions.DefaultTraining() with { Workers = 1 }));
        Assert.That(small.TrainingSearch, Is.Null);
        // A later WithTraining overrides single values of the chosen recipe.
        QincoOptions tuned = Quantizer.Qinco(16).WithTrainingRecipe(QincoTrainingRecipe.WarmupCosine).WithTraining(t => t.LearningRate(1e-3)).Options;
        Assert.That((tuned.Training.LearningRate, tuned.Training.Schedule), Is.EqualTo((1e-3, ScheduleKind.WarmupCosine)));
    }

    [Test]
    public void WithTrainingRecipe_RefusesAnUndefinedValue() =>
        Assert.That(() => new QincoOptions { Dimension = 4 }.WithTrainingRecipe((QincoTrainingRecipe)9), Throws.InstanceOf<ArgumentOutOfRangeException>());
}
