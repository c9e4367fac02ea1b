using System;
using System.Diagnostics;
using System.IO;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Training;

namespace Qinco.TorchSharp.Tests;

/// <summary>
/// Training throughput, managed CPU device vs TorchSharp on CPU libtorch, at the same settings and thread count (not
/// part of the suite: <c>dotnet test Qinco.TorchSharp.Tests -c Release --filter Category=Benchmark</c>). It times
/// whole training steps (encode the batch, loss and gradients, Adam step) on the same batches, alternating the two
/// devices so that load from other processes affects both alike.
/// </summary>
[Explicit("A measurement, not a test: run it on purpose.")]
[Category("Benchmark")]
public sealed class TorchThroughputBenchmark
{
    [Test]
    public void TrainingSteps_ManagedVsTorchCpu()
    {
        TorchSetup.RequireRuntime();
        int threads = Math.Min(2, Environment.ProcessorCount), batch = 256, batches = 6;
        VectorSet train = SyntheticData.Generate(4096, 128, seed: 1, distributionSeed: 9), validation = SyntheticData.Generate(200, 128, seed: 2, distributionSeed: 9);
        // The library's QINCo defaults (M = 8, K = 256, L = 2, h = 256, beam 5 × 16 candidates, batch 256) on D = 128.
        QincoQuantizer quantizer = Quantizer.Qinco(128).WithInitializationBeamWidth(1).WithZeroInitialization(false)
            .WithTraining(t => t.With(o => o with { DeviceFactory = TorchFixtures.Capture })).Build();
        ITrainableModel model = TorchFixtures.CaptureTrainingModel(quantizer, train, validation);
        var options = new TrainingOptions { Workers = threads, BatchSize = batch };
        float[] start = model.Parameters.CopyValuesToSnapshot();
        int[][] rows = new int[batches + 1][];
        for (int b = 0; b <= batches; b++)
        {
            rows[b] = TorchFixtures.Rows(batch, train.Count, seed: b);
        }

        double Measure(Func<ITrainingDevice> create)
        {
            model.Parameters.CopyValuesFrom(start);
            using ITrainingDevice device = create();
            device.ComputeLossAndGradients(rows[0], default); // warm-up: tables, JIT, allocations
            device.Step(1e-4);
            var watch = Stopwatch.StartNew();
            for (int b = 1; b <= batches; b++)
            {
                device.ComputeLossAndGradients(rows[b], default);
                device.Step(1e-4);
            }
            return watch.Elapsed.TotalSeconds / batches;
        }

        double managed = double.MaxValue, torch = double.MaxValue;
        for (int round = 0; round < 2; round++)
        {
            managed = Math.Min(managed, Measure(() => new CpuTrainingDevice(model, options)));
            torch = Math.Min(torch, Measure(() => new TorchTrainingDevice(model, options, TorchRuntime.ResolveDevices("cpu"))));
        }
        string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
        TestContext.Progress.WriteLine($"D=128 M=8 K=256 L=2 h=256 beam 5x16, batch {batch}, {threads} threads (managed workers / torch intra-op), best of 2 rounds of {batches} steps; load average {load}");
        TestContext.Progress.WriteLine($"| device | step time | training vectors/s |");
        TestContext.Progress.WriteLine($"| managed CPU ({threads} workers) | {managed * 1000:F0} ms | {batch / managed:F0} |");
        TestContext.Progress.WriteLine($"| TorchSharp, CPU libtorch ({threads} threads) | {torch * 1000:F0} ms | {batch / torch:F0} |");
    }
}
