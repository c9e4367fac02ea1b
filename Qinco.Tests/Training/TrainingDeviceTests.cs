using System;
using System.Linq;
using System.Numerics.Tensors;
using System.Threading;
using NUnit.Framework;
using Qinco.Training;

namespace Qinco.Tests.Training;

/// <summary>
/// The device seam: a device that keeps its own resident copy of the parameters, as a GPU device would, must give
/// exactly what the CPU device gives, which holds only when the trainer synchronises the host copy at the right moments.
/// </summary>
public sealed class TrainingDeviceTests
{
    [TestCase("plateau-adam-w1")]
    [TestCase("cosine-adamw-w3")]
    [TestCase("constant-w2-edits")]
    [TestCase("cancel-mid-epoch-w2")]
    public void ResidentDevice_GivesWhatTheCpuDeviceGives(string run)
    {
        RunDigest cpu = TrainingPinTests.RunAndDigest(run, o => o with { Workers = 1 });
        RunDigest resident = TrainingPinTests.RunAndDigest(run, o => o with { Workers = 1, DeviceFactory = ResidentCopyDevice.Create });
        Assert.That(resident, Is.EqualTo(cpu with { Checkpoint = resident.Checkpoint }));
    }

    [Test]
    public void ResidentDevice_ResumesACheckpointAsTheCpuDeviceDoes()
    {
        RunDigest interrupted = TrainingPinTests.RunAndDigest("cancel-mid-epoch-w2", o => o with { Workers = 1 });
        Assert.That(interrupted.Checkpoint.NextBatch, Is.GreaterThan(0), "resumes inside an epoch");
        float[] Resume(Func<ITrainableModel, TrainingOptions, ITrainingDevice>? device)
        {
            var model = new LinearRegressionModel(rows: 300, dimension: 6, seed: 3, initSeed: 99);
            TrainingOptions options = TrainingPinTests.Configure("cancel-mid-epoch-w2", model) with { Workers = 1, DeviceFactory = device };
            new Trainer(model, options).Resume(interrupted.Checkpoint);
            return model.Parameters.CopyValuesToSnapshot();
        }
        Assert.That(Resume(ResidentCopyDevice.Create), Is.EqualTo(Resume(null)));
    }

    [Test]
    public void DeviceFactory_IsCalledOncePerRun_AndItsDeviceDisposed()
    {
        var model = new LinearRegressionModel(rows: 100, dimension: 3, seed: 1);
        ResidentCopyDevice? created = null;
        int calls = 0;
        var options = new TrainingOptions { BatchSize = 25, MaxEpochs = 2, LearningRate = 0.01, DeviceFactory = (m, o) =>
        {
            calls++;
            return created = (ResidentCopyDevice)ResidentCopyDevice.Create(m, o);
        }, };
        new Trainer(model, options).Train();
        Assert.That(calls, Is.EqualTo(1));
        Assert.That(created!.Disposed, Is.True);
        var nullFactory = options with { DeviceFactory = (_, _) => null! };
        Assert.Throws<InvalidOperationException>(() => new Trainer(model, nullFactory).Train());
    }

    /// <summary>
    /// Trains its own copy of the parameters and poisons the host copy with NaN after every step, so any host read the
    /// trainer does not precede by <see cref="CopyParametersToHost"/> (and any host edit it does not follow by
    /// <see cref="CopyParametersFromHost"/>) changes the results.
    /// </summary>
    private sealed class ResidentCopyDevice : ITrainingDevice
    {
        private readonly ParameterSet _host;
        private readonly ParameterSet _resident = [];
        private readonly IGradientWorker _worker;
        private readonly float[][] _gradients;
        private readonly Optimizer _optimizer;

        private ResidentCopyDevice(LinearRegressionModel model, TrainingOptions options)
        {
            _host = model.Parameters;
            foreach (Parameter p in _host)
            {
                _resident.Add(new Parameter(p.Name, [.. p.Shape], (float[])p.Value.Clone()));
            }
            _worker = model.CreateWorkerOn(_resident);
            _gradients = [.. _resident.Select(p => p.Gradient)];
            _optimizer = options.Optimizer == OptimizerKind.AdamW ? new AdamW(_resident, options.ToAdamOptions()) : new Adam(_resident, options.ToAdamOptions());
        }

        public bool Disposed { get; private set; }

        public static ITrainingDevice Create(ITrainableModel model, TrainingOptions options) => new ResidentCopyDevice((LinearRegressionModel)model, options);

        public double ComputeLossAndGradients(ReadOnlyMemory<int> rows, CancellationToken cancellationToken)
        {
            _resident.ZeroGradients();
            double loss = _worker.ComputeLossAndGradients(rows.Span, _gradients, cancellationToken);
            foreach (Parameter p in _resident)
            {
                TensorPrimitives.Divide(p.Gradient, (float)rows.Length, p.Gradient);
            }
            return loss;
        }

        public void Step(double learningRate)
        {
            _optimizer.Step(learningRate);
            foreach (Parameter p in _host)
            {
                Array.Fill(p.Value, float.NaN);
            }
        }

        public void ResetOptimizer() => _optimizer.Reset();

        public OptimizerState ExportOptimizerState() => _optimizer.ExportState();

        public void ImportOptimizerState(OptimizerState state) => _optimizer.ImportState(state);

        public void CopyParametersToHost() => _host.CopyValuesFrom(_resident.CopyValuesToSnapshot());

        public void CopyParametersFromHost() => _resident.CopyValuesFrom(_host.CopyValuesToSnapshot());

        public void Dispose() => Disposed = true;
    }
}
