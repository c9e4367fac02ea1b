using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Qinco.Training;

/// <summary>
/// The training loop: shuffled mini-batches, data-parallel gradients with a deterministic reduction, Adam/AdamW
/// steps under a learning-rate schedule, per-epoch validation, early stopping with best-parameter restore,
/// budgets, progress, logging, cancellation and checkpoint/resume. Knows nothing of quantizers: any
/// <see cref="ITrainableModel"/> can be trained.
/// </summary>
/// <remarks>
/// <para><b>Batches.</b> Epoch e visits the training rows in the permutation drawn from seed
/// <c>Seed + e</c> (or in order), cut into consecutive batches of <see cref="TrainingOptions.BatchSize"/>.</para>
/// <para><b>Data parallelism.</b> A batch of n rows is split into W contiguous shards (shard w = rows
/// [⌊n·w/W⌋, ⌊n·(w+1)/W⌋)); worker w writes the summed loss gradient of its shard into its own buffers (worker 0's
/// buffers are the parameters' <see cref="Parameter.Gradient"/> arrays). The buffers are then added in worker
/// order 0 + 1 + … + (W−1) and divided by n once, and one optimiser step follows.</para>
/// <para><b>Determinism.</b> For a given seed, W and instruction set, runs are bit-identical, whatever the thread
/// timing; different W differ only by float rounding of the reduction (and of the model's own sums).</para>
/// <para><b>Cancellation.</b> The token is checked only between optimiser steps (and passed to workers and
/// validation, which may abandon the current batch or validation). A cancelled run does <b>not throw</b>: it
/// returns a <see cref="TrainingResult"/> with <see cref="StopReason.Cancelled"/>, the model holding the
/// best-validation parameters (or the parameters after the last complete step when there is no best snapshot),
/// never a half-applied step; <see cref="TrainingResult.Checkpoint"/> resumes the run exactly.</para>
/// </remarks>
public sealed class Trainer
{
    private const byte PhaseNotStarted = 0;
    private const byte PhaseInBatches = 1;
    private const byte PhaseBatchesDone = 2;

    private readonly ITrainableModel _model;
    private readonly TrainingOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates a trainer for <paramref name="model"/>.</summary>
    /// <param name="model">The model to train.</param>
    /// <param name="options">Settings (null = defaults); validated here.</param>
    /// <param name="loggerFactory">Optional logging (default: <see cref="NullLoggerFactory"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the exception names it.</exception>
    /// <exception cref="ArgumentException">Options contradict each other; the exception names one.</exception>
    public Trainer(ITrainableModel model, TrainingOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new TrainingOptions();
        options.Validate();
        _model = model;
        _options = options;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<Trainer>();
    }

    /// <summary>The model being trained.</summary>
    public ITrainableModel Model => _model;

    /// <summary>The validated options.</summary>
    public TrainingOptions Options => _options;

    /// <summary>
    /// Receives a checkpoint after every <see cref="TrainingOptions.CheckpointIntervalEpochs"/> epochs (on the
    /// training thread, between epochs), e.g. to save it to disk. Null = none.
    /// </summary>
    public Action<TrainingCheckpoint>? CheckpointSink { get; set; }

    /// <summary>Trains from the model's current parameters.</summary>
    /// <param name="progress">Optional progress reports (one per batch, per epoch and at the end).</param>
    /// <param name="cancellationToken">Stops the run between optimiser steps; see the type's remarks.</param>
    /// <returns>The outcome; the model holds the best (or last) parameters.</returns>
    /// <exception cref="InvalidOperationException">The model has no training rows or no full batch.</exception>
    public TrainingResult Train(IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Run(null, progress, cancellationToken);

    /// <summary>
    /// Continues a run from <paramref name="checkpoint"/>: its parameters, optimiser state, schedule state,
    /// position and history replace the model's and the trainer's. With the same options (same W) the final
    /// parameters are bit-identical to those of an uninterrupted run.
    /// </summary>
    /// <param name="checkpoint">A checkpoint of a run of the same model with the same seed, batch size, optimiser and schedule.</param>
    /// <param name="progress">Optional progress reports.</param>
    /// <param name="cancellationToken">Stops the run between optimiser steps.</param>
    /// <exception cref="ArgumentException">The checkpoint does not fit the model or the options.</exception>
    public TrainingResult Resume(TrainingCheckpoint checkpoint, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        return Run(checkpoint, progress, cancellationToken);
    }

    private TrainingResult Run(TrainingCheckpoint? resume, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        ParameterSet parameters = _model.Parameters;
        int rowCount = _model.TrainingRowCount;
        if (rowCount < 1)
        {
            throw new InvalidOperationException("The model has no training rows.");
        }
        int batchSize = _options.BatchSize;
        int batchesPerEpoch = (int)(_options.DropLastPartialBatch ? rowCount / batchSize : ((long)rowCount + batchSize - 1) / batchSize);
        if (batchesPerEpoch == 0)
        {
            throw new InvalidOperationException($"{rowCount} training rows make no full batch of {batchSize} and DropLastPartialBatch is set.");
        }

        Optimizer optimizer = _options.CreateOptimizer(parameters);
        LearningRateSchedule schedule = _options.CreateSchedule();
        TrainingCheckpoint s = resume is null ? NewState() : ApplyCheckpoint(resume, parameters, optimizer, schedule);

        int workerCount = _options.Workers;
        var workers = new IGradientWorker[workerCount];
        var buffers = new float[workerCount][][];
        for (int w = 0; w < workerCount; w++)
        {
            workers[w] = _model.CreateWorker(w) ?? throw new InvalidOperationException($"CreateWorker({w}) returned null.");
            buffers[w] = new float[parameters.Count][];
            for (int i = 0; i < parameters.Count; i++)
            {
                buffers[w][i] = w == 0 ? parameters[i].Gradient : new float[parameters[i].Length];
            }
        }

        var stopwatch = Stopwatch.StartNew();
        TimeSpan priorElapsed = TimeSpan.FromTicks(s.ElapsedTicks);
        long batchesThisRun = 0;
        int[] order = new int[rowCount];
        int orderEpoch = -1;
        var shardLosses = new double[workerCount];
        StopReason stop = StopReason.None;
        double lastBatchLoss = double.NaN;

        TrainerLog.TrainingStarted(_logger, s.NextEpochField, s.NextBatchField, rowCount, batchesPerEpoch, workerCount, parameters.TotalElementCount);
        double? initialMetric = null;
        if (resume is null && _options.ValidateInitialParameters)
        {
            // The starting point competes with every epoch: a run that only makes things worse ends where it began.
            double initial = _model.Validate(cancellationToken);
            initialMetric = initial;
            if (!double.IsNaN(initial))
            {
                s.BestMetric = initial;
                if (_options.RestoreBestParameters)
                {
                    s.BestSnapshot = new float[parameters.TotalElementCount];
                    parameters.CopyValuesTo(s.BestSnapshot);
                }
            }
        }
        try
        {
            while (stop == StopReason.None)
            {
                int epoch = s.NextEpochField;
                if (epoch >= _options.MaxEpochs)
                {
                    stop = StopReason.MaxEpochsReached;
                    break;
                }
                if (s.Phase == PhaseNotStarted)
                {
                    stop = CheckInterrupt(priorElapsed + stopwatch.Elapsed, cancellationToken);
                    if (stop != StopReason.None)
                    {
                        break;
                    }
                    s.EpochLossSum = 0;
                    s.EpochRows = 0;
                    s.NextBatchField = 0;
                    if (_options.ResetOptimizerEachEpoch)
                    {
                        optimizer.Reset();
                    }
                    _model.OnEpochStart(epoch);
                    s.Phase = PhaseInBatches;
                }
                if (s.Phase == PhaseInBatches)
                {
                    while (s.NextBatchField < batchesPerEpoch)
                    {
                        stop = CheckInterrupt(priorElapsed + stopwatch.Elapsed, cancellationToken);
                        if (stop != StopReason.None)
                        {
                            break;
                        }
                        if (orderEpoch != epoch)
                        {
                            FillOrder(order, epoch);
                            orderEpoch = epoch;
                        }
                        int batch = s.NextBatchField;
                        int offset = batch * batchSize;
                        int count = Math.Min(batchSize, rowCount - offset);
                        double learningRate = schedule.GetLearningRate(epoch, batch, batchesPerEpoch);
                        double lossSum;
                        try
                        {
                            lossSum = ComputeGradients(workers, buffers, shardLosses, order, offset, count, cancellationToken);
                        }
                        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                        {
                            stop = StopReason.Cancelled;
                            break;
                        }
                        if (!double.IsFinite(lossSum))
                        {
                            TrainerLog.NonFiniteLoss(_logger, epoch, batch);
                            stop = StopReason.NonFiniteLoss;
                            break;
                        }
                        optimizer.Step(learningRate);
                        s.LastLearningRate = learningRate;
                        s.EpochLossSum += lossSum;
                        s.EpochRows += count;
                        s.NextBatchField = batch + 1;
                        batchesThisRun++;
                        lastBatchLoss = lossSum / count;
                        TrainerLog.BatchCompleted(_logger, epoch, batch, lastBatchLoss, learningRate);
                        if (progress is not null)
                        {
                            TimeSpan elapsed = priorElapsed + stopwatch.Elapsed;
                            long remainingBatches = ((long)(_options.MaxEpochs - epoch - 1) * batchesPerEpoch) + (batchesPerEpoch - batch - 1);
                            progress.Report(new TrainingProgress
                            {
                                Phase = TrainingPhase.BatchCompleted,
                                Epoch = epoch,
                                Batch = batch,
                                BatchesPerEpoch = batchesPerEpoch,
                                TrainLoss = lastBatchLoss,
                                BestValidationMetric = s.BestValidationMetric,
                                LearningRate = learningRate,
                                Elapsed = elapsed,
                                EstimatedRemaining = Estimate(stopwatch.Elapsed, batchesThisRun, remainingBatches, elapsed),
                            });
                        }
                    }
                    if (stop != StopReason.None)
                    {
                        break;
                    }
                    _model.OnEpochEnd(epoch);
                    s.Phase = PhaseBatchesDone;
                }

                double? metric = null;
                if (_options.ValidateEveryEpoch)
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        stop = StopReason.Cancelled;
                        break;
                    }
                    try
                    {
                        metric = _model.Validate(cancellationToken);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        stop = StopReason.Cancelled;
                        break;
                    }
                    RecordValidation(s, epoch, metric.Value, parameters);
                }
                double trainLoss = s.EpochRows > 0 ? s.EpochLossSum / s.EpochRows : double.NaN;
                StopReason decision = schedule.OnEpochCompleted(epoch, metric);
                s.HistoryList.Add(new EpochRecord { Epoch = epoch, TrainLoss = trainLoss, ValidationMetric = metric, LearningRate = s.LastLearningRate });
                s.NextEpochField = epoch + 1;
                s.NextBatchField = 0;
                s.Phase = PhaseNotStarted;
                if (decision != StopReason.None)
                {
                    stop = decision;
                }
                else if (_options.EarlyStoppingPatience > 0 && s.EpochsSinceImprovement >= _options.EarlyStoppingPatience)
                {
                    stop = StopReason.EarlyStopping;
                }

                TimeSpan epochElapsed = priorElapsed + stopwatch.Elapsed;
                double nextRate = schedule.GetLearningRate(epoch + 1, 0, batchesPerEpoch);
                TrainerLog.EpochCompleted(_logger, epoch, trainLoss, metric, s.BestValidationMetric, nextRate, epochElapsed);
                progress?.Report(new TrainingProgress
                {
                    Phase = TrainingPhase.EpochCompleted,
                    Epoch = epoch,
                    Batch = batchesPerEpoch,
                    BatchesPerEpoch = batchesPerEpoch,
                    TrainLoss = trainLoss,
                    ValidationMetric = metric,
                    BestValidationMetric = s.BestValidationMetric,
                    LearningRate = nextRate,
                    Elapsed = epochElapsed,
                    EstimatedRemaining = stop != StopReason.None ? TimeSpan.Zero
                        : Estimate(stopwatch.Elapsed, batchesThisRun, (long)(_options.MaxEpochs - epoch - 1) * batchesPerEpoch, epochElapsed),
                });
                if (CheckpointSink is { } sink && _options.CheckpointIntervalEpochs > 0 && s.NextEpochField % _options.CheckpointIntervalEpochs == 0)
                {
                    s.ElapsedTicks = (priorElapsed + stopwatch.Elapsed).Ticks;
                    sink(Capture(s, parameters, optimizer, schedule));
                }
            }
        }
        finally
        {
            foreach (IGradientWorker worker in workers)
            {
                (worker as IDisposable)?.Dispose();
            }
        }

        if (stop == StopReason.Cancelled)
        {
            TrainerLog.TrainingCancelled(_logger, s.NextEpochField, s.NextBatchField);
        }
        TimeSpan total = priorElapsed + stopwatch.Elapsed;
        s.ElapsedTicks = total.Ticks;
        TrainingCheckpoint checkpoint = Capture(s, parameters, optimizer, schedule);
        bool restored = false;
        if (_options.RestoreBestParameters && s.BestSnapshot is not null)
        {
            parameters.CopyValuesFrom(s.BestSnapshot);
            restored = true;
            TrainerLog.BestRestored(_logger, s.BestEpochField, s.BestMetric);
        }
        TrainerLog.TrainingStopped(_logger, stop, s.HistoryList.Count, s.BestEpoch, s.BestValidationMetric, total);
        progress?.Report(new TrainingProgress
        {
            Phase = TrainingPhase.Stopped,
            Epoch = s.NextEpochField,
            Batch = s.NextBatchField,
            BatchesPerEpoch = batchesPerEpoch,
            TrainLoss = s.HistoryList.Count > 0 ? s.HistoryList[^1].TrainLoss : lastBatchLoss,
            BestValidationMetric = s.BestValidationMetric,
            LearningRate = s.LastLearningRate,
            Elapsed = total,
            EstimatedRemaining = TimeSpan.Zero,
            StopReason = stop,
        });
        return new TrainingResult(s.HistoryList.Count, s.BestEpoch, s.BestValidationMetric, stop, s.HistoryList.ToArray(), total, restored, checkpoint)
        {
            InitialValidationMetric = initialMetric,
        };
    }

    private TrainingCheckpoint NewState() => new()
    {
        Seed = _options.Seed,
        BatchSize = _options.BatchSize,
        Workers = _options.Workers,
        OptimizerKind = _options.Optimizer,
        ScheduleKind = _options.Schedule,
        LastLearningRate = _options.LearningRate,
    };

    private void RecordValidation(TrainingCheckpoint s, int epoch, double metric, ParameterSet parameters)
    {
        bool noBestYet = s.BestEpochField < 0 && double.IsPositiveInfinity(s.BestMetric);
        bool improved = !double.IsNaN(metric) && (noBestYet || metric < s.BestMetric - _options.EarlyStoppingMinDelta);
        if (!improved)
        {
            s.EpochsSinceImprovement++;
            return;
        }
        s.BestMetric = metric;
        s.BestEpochField = epoch;
        s.EpochsSinceImprovement = 0;
        if (_options.RestoreBestParameters)
        {
            s.BestSnapshot ??= new float[parameters.TotalElementCount];
            parameters.CopyValuesTo(s.BestSnapshot);
        }
    }

    private StopReason CheckInterrupt(TimeSpan elapsed, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return StopReason.Cancelled;
        }
        if (_options.MaxDuration is TimeSpan max && elapsed >= max)
        {
            return StopReason.MaxDurationReached;
        }
        return StopReason.None;
    }

    private TimeSpan? Estimate(TimeSpan runElapsed, long batchesThisRun, long remainingBatches, TimeSpan totalElapsed)
    {
        if (batchesThisRun == 0)
        {
            return null;
        }
        double ticks = runElapsed.Ticks / (double)batchesThisRun * Math.Max(remainingBatches, 0);
        var estimate = TimeSpan.FromTicks((long)Math.Min(ticks, TimeSpan.MaxValue.Ticks / 2));
        if (_options.MaxDuration is TimeSpan max)
        {
            TimeSpan left = max - totalElapsed;
            estimate = left < estimate ? (left < TimeSpan.Zero ? TimeSpan.Zero : left) : estimate;
        }
        return estimate;
    }

    private void FillOrder(int[] order, int epoch)
    {
        if (_options.ShuffleEachEpoch && _options.NumpyCompatibleShuffle)
        {
            NumpyLegacyPermutation.Fill((long)_options.Seed + epoch, order);
        }
        else if (_options.ShuffleEachEpoch)
        {
            new SplitMix64(unchecked((ulong)((long)_options.Seed + epoch))).FillPermutation(order);
        }
        else
        {
            for (int i = 0; i < order.Length; i++)
            {
                order[i] = i;
            }
        }
    }

    private static double ComputeGradients(IGradientWorker[] workers, float[][][] buffers, double[] shardLosses, int[] order, int offset, int count, CancellationToken cancellationToken)
    {
        int workerCount = workers.Length;
        if (workerCount == 1)
        {
            foreach (float[] buffer in buffers[0])
            {
                Array.Clear(buffer);
            }
            shardLosses[0] = workers[0].ComputeLossAndGradients(order.AsSpan(offset, count), buffers[0], cancellationToken);
        }
        else
        {
            try
            {
                Parallel.For(0, workerCount, new ParallelOptions { MaxDegreeOfParallelism = workerCount }, w =>
                {
                    foreach (float[] buffer in buffers[w])
                    {
                        Array.Clear(buffer);
                    }
                    int start = (int)((long)count * w / workerCount);
                    int end = (int)((long)count * (w + 1) / workerCount);
                    shardLosses[w] = workers[w].ComputeLossAndGradients(order.AsSpan(offset + start, end - start), buffers[w], cancellationToken);
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
        }

        // Fixed-order reduction: worker 0 + 1 + ... + (W-1), then one division by the batch size.
        double loss = 0;
        for (int w = 0; w < workerCount; w++)
        {
            loss += shardLosses[w];
        }
        float n = count;
        float[][] target = buffers[0];
        for (int i = 0; i < target.Length; i++)
        {
            Span<float> g = target[i];
            for (int w = 1; w < workerCount; w++)
            {
                TensorPrimitives.Add(g, buffers[w][i], g);
            }
            TensorPrimitives.Divide(g, n, g);
        }
        return loss; // the sum over the batch: callers divide by the row count for the mean
    }

    private TrainingCheckpoint ApplyCheckpoint(TrainingCheckpoint c, ParameterSet parameters, Optimizer optimizer, LearningRateSchedule schedule)
    {
        if (c.Seed != _options.Seed)
        {
            throw new ArgumentException($"The checkpoint was made with Seed {c.Seed}, the options have {_options.Seed}.", "checkpoint");
        }
        if (c.BatchSize != _options.BatchSize)
        {
            throw new ArgumentException($"The checkpoint was made with BatchSize {c.BatchSize}, the options have {_options.BatchSize}.", "checkpoint");
        }
        if (c.OptimizerKind != _options.Optimizer || c.ScheduleKind != _options.Schedule)
        {
            throw new ArgumentException("The checkpoint was made with another optimiser or schedule.", "checkpoint");
        }
        if (c.Names.Length != parameters.Count)
        {
            throw new ArgumentException($"The checkpoint holds {c.Names.Length} parameters, the model {parameters.Count}.", "checkpoint");
        }
        for (int i = 0; i < parameters.Count; i++)
        {
            Parameter p = parameters[i];
            if (c.Names[i] != p.Name || !c.Shapes[i].AsSpan().SequenceEqual(p.ShapeArray))
            {
                throw new ArgumentException($"Checkpoint parameter {i} is '{c.Names[i]}' [{string.Join(", ", c.Shapes[i])}], the model's is {p}.", "checkpoint");
            }
        }
        if (c.BestSnapshot is not null && c.BestSnapshot.Length != parameters.TotalElementCount)
        {
            throw new ArgumentException("The checkpoint's best snapshot does not match the parameter count.", "checkpoint");
        }
        schedule.ImportState(c.ScheduleState);
        optimizer.ImportState(new OptimizerState(c.OptimizerStepCount, c.FirstMoments, c.SecondMoments));
        for (int i = 0; i < parameters.Count; i++)
        {
            c.Values[i].AsSpan().CopyTo(parameters[i].Value);
        }
        TrainingCheckpoint s = Clone(c);
        s.Names = [];
        s.Shapes = [];
        s.Values = [];
        s.FirstMoments = [];
        s.SecondMoments = [];
        return s;
    }

    private static TrainingCheckpoint Clone(TrainingCheckpoint c) => new()
    {
        Seed = c.Seed,
        BatchSize = c.BatchSize,
        Workers = c.Workers,
        NextEpochField = c.NextEpochField,
        NextBatchField = c.NextBatchField,
        Phase = c.Phase,
        EpochLossSum = c.EpochLossSum,
        EpochRows = c.EpochRows,
        ElapsedTicks = c.ElapsedTicks,
        BestEpochField = c.BestEpochField,
        BestMetric = c.BestMetric,
        EpochsSinceImprovement = c.EpochsSinceImprovement,
        LastLearningRate = c.LastLearningRate,
        OptimizerKind = c.OptimizerKind,
        OptimizerStepCount = c.OptimizerStepCount,
        ScheduleKind = c.ScheduleKind,
        ScheduleState = (double[])c.ScheduleState.Clone(),
        Names = c.Names,
        Shapes = c.Shapes,
        Values = c.Values,
        FirstMoments = c.FirstMoments,
        SecondMoments = c.SecondMoments,
        BestSnapshot = (float[]?)c.BestSnapshot?.Clone(),
        HistoryList = [.. c.HistoryList],
    };

    private TrainingCheckpoint Capture(TrainingCheckpoint s, ParameterSet parameters, Optimizer optimizer, LearningRateSchedule schedule)
    {
        TrainingCheckpoint c = Clone(s);
        c.Workers = _options.Workers;
        c.ScheduleState = schedule.ExportState();
        OptimizerState state = optimizer.ExportState();
        c.OptimizerStepCount = state.StepCount;
        c.Names = new string[parameters.Count];
        c.Shapes = new int[parameters.Count][];
        c.Values = new float[parameters.Count][];
        c.FirstMoments = new float[parameters.Count][];
        c.SecondMoments = new float[parameters.Count][];
        for (int i = 0; i < parameters.Count; i++)
        {
            c.Names[i] = parameters[i].Name;
            c.Shapes[i] = (int[])parameters[i].ShapeArray.Clone();
            c.Values[i] = (float[])parameters[i].Value.Clone();
            c.FirstMoments[i] = state.FirstMoments[i];
            c.SecondMoments[i] = state.SecondMoments[i];
        }
        return c;
    }
}
