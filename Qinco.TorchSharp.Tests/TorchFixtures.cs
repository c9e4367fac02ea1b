using System;
using System.Collections.Generic;
using System.Linq;
using Qinco.Core;
using Qinco.Core.IO;
using Qinco.Tests;
using Qinco.Training;

namespace Qinco.TorchSharp.Tests;

/// <summary>Data and models shared by the TorchSharp tests: the SIFT split (skipped where absent) and QINCo's trainable model captured from a fit.</summary>
internal static class TorchFixtures
{
    /// <summary>Rows <paramref name="train"/> and <paramref name="validation"/> of sift10k_base.fvecs (the standard split is 0:4500 and 4500:5000).</summary>
    public static (VectorSet Train, VectorSet Validation) Sift(string train = "0:4500", string validation = "4500:5000")
    {
        string path = TestData.RequireDataset("sift10k/sift10k_base.fvecs");
        return (VectorFile.Read(path, RowRange.Parse(train)), VectorFile.Read(path, RowRange.Parse(validation)));
    }

    /// <summary>
    /// Synthetic clustered vectors (Core's <see cref="SyntheticData"/>, D = 32): present on every machine, so the tests that
    /// use them also run in CI, where the shared datasets are absent.
    /// </summary>
    public static (VectorSet Train, VectorSet Validation) Synthetic(int train = 1500, int validation = 200) =>
        (SyntheticData.Generate(train, 32, seed: 1, distributionSeed: 9), SyntheticData.Generate(validation, 32, seed: 2, distributionSeed: 9));

    /// <summary>
    /// A small QINCo: M = 4 steps of K = 64, one block of 64, PyTorch-default layers (so every tensor has a gradient).
    /// </summary>
    public static QincoQuantizerBuilder SmallQinco(EncoderSearch search, int dimension = 32) => Quantizer.Qinco(dimension).WithSteps(4).WithCodebookBits(6)
        .WithResidualBlocks(1).WithHiddenSize(64).WithZeroInitialization(false).WithInitializationBeamWidth(1)
        .WithEncoding(search.BeamWidth, search.Candidates);

    /// <summary>
    /// The <see cref="ITrainableModel"/> a fit hands to the trainer (QINCo's, which implements <see cref="IQincoTrainingSource"/>),
    /// captured from the device factory; the fit is abandoned there, after the RQ initialisation.
    /// </summary>
    public static ITrainableModel CaptureTrainingModel(QincoQuantizerBase quantizer, VectorSet train, VectorSet validation)
    {
        ITrainableModel? captured = null;
        try
        {
            quantizer.Fit(train, validation);
        }
        catch (CapturedException ex)
        {
            captured = ex.Model;
        }
        return captured ?? throw new InvalidOperationException("The fit did not reach the device factory.");
    }

    /// <summary>The device factory <see cref="CaptureTrainingModel"/> needs in the quantizer's options.</summary>
    public static ITrainingDevice Capture(ITrainableModel model, TrainingOptions options) => throw new CapturedException(model);

    /// <summary>Largest |a − b| / max|b| over a tensor (a relative error that tolerates zeros).</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        double scale = 0, error = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(expected[i]));
            error = Math.Max(error, Math.Abs(actual[i] - expected[i]));
        }
        return scale == 0 ? error : error / scale;
    }

    /// <summary>The mean gradient the managed worker (one CPU worker) computes for <paramref name="rows"/>, and its summed loss.</summary>
    public static (double Loss, float[][] Gradients) ManagedGradients(ITrainableModel model, int[] rows)
    {
        float[][] gradients = model.Parameters.Select(p => new float[p.Length]).ToArray();
        IGradientWorker worker = model.CreateWorker(0);
        double loss = worker.ComputeLossAndGradients(rows, gradients, default);
        (worker as IDisposable)?.Dispose();
        foreach (float[] g in gradients)
        {
            for (int i = 0; i < g.Length; i++)
            {
                g[i] /= rows.Length;
            }
        }
        return (loss, gradients);
    }

    /// <summary>A small QINCo's trainable model after its RQ initialisation on <paramref name="train"/> (see <see cref="CaptureTrainingModel"/>).</summary>
    public static ITrainableModel SmallModel(EncoderSearch search, VectorSet train, VectorSet validation) =>
        CaptureTrainingModel(SmallQinco(search, train.Dimension).WithTraining(t => t.With(o => o with { DeviceFactory = Capture })).Build(), train, validation);

    /// <summary>The mean gradient and summed loss of a <see cref="TorchTrainingDevice"/> on <paramref name="devices"/>.</summary>
    public static (double Loss, float[][] Gradients) TorchGradients(ITrainableModel model, int[] rows, string devices)
    {
        using var device = new TorchTrainingDevice(model, new TrainingOptions(), TorchRuntime.ResolveDevices(devices));
        double loss = device.ComputeLossAndGradients(rows, default);
        float[][] gradients = model.Parameters.Select(p => new float[p.Length]).ToArray();
        device.CopyGradientsTo(gradients);
        return (loss, gradients);
    }

    /// <summary><paramref name="count"/> distinct rows of 0..<paramref name="total"/>−1 in a seeded random order.</summary>
    public static int[] Rows(int count, int total, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, total).OrderBy(_ => random.Next()).Take(count).ToArray();
    }

    private sealed class CapturedException(ITrainableModel model) : Exception("captured")
    {
        public ITrainableModel Model { get; } = model;
    }
}
