using System;
using System.Linq;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Training;

namespace Qinco.TorchSharp.Tests;

/// <summary>The TorchSharp device computes what the managed worker computes, on the same batch and parameters (CPU libtorch).</summary>
public sealed class TorchTrainingDeviceTests
{
    /// <summary>Loss and every parameter's mean gradient agree with the managed worker's to 1e-4 (relative to the tensor's largest entry).</summary>
    [TestCase(5, 16, TestName = "LossAndGradients_EqualTheManagedWorker(beam 5 x 16)")]
    [TestCase(1, 0, TestName = "LossAndGradients_EqualTheManagedWorker(greedy exhaustive)")]
    public void LossAndGradients_EqualTheManagedWorker(int beam, int candidates)
    {
        TorchSetup.RequireRuntime();
        (VectorSet train, VectorSet validation) = TorchFixtures.Synthetic();
        ITrainableModel model = TorchFixtures.SmallModel(new EncoderSearch(beam, candidates), train, validation);
        AssertGradientsMatchTheManagedWorker(model, TorchFixtures.Rows(256, train.Count, seed: 7), "cpu");
    }

    /// <summary>
    /// IVF-QINCo: encoding starts at step 1 from each row's frozen list, <c>codebook0</c> (the centroids) is no
    /// parameter and step 0 adds no loss term; loss and gradients still equal the managed worker's.
    /// </summary>
    [Test]
    public void IvfQinco_LossAndGradients_EqualTheManagedWorker()
    {
        TorchSetup.RequireRuntime();
        (VectorSet train, VectorSet validation) = TorchFixtures.Synthetic();
        IvfQincoQuantizer quantizer = Quantizer.IvfQinco(32).WithLists(16).WithSteps(3).WithCodebookBits(6).WithResidualBlocks(1).WithHiddenSize(64)
            .WithZeroInitialization(false).WithInitializationBeamWidth(1).WithEncoding(4, 16)
            .WithTraining(t => t.With(o => o with { DeviceFactory = TorchFixtures.Capture })).Build();
        ITrainableModel model = TorchFixtures.CaptureTrainingModel(quantizer, train, validation);
        Assert.That(model.Parameters.Select(p => p.Name), Does.Not.Contain("codebook0"));
        AssertGradientsMatchTheManagedWorker(model, TorchFixtures.Rows(200, train.Count, seed: 13), "cpu,cpu");
    }

    /// <summary>Two CPU replicas, each on half the batch, reduce to the single replica's gradient up to the rounding of one addition.</summary>
    [Test]
    public void TwoReplicas_GiveTheGradientOfOne()
    {
        TorchSetup.RequireRuntime();
        (VectorSet train, VectorSet validation) = TorchFixtures.Synthetic();
        ITrainableModel model = TorchFixtures.SmallModel(new EncoderSearch(5, 16), train, validation);
        int[] rows = TorchFixtures.Rows(255, train.Count, seed: 3); // odd: unequal shards

        (double oneLoss, float[][] one) = TorchFixtures.TorchGradients(model, rows, "cpu");
        (double twoLoss, float[][] two) = TorchFixtures.TorchGradients(model, rows, "cpu,cpu");

        Assert.That(twoLoss, Is.EqualTo(oneLoss).Within(Math.Abs(oneLoss) * 1e-5));
        for (int i = 0; i < one.Length; i++)
        {
            Assert.That(TorchFixtures.RelativeError(two[i], one[i]), Is.LessThan(1e-5), model.Parameters[i].Name);
        }
    }

    /// <summary>
    /// Three optimiser steps on the same batch: two CPU replicas end with the parameters of one device, within 1e-5 of
    /// each value (relative) plus 1e-7 (a ten-thousandth of the step): the shards' gradients are summed in another
    /// order, and Adam's first steps move every parameter by about the learning rate whatever the gradient's size.
    /// </summary>
    [Test]
    public void TwoReplicas_TakeTheStepsOfOne()
    {
        TorchSetup.RequireRuntime();
        (VectorSet train, VectorSet validation) = TorchFixtures.Synthetic();
        ITrainableModel model = TorchFixtures.SmallModel(new EncoderSearch(5, 16), train, validation);
        int[] rows = TorchFixtures.Rows(255, train.Count, seed: 11);
        float[] start = model.Parameters.CopyValuesToSnapshot();

        float[] Train(string devices)
        {
            model.Parameters.CopyValuesFrom(start);
            using var device = new TorchTrainingDevice(model, new TrainingOptions(), TorchRuntime.ResolveDevices(devices));
            Assert.That(device.Devices, Has.Count.EqualTo(devices.Split(',').Length));
            for (int step = 0; step < 3; step++)
            {
                device.ComputeLossAndGradients(rows, default);
                device.Step(1e-3);
            }
            device.CopyParametersToHost();
            return model.Parameters.CopyValuesToSnapshot();
        }

        float[] one = Train("cpu"), two = Train("cpu,cpu");
        double worst = 0;
        for (int i = 0; i < one.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(two[i] - one[i]) / ((1e-5 * Math.Abs(one[i])) + 1e-7));
        }
        TestContext.Progress.WriteLine($"largest difference: {worst:F3} of the tolerance; moved {one.Zip(start).Count(p => p.First != p.Second)} of {one.Length} values");
        Assert.That(worst, Is.LessThanOrEqualTo(1.0));
        Assert.That(one, Is.Not.EqualTo(start));
    }

    /// <summary>
    /// From the same gradients, the device's Adam step is the managed optimiser's up to a few float ulps: the same
    /// operations in the same order, but libtorch's CPU kernels may contract a multiply and an add (one rounding fewer).
    /// </summary>
    [TestCase(OptimizerKind.Adam, 0.0, null)]
    [TestCase(OptimizerKind.AdamW, 0.1, 0.001)]
    public void AdamStep_IsTheManagedOptimisers(OptimizerKind kind, double weightDecay, double? clip)
    {
        TorchSetup.RequireRuntime();
        (VectorSet train, VectorSet validation) = TorchFixtures.Synthetic(1000);
        ITrainableModel model = TorchFixtures.SmallModel(new EncoderSearch(2, 8), train, validation);
        var options = new TrainingOptions { Optimizer = kind, WeightDecay = weightDecay, GradientClipValue = clip };
        int[] rows = TorchFixtures.Rows(128, train.Count, seed: 5);
        float[] expected = model.Parameters.CopyValuesToSnapshot();

        using var device = new TorchTrainingDevice(model, options, TorchRuntime.ResolveDevices("cpu"));
        for (int step = 0; step < 3; step++)
        {
            device.ComputeLossAndGradients(rows, default);
            device.CopyGradientsTo(model.Parameters.Select(p => p.Gradient).ToArray());
            // Managed step on the host copy from the device's own gradients.
            model.Parameters.CopyValuesFrom(expected);
            Optimizer managed = kind == OptimizerKind.AdamW ? new AdamW(model.Parameters, Options(options)) : new Adam(model.Parameters, Options(options));
            if (step > 0)
            {
                managed.ImportState(device.ExportOptimizerState());
            }
            managed.Step(1e-3);
            expected = model.Parameters.CopyValuesToSnapshot();
            device.Step(1e-3);
            device.CopyParametersToHost();
            float[] actual = model.Parameters.CopyValuesToSnapshot();
            for (int i = 0; i < actual.Length; i++)
            {
                // A few ulps of the value, or of the step (lr 1e-3) where the value is near zero.
                Assert.That(actual[i], Is.EqualTo(expected[i]).Within((1e-6 * Math.Abs(expected[i])) + 1e-9), $"step {step + 1}, element {i}");
            }
        }
    }

    /// <summary>The summed loss (relative 1e-4) and every parameter's mean gradient (1e-4 of its largest entry) on <paramref name="devices"/> equal one managed worker's.</summary>
    private static void AssertGradientsMatchTheManagedWorker(ITrainableModel model, int[] rows, string devices)
    {
        (double managedLoss, float[][] managed) = TorchFixtures.ManagedGradients(model, rows);
        (double torchLoss, float[][] torch) = TorchFixtures.TorchGradients(model, rows, devices);

        Assert.That(torchLoss, Is.EqualTo(managedLoss).Within(Math.Abs(managedLoss) * 1e-4));
        for (int i = 0; i < managed.Length; i++)
        {
            double error = TorchFixtures.RelativeError(torch[i], managed[i]);
            TestContext.Progress.WriteLine($"{model.Parameters[i].Name}: relative gradient error {error:E2}");
            Assert.That(error, Is.LessThan(1e-4), model.Parameters[i].Name);
            Assert.That(managed[i].Any(g => g != 0), Is.True, $"{model.Parameters[i].Name} has a gradient");
        }
        TestContext.Progress.WriteLine($"loss managed {managedLoss:R} torch {torchLoss:R} relative {Math.Abs(torchLoss - managedLoss) / managedLoss:E2}");
    }

    private static AdamOptions Options(TrainingOptions o) => new() { Beta1 = o.Beta1, Beta2 = o.Beta2, Epsilon = o.Epsilon, WeightDecay = o.WeightDecay, GradientClipValue = o.GradientClipValue };
}
