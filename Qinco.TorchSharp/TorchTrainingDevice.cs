using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using Qinco.Core;
using Qinco.Training;
using Parameter = TorchSharp.Modules.Parameter;
using OptimizerState = Qinco.Training.OptimizerState;
using static TorchSharp.torch;

namespace Qinco.TorchSharp;

/// <summary>
/// The Training package's <see cref="ITrainingDevice"/> on one or more torch devices, for QINCo and IVF-QINCo
/// (<see cref="IQincoTrainingSource"/>): data-parallel training with the semantics of PyTorch's
/// DistributedDataParallel. The trainer's loop — batches, schedules, early stopping, checkpoints, progress,
/// cancellation — is unchanged; only the arithmetic moves.
/// </summary>
/// <remarks>
/// <para><b>Replicas.</b> Every device holds a replica: the model as <see cref="QincoTorchNetwork"/> modules, a copy of
/// the (normalised) training vectors, and its own optimiser moments. Parameters stay resident between steps; the host
/// copy is written only when the trainer asks (<see cref="CopyParametersToHost"/>).</para>
/// <para><b>A batch.</b> Its n rows are split into R contiguous shards, shard r = rows [⌊n·r/R⌋, ⌊n·(r+1)/R⌋) on
/// device r (as the CPU device splits over workers). Each replica, on its own thread, gathers its rows on the device,
/// encodes them with the current parameters by the beam search of the managed encoder (no gradient), and computes the
/// summed loss of ALGORITHM.md §1.6 and its gradient by autograd.</para>
/// <para><b>Reduction.</b> TorchSharp has no NCCL binding, so gradients are reduced through device 0: for every
/// parameter, <c>g = g₀ + g₁ + … + g_{R−1}</c> in device order (each gᵣ copied to device 0), then <c>g /= n</c> once, and
/// the result is copied back to every other replica. Every replica then takes the same Adam/AdamW step
/// (<see cref="TrainingOptions"/>' optimiser, computed as the managed one), so all replicas keep equal parameters. The
/// loss is the sum of the shard losses in device order.</para>
/// <para><b>Determinism.</b> Given the devices, a run is reproducible up to the device's own kernels (cuBLAS may pick
/// different algorithms run to run); R changes only the rounding of the sum, as the CPU device's worker count does.</para>
/// <para>Every call blocks until the work of all replicas is finished, also when one fails or is cancelled, so no torch
/// call is left running when the trainer returns.</para>
/// </remarks>
public sealed class TorchTrainingDevice : ITrainingDevice
{
    private readonly Replica[] _replicas;
    private readonly ParameterSet _host;
    private readonly string[] _names;
    private readonly IQincoTrainingSource _source;
    private readonly double[] _shardLosses;

    /// <summary>Creates one replica per device from the model's host values, with reset optimisers.</summary>
    /// <param name="model">QINCo's trainable model (it implements <see cref="IQincoTrainingSource"/>).</param>
    /// <param name="options">The run's options (the optimiser and its hyper-parameters; <see cref="TrainingOptions.Workers"/> is not used).</param>
    /// <param name="devices">One torch device per replica (see <see cref="TorchRuntime.ResolveDevices"/>).</param>
    /// <exception cref="NotSupportedException">The model is not a QINCo1 or IVF-QINCo1 model (for QINCo2 the message names what this package lacks).</exception>
    /// <exception cref="ArgumentException">No device, or options out of range (named).</exception>
    /// <exception cref="TorchRuntimeException">TorchSharp's runtime does not load.</exception>
    public TorchTrainingDevice(ITrainableModel model, TrainingOptions options, IReadOnlyList<Device> devices)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(devices);
        options.Validate();
        if (devices.Count == 0)
        {
            throw new ArgumentException("At least one device is needed.", nameof(devices));
        }
        _source = model as IQincoTrainingSource
            ?? throw new NotSupportedException($"The TorchSharp training device trains QINCo and IVF-QINCo models; {model.GetType().Name} is not one.");
        QincoTorchNetwork.RequireSupported(_source.Model);
        TorchRuntime.EnsureAvailable();
        _host = model.Parameters;
        _names = _host.Select(p => p.Name).ToArray();
        QincoModelDescription description = _source.Model;
        string[] frozen = description.Tensors.Select(t => t.Name).Except(_names).ToArray();
        _replicas = new Replica[devices.Count];
        try
        {
            for (int r = 0; r < devices.Count; r++)
            {
                _replicas[r] = new Replica(_source, description, devices[r], frozen, _names, options);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        _shardLosses = new double[devices.Count];
    }

    /// <summary>The torch device of each replica, in reduction order.</summary>
    public IReadOnlyList<Device> Devices => _replicas.Select(r => r.Device).ToArray();

    /// <inheritdoc />
    public double ComputeLossAndGradients(ReadOnlyMemory<int> rows, CancellationToken cancellationToken)
    {
        int count = _replicas.Length, n = rows.Length;
        RunOnReplicas(r =>
        {
            int start = (int)((long)n * r / count), end = (int)((long)n * (r + 1) / count);
            _shardLosses[r] = _replicas[r].ComputeShard(rows.Span[start..end], cancellationToken);
        });
        Reduce(n);
        double loss = 0;
        foreach (double shardLoss in _shardLosses)
        {
            loss += shardLoss;
        }
        return loss;
    }

    /// <inheritdoc />
    public void Step(double learningRate)
    {
        Require(learningRate >= 0 && double.IsFinite(learningRate), nameof(learningRate));
        RunOnReplicas(r => _replicas[r].Optimizer.Step(learningRate));
    }

    /// <inheritdoc />
    public void ResetOptimizer()
    {
        foreach (Replica replica in _replicas)
        {
            replica.Optimizer.Reset();
        }
    }

    /// <inheritdoc />
    public OptimizerState ExportOptimizerState() => _replicas[0].Optimizer.Export();

    /// <inheritdoc />
    public void ImportOptimizerState(OptimizerState state)
    {
        foreach (Replica replica in _replicas)
        {
            replica.Optimizer.Import(state, _names);
        }
    }

    /// <inheritdoc />
    public void CopyParametersToHost()
    {
        for (int i = 0; i < _host.Count; i++)
        {
            TorchHost.Download(_replicas[0].Parameters[i], _host[i].Value);
        }
    }

    /// <inheritdoc />
    public void CopyParametersFromHost()
    {
        foreach (Replica replica in _replicas)
        {
            for (int i = 0; i < _host.Count; i++)
            {
                TorchHost.Upload(_host[i].Value, replica.Parameters[i]);
            }
        }
    }

    /// <summary>
    /// Copies the mean gradient of the last batch (what <see cref="Step"/> applies) into <paramref name="destination"/>,
    /// one array per parameter in <see cref="ParameterSet"/> order (for tests and diagnostics).
    /// </summary>
    /// <exception cref="ArgumentException">Wrong count or lengths.</exception>
    /// <exception cref="InvalidOperationException">No batch was computed yet.</exception>
    public void CopyGradientsTo(IReadOnlyList<float[]> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.Count != _host.Count)
        {
            throw new ArgumentException($"{destination.Count} arrays for {_host.Count} parameters.", nameof(destination));
        }
        for (int i = 0; i < _host.Count; i++)
        {
            Tensor grad = _replicas[0].Parameters[i].grad ?? throw new InvalidOperationException("No batch was computed yet.");
            TorchHost.Download(grad, destination[i]);
        }
    }

    /// <summary>Releases every replica's tensors.</summary>
    public void Dispose()
    {
        foreach (Replica? replica in _replicas)
        {
            replica?.Dispose();
        }
    }

    /// <summary>g₀ += g₁ + … in device order on device 0, g₀ /= n, then g₀ copied to every other replica.</summary>
    private void Reduce(int rowCount)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Replica first = _replicas[0];
        for (int i = 0; i < first.Parameters.Length; i++)
        {
            Tensor sum = first.Parameters[i].grad!;
            for (int r = 1; r < _replicas.Length; r++)
            {
                sum.add_(_replicas[r].Parameters[i].grad!.to(first.Device));
            }
            sum.div_(rowCount);
            for (int r = 1; r < _replicas.Length; r++)
            {
                _replicas[r].Parameters[i].grad!.copy_(sum);
            }
        }
    }

    /// <summary>Runs <paramref name="body"/> for every replica concurrently and returns when all have finished; rethrows the first failure that is not a cancellation, else the cancellation.</summary>
    private void RunOnReplicas(Action<int> body)
    {
        if (_replicas.Length == 1)
        {
            body(0);
            return;
        }
        var failures = new Exception?[_replicas.Length];
        Parallel.For(0, _replicas.Length, new ParallelOptions { MaxDegreeOfParallelism = _replicas.Length }, r =>
        {
            try
            {
                body(r);
            }
            catch (Exception ex)
            {
                failures[r] = ex;
            }
        });
        Exception? failure = failures.FirstOrDefault(f => f is not null and not OperationCanceledException) ?? failures.FirstOrDefault(f => f is not null);
        if (failure is not null)
        {
            ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    private static void Require(bool condition, string name)
    {
        if (!condition)
        {
            throw new ArgumentOutOfRangeException(name, "Must be non-negative and finite.");
        }
    }

    /// <summary>One device's model, training data and optimiser.</summary>
    private sealed class Replica : IDisposable
    {
        private readonly IQincoTrainingSource _source;
        private readonly QincoTorchNetwork _network;
        private readonly Tensor? _lists;
        private float[] _rows = [];

        public Replica(IQincoTrainingSource source, QincoModelDescription description, Device device, string[] frozen, string[] names, TrainingOptions options)
        {
            _source = source;
            Device = device;
            _network = new QincoTorchNetwork(description, device, frozen);
            Parameters = Array.ConvertAll(names, name => _network[name]);
            _lists = source.TrainingLists.IsEmpty ? null : TorchHost.Indices(source.TrainingLists.Span, device);
            Optimizer = new TorchAdam(Parameters, options);
            using var noGrad = no_grad();
            foreach (Parameter p in Parameters)
            {
                p.grad = zeros_like(p);
            }
        }

        public Device Device { get; }

        public Parameter[] Parameters { get; }

        public TorchAdam Optimizer { get; }

        /// <summary>Gradient of the shard's summed loss into the parameters' <c>grad</c> (zeroed first); returns the summed loss.</summary>
        public double ComputeShard(ReadOnlySpan<int> rows, CancellationToken cancellationToken)
        {
            using (no_grad())
            {
                foreach (Parameter p in Parameters)
                {
                    p.grad!.zero_();
                }
            }
            if (rows.IsEmpty)
            {
                return 0;
            }
            QincoModelDescription model = _network.Description;
            using var scope = NewDisposeScope();
            Tensor index = TorchHost.Indices(rows, Device);
            // The shard's rows are gathered on the host (the source may stream them from a file) and uploaded: B x D floats per step.
            int d = model.Dimension;
            if (_rows.Length < rows.Length * d)
            {
                _rows = new float[rows.Length * d];
            }
            _source.ReadTrainingRows(rows, _rows);
            Tensor x = empty([rows.Length, d], ScalarType.Float32, Device);
            TorchHost.Upload(_rows.AsSpan(0, rows.Length * d), x);
            Tensor codes;
            using (no_grad())
            {
                Tensor? lists = _lists?.index_select(0, index);
                Tensor? start = lists is null ? null : _network["codebook0"].index_select(0, lists);
                codes = TorchBeamSearch.Encode(_network, x, model.Search, model.FirstBeams, lists is null ? 0 : 1, start, lists, cancellationToken);
            }
            cancellationToken.ThrowIfCancellationRequested();
            Tensor loss = _network.Loss(x, codes, _source.Loss == QincoLoss.FinalStep, frozenFirstStep: _lists is not null);
            loss.backward();
            return loss.item<float>();
        }

        public void Dispose()
        {
            Optimizer?.Dispose();
            _lists?.Dispose();
            _network?.Dispose();
        }
    }
}
