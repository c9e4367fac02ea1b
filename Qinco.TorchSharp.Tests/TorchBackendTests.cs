using System;
using System.IO;
using System.Linq;
using NUnit.Framework;
using Qinco.Cli;
using Qinco.Core;
using Qinco.Core.IO;
using Qinco.Training;

namespace Qinco.TorchSharp.Tests;

/// <summary>The package's public surface on CPU libtorch: the device encoder, training through <c>WithTraining(t =&gt; t.Devices(...))</c> and <c>qinco train --device</c>, and its errors.</summary>
public sealed class TorchBackendTests
{
    /// <summary>The device encoder gives the managed encoder's codes; a differing row must be a float tie (the same reconstruction error within 1e-5).</summary>
    [TestCase(5, 16)]
    [TestCase(1, 0)]
    public void Encoder_GivesTheManagedCodes(int beam, int candidates)
    {
        TorchSetup.RequireRuntime();
        (VectorSet train, VectorSet validation) = TorchFixtures.Synthetic(1000);
        QincoQuantizer quantizer = TorchFixtures.SmallQinco(new EncoderSearch(beam, candidates)).WithTraining(t => t.MaxEpochs(1).BatchSize(256).Workers(1)).Build();
        quantizer.Fit(train, validation);
        VectorSet vectors = SyntheticData.Generate(600, 32, seed: 3, distributionSeed: 9);

        CodeSet managed = quantizer.Encode(vectors);
        using var encoder = new TorchQincoEncoder(quantizer, "cpu", batchSize: 256); // 600 rows: three batches, the last partial
        CodeSet device = encoder.Encode(vectors);

        VectorSet managedDecoded = quantizer.Decode(managed), deviceDecoded = quantizer.Decode(device);
        int differing = 0;
        for (int i = 0; i < vectors.Count; i++)
        {
            if (managed[i].SequenceEqual(device[i]))
            {
                continue;
            }
            differing++;
            double a = SquaredError(vectors.Row(i), managedDecoded.Row(i)), b = SquaredError(vectors.Row(i), deviceDecoded.Row(i));
            Assert.That(b, Is.EqualTo(a).Within(1e-5 * a), $"row {i}: codes differ by more than a float tie");
        }
        TestContext.Progress.WriteLine($"{differing} of {vectors.Count} codes differ (float ties)");
        Assert.That(differing, Is.LessThanOrEqualTo(vectors.Count / 100));
    }

    /// <summary>
    /// <c>WithTraining(t =&gt; t.Devices("cpu,cpu"))</c> runs the Training package's loop on two replicas: the same epochs,
    /// the per-epoch training loss and validation MSE of the managed trainer within 1e-3 (float drift: another summation
    /// order, and an occasional code that flips on a tie), and a model that encodes and decodes.
    /// </summary>
    /// <param name="sift">The SIFT split (rows 0:4500 and 4500:5000 of sift10k_base; skipped where the shared datasets are absent) instead of synthetic data.</param>
    [TestCase(false, TestName = "Fit_OnTwoReplicas_FollowsTheManagedTrajectory(synthetic)")]
    [TestCase(true, TestName = "Fit_OnTwoReplicas_FollowsTheManagedTrajectory(SIFT split)")]
    public void Fit_OnTwoReplicas_FollowsTheManagedTrajectory(bool sift)
    {
        TorchSetup.RequireRuntime();
        (VectorSet train, VectorSet validation) = sift ? TorchFixtures.Sift() : TorchFixtures.Synthetic(1000);
        TrainingResult Fit(Func<TrainingBuilder, TrainingBuilder> device)
        {
            QincoQuantizer quantizer = TorchFixtures.SmallQinco(new EncoderSearch(2, 8), train.Dimension)
                .WithTraining(t => device(t.MaxEpochs(3).BatchSize(sift ? 500 : 200).LearningRate(1e-3))).Build();
            quantizer.Fit(train, validation);
            Assert.That(quantizer.Decode(quantizer.Encode(validation)).Count, Is.EqualTo(validation.Count));
            return quantizer.LastTraining!;
        }

        TrainingResult managed = Fit(t => t.Workers(1));
        TrainingResult torch = Fit(t => t.Devices("cpu,cpu"));

        Assert.That(torch.EpochsCompleted, Is.EqualTo(managed.EpochsCompleted));
        for (int e = 0; e < managed.History.Count; e++)
        {
            EpochRecord m = managed.History[e], t = torch.History[e];
            TestContext.Progress.WriteLine($"epoch {e + 1}: loss managed {m.TrainLoss:G7} torch {t.TrainLoss:G7}; validation managed {m.ValidationMetric:G7} torch {t.ValidationMetric:G7}");
            Assert.That(t.TrainLoss, Is.EqualTo(m.TrainLoss).Within(1e-3 * m.TrainLoss), $"epoch {e + 1} loss");
            Assert.That(t.ValidationMetric!.Value, Is.EqualTo(m.ValidationMetric!.Value).Within(1e-3 * m.ValidationMetric.Value), $"epoch {e + 1} validation");
        }
    }

    /// <summary>QINCo2 models are refused before any torch work, with what the package lacks.</summary>
    [Test]
    public void Qinco2_IsRefusedNamingWhatIsMissing()
    {
        TorchSetup.RequireRuntime();
        VectorSet train = SyntheticData.Generate(300, 8, seed: 1), validation = SyntheticData.Generate(50, 8, seed: 2);
        QincoOptions options = QincoOptions.Qinco2(8, Qinco2Preset.S) with { Steps = 2, CodebookBits = 3, HiddenSize = 8, EmbeddingSize = null };
        var quantizer = new QincoQuantizer(options with { Training = options.Training with { MaxEpochs = 1, DeviceFactory = TorchTraining.DeviceFactory("cpu") } });

        var ex = Assert.Throws<NotSupportedException>(() => quantizer.Fit(train, validation));
        Assert.That(ex!.Message, Does.Contain("QINCo2").And.Contain("pre-selection").And.Contain("projections").And.Contain("dead-codeword"));
    }

    /// <summary>Device lists: syntax errors name the entry; CUDA on a CPU-only libtorch names the runtime packages to use instead.</summary>
    [Test]
    public void Devices_AreCheckedWithClearErrors()
    {
        Assert.That(TorchRuntime.ParseDevices(" CPU, cuda:1 ,cuda"), Is.EqualTo(new[] { "cpu", "cuda:1", "cuda" }));
        Assert.That(() => TorchRuntime.ParseDevices("cpu,gpu0"), Throws.ArgumentException.With.Message.Contains("'gpu0'"));
        Assert.That(() => TorchRuntime.ParseDevices(""), Throws.ArgumentException);
        Assert.That(() => new TrainingBuilder().Devices("cuda:x"), Throws.ArgumentException.With.Message.Contains("cuda:x"));
        TorchSetup.RequireRuntime();
        Assert.That(TorchRuntime.ResolveDevices("cpu,cpu"), Has.Count.EqualTo(2));
        if (TorchRuntime.CudaDeviceCount() == 0)
        {
            Assert.That(() => TorchRuntime.ResolveDevices("cuda:0"), Throws.TypeOf<TorchRuntimeException>().With.Message.Contains("CUDA is not available").And.Message.Contains("libtorch-cuda"));
        }
    }

    /// <summary><c>qinco train --device cpu,cpu</c> trains, saves and reports; a bad list is a usage error naming the entry.</summary>
    [Test]
    public void Cli_TrainsOnDevices()
    {
        TorchSetup.RequireRuntime();
        string folder = Path.Combine(Path.GetTempPath(), "qinco-torch-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            string data = Path.Combine(folder, "data.fvecs"), model = Path.Combine(folder, "m.qinco");
            VectorFile.WriteFvecs(data, SyntheticData.Generate(700, 16, seed: 1));
            (int code, string output, string error) = Run("train", "--method", "qinco", "--train", data, "--train-rows", "0:600", "--val", data, "--val-rows", "600:700",
                "--steps", "3", "--codebook-bits", "4", "--blocks", "1", "--hidden", "16", "--max-epochs", "1", "--batch-size", "200", "--device", "cpu,cpu", "--out", model);
            Assert.That(code, Is.EqualTo(0), error);
            Assert.That(output, Does.Contain("trained").And.Contain("validation MSE"));
            Assert.That(File.Exists(model));

            (code, _, error) = Run("train", "--method", "qinco", "--train", data, "--device", "tpu", "--out", model);
            Assert.That(code, Is.EqualTo(CliApp.Usage));
            Assert.That(error, Does.Contain("'tpu'"));
            (code, _, error) = Run("train", "--method", "qinco", "--train", data, "--device", "cpu", "--workers", "2", "--out", model);
            Assert.That(error, Does.Contain("--workers"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// The test-only GLIBCXX work-around refuses what it is not for (the reason is the skip message), and on the
    /// package's own binding changes exactly one flag, once.
    /// </summary>
    [Test]
    public void GlibcxxWorkaround_AppliesOnlyToItsCase()
    {
        Assert.That(() => GlibcxxWorkaround.MakeVersionWeak(new byte[100], out _), Throws.InvalidOperationException.With.Message.Contains("not an ELF file"));
        string unpatched = Path.Combine(AppContext.BaseDirectory, "unpatched", "libLibTorchSharp.so");
        if (!File.Exists(unpatched))
        {
            Assert.Ignore("The package's linux-x64 libLibTorchSharp.so is not in the test output (another OS, or the package is not restored).");
        }
        byte[] image = File.ReadAllBytes(unpatched), original = (byte[])image.Clone();
        Assert.That(GlibcxxWorkaround.MakeVersionWeak(image, out string outcome), Is.True, outcome);
        Assert.That(image.Zip(original).Count(p => p.First != p.Second), Is.EqualTo(1), "one byte (a flags field) changes");
        Assert.That(GlibcxxWorkaround.MakeVersionWeak(image, out outcome), Is.False);
        Assert.That(outcome, Does.Contain("already weak"));
        Assert.That(TorchRuntime.Explain("/x/libLibTorchSharp.so: cannot open shared object file: No such file or directory\n/lib/libstdc++.so.6: version `GLIBCXX_3.4.32' not found"),
            Does.Contain("GCC 13").And.Contain("GLIBCXX_3.4.32' not found").And.Not.Contain("/x/"));
    }

    private static (int Code, string Out, string Error) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static double SquaredError(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int j = 0; j < a.Length; j++)
        {
            sum += (a[j] - b[j]) * (double)(a[j] - b[j]);
        }
        return sum;
    }
}
