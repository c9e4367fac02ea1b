using System;
using System.Numerics.Tensors;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;

namespace Qinco.Training;

/// <summary>
/// The default <see cref="ITrainingDevice"/>: trains the host parameters in place with W =
/// <see cref="TrainingOptions.Workers"/> gradient workers of the model, so synchronising with the host costs nothing.
/// </summary>
/// <remarks>
/// A batch of n rows is split into W contiguous shards (shard w = rows [⌊n·w/W⌋, ⌊n·(w+1)/W⌋)) computed concurrently by
/// the workers from <see cref="ITrainableModel.CreateWorker"/>; worker w writes into its own buffers (worker 0's are the
/// parameters' <see cref="Parameter.Gradient"/> arrays). The buffers are added in worker order 0 + 1 + … + (W−1) and
/// divided by n once, so results are bit-identical whatever the thread timing, and differ between worker counts only by
/// the rounding of that sum. The step is <see cref="Adam"/> or <see cref="AdamW"/> on the host arrays.
/// </remarks>
public sealed class CpuTrainingDevice : ITrainingDevice
{
    private readonly IGradientWorker[] _workers;
    private readonly float[][][] _gradients; // [worker][parameter]
    private readonly double[] _shardLosses;
    private readonly Optimizer _optimizer;

    /// <summary>Creates the optimiser named by <paramref name="options"/> and W workers of <paramref name="model"/> (worker 0 first).</summary>
    /// <param name="model">The model whose host parameters are trained in place.</param>
    /// <param name="options">The run's options: <see cref="TrainingOptions.Workers"/>, the optimiser and its hyper-parameters.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the exception names it.</exception>
    /// <exception cref="ArgumentException">Options contradict each other; the exception names one.</exception>
    /// <exception cref="InvalidOperationException"><see cref="ITrainableModel.CreateWorker"/> returned null.</exception>
    public CpuTrainingDevice(ITrainableModel model, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ParameterSet parameters = model.Parameters;
        _optimizer = options.CreateOptimizer(parameters);
        _workers = new IGradientWorker[options.Workers];
        _gradients = new float[options.Workers][][];
        _shardLosses = new double[options.Workers];
        for (int w = 0; w < _workers.Length; w++)
        {
            _workers[w] = model.CreateWorker(w) ?? throw new InvalidOperationException($"CreateWorker({w}) returned null.");
            _gradients[w] = new float[parameters.Count][];
            for (int i = 0; i < parameters.Count; i++)
            {
                _gradients[w][i] = w == 0 ? parameters[i].Gradient : new float[parameters[i].Length];
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>Worker exceptions propagate unwrapped (the first that is not a cancellation, when several workers fail).</remarks>
    public double ComputeLossAndGradients(ReadOnlyMemory<int> rows, CancellationToken cancellationToken)
    {
        int workerCount = _workers.Length;
        try
        {
            Parallel.For(0, workerCount, new ParallelOptions { MaxDegreeOfParallelism = workerCount }, w =>
            {
                int start = (int)((long)rows.Length * w / workerCount);
                int end = (int)((long)rows.Length * (w + 1) / workerCount);
                ComputeShard(w, rows[start..end], cancellationToken);
            });
        }
        catch (AggregateException ex)
        {
            Exception first = ex.Flatten().InnerExceptions[0];
            foreach (Exception inner in ex.Flatten().InnerExceptions)
            {
                if (inner is not OperationCanceledException)
                {
                    first = inner;
                    break;
                }
            }
            ExceptionDispatchInfo.Capture(first).Throw();
        }
        return Reduce(rows.Length);
    }

    /// <inheritdoc />
    public void Step(double learningRate) => _optimizer.Step(learningRate);

    /// <inheritdoc />
    public void ResetOptimizer() => _optimizer.Reset();

    /// <inheritdoc />
    public OptimizerState ExportOptimizerState() => _optimizer.ExportState();

    /// <inheritdoc />
    public void ImportOptimizerState(OptimizerState state) => _optimizer.ImportState(state);

    /// <summary>Nothing to do: the parameters are trained in the host arrays.</summary>
    public void CopyParametersToHost()
    {
    }

    /// <summary>Nothing to do: the parameters are trained in the host arrays.</summary>
    public void CopyParametersFromHost()
    {
    }

    /// <summary>Disposes the workers that implement <see cref="IDisposable"/>.</summary>
    public void Dispose()
    {
        foreach (IGradientWorker worker in _workers)
        {
            (worker as IDisposable)?.Dispose();
        }
    }

    private void ComputeShard(int worker, ReadOnlyMemory<int> rows, CancellationToken cancellationToken)
    {
        foreach (float[] buffer in _gradients[worker])
        {
            Array.Clear(buffer);
        }
        _shardLosses[worker] = _workers[worker].ComputeLossAndGradients(rows.Span, _gradients[worker], cancellationToken);
    }

    /// <summary>Fixed-order reduction into worker 0's buffers: 0 + 1 + … + (W−1), then one division by the row count.</summary>
    private double Reduce(int rowCount)
    {
        double loss = 0;
        foreach (double shardLoss in _shardLosses)
        {
            loss += shardLoss;
        }
        float[][] target = _gradients[0];
        for (int i = 0; i < target.Length; i++)
        {
            Span<float> g = target[i];
            for (int w = 1; w < _workers.Length; w++)
            {
                TensorPrimitives.Add(g, _gradients[w][i], g);
            }
            TensorPrimitives.Divide(g, (float)rowCount, g);
        }
        return loss;
    }
}
