using System;
using System.Diagnostics;
using System.Threading;
using Microsoft.Extensions.Logging;

namespace Qinco.Training;

/// <summary>
/// One <see cref="Trainer.Train"/> or <see cref="Trainer.Resume"/> call: runs epochs and batches on the device, asks the
/// <see cref="StopPolicy"/> whether to go on, keeps the <see cref="TrainingRunState"/> up to date, and reports progress,
/// logs and checkpoints. Everything here runs on the calling thread; disposing the run disposes its device.
/// </summary>
internal sealed class TrainingRun : IDisposable
{
    private readonly ITrainableModel _model;
    private readonly TrainingOptions _options;
    private readonly ILogger _logger;
    private readonly int _batchesPerEpoch;
    private readonly LearningRateSchedule _schedule;
    private readonly StopPolicy _stopPolicy;
    private readonly TrainingRunState _state;
    private readonly ITrainingDevice _device;
    private readonly int[] _order;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TimeSpan _priorElapsed;
    private int _orderEpoch = -1;
    private long _batchesThisRun;
    private double _lastBatchLoss = double.NaN;

    /// <summary>Prepares a run: checks the batch layout, restores <paramref name="resume"/> (if any) and creates the device.</summary>
    /// <exception cref="InvalidOperationException">No training rows or no full batch, or the device factory returned null.</exception>
    /// <exception cref="ArgumentException">The checkpoint does not fit the model or the options.</exception>
    public TrainingRun(ITrainableModel model, TrainingOptions options, ILogger logger, TrainingCheckpoint? resume)
    {
        _model = model;
        _options = options;
        _logger = logger;
        _batchesPerEpoch = CountBatchesPerEpoch(model.TrainingRowCount, options);
        _schedule = options.CreateSchedule();
        _stopPolicy = new StopPolicy(options, _schedule);
        _state = resume?.Restore(options, model.Parameters, _schedule) ?? new TrainingRunState { LastLearningRate = options.LearningRate };
        // Created after the restore: a device starts from the host values.
        _device = options.DeviceFactory is { } factory
            ? factory(model, options) ?? throw new InvalidOperationException("TrainingOptions.DeviceFactory returned null.")
            : new CpuTrainingDevice(model, options);
        if (resume is not null)
        {
            _device.ImportOptimizerState(resume.OptimizerState);
        }
        _order = new int[model.TrainingRowCount];
        _priorElapsed = TimeSpan.FromTicks(_state.ElapsedTicks);
    }

    public Action<TrainingCheckpoint>? CheckpointSink { get; init; }

    public IProgress<TrainingProgress>? Progress { get; init; }

    public CancellationToken CancellationToken { get; init; }

    private TimeSpan Elapsed => _priorElapsed + _clock.Elapsed;

    /// <summary>Share of <see cref="TrainingOptions.MaxDuration"/> spent so far (0 without a budget).</summary>
    private double BudgetUsed => _options.MaxDuration is TimeSpan max ? Elapsed / max : 0;

    /// <summary>Runs epochs until the policy stops the run, then captures the final checkpoint and restores the best parameters.</summary>
    /// <param name="validateStart">Validate the starting parameters first, so that they compete with every epoch.</param>
    public TrainingResult Execute(bool validateStart)
    {
        TrainerLog.TrainingStarted(_logger, _state.NextEpoch, _state.NextBatch, _order.Length, _batchesPerEpoch, _options.Workers, _model.Parameters.TotalElementCount);
        double? initialMetric = null;
        if (validateStart)
        {
            // The starting point competes with every epoch: a run that only makes things worse ends where it began.
            initialMetric = _model.Validate(CancellationToken);
            if (!double.IsNaN(initialMetric.Value))
            {
                RecordValidation(-1, initialMetric.Value);
            }
        }
        StopReason stop;
        do
        {
            stop = RunEpoch();
        }
        while (stop == StopReason.None);
        return Finish(stop, initialMetric);
    }

    public void Dispose() => _device.Dispose();

    private static int CountBatchesPerEpoch(int rowCount, TrainingOptions options)
    {
        if (rowCount < 1)
        {
            throw new InvalidOperationException("The model has no training rows.");
        }
        int batchSize = options.BatchSize;
        int batches = (int)(options.DropLastPartialBatch ? rowCount / batchSize : ((long)rowCount + batchSize - 1) / batchSize);
        if (batches == 0)
        {
            throw new InvalidOperationException($"{rowCount} training rows make no full batch of {batchSize} and DropLastPartialBatch is set.");
        }
        return batches;
    }

    /// <summary>Runs what is left of epoch <see cref="TrainingRunState.NextEpoch"/> from its current phase.</summary>
    private StopReason RunEpoch()
    {
        int epoch = _state.NextEpoch;
        StopReason stop = _stopPolicy.BeforeEpoch(_state, Elapsed, CancellationToken);
        if (stop == StopReason.None && _state.Phase == EpochPhase.NotStarted)
        {
            StartEpoch(epoch);
        }
        while (stop == StopReason.None && _state.Phase == EpochPhase.InBatches && _state.NextBatch < _batchesPerEpoch)
        {
            stop = _stopPolicy.BeforeBatch(Elapsed, CancellationToken);
            if (stop == StopReason.None)
            {
                stop = RunBatch(epoch, _state.NextBatch);
            }
        }
        if (stop == StopReason.MaxDurationReached && _state.Phase == EpochPhase.InBatches && _state.NextBatch > 0)
        {
            // The budget ran out inside an epoch: end it here and validate what its batches learned, so that a budget
            // shorter than an epoch (500,000 vectors in 30 minutes) keeps its work instead of the previous best.
            EndBatches(epoch);
            StopReason afterPartial = CompleteEpoch(epoch);
            return afterPartial == StopReason.Cancelled ? afterPartial : StopReason.MaxDurationReached;
        }
        if (stop == StopReason.None && _state.Phase == EpochPhase.InBatches)
        {
            EndBatches(epoch);
        }
        return stop == StopReason.None ? CompleteEpoch(epoch) : stop;
    }

    private void StartEpoch(int epoch)
    {
        _state.EpochLossSum = 0;
        _state.EpochRows = 0;
        _state.NextBatch = 0;
        if (_options.ResetOptimizerEachEpoch)
        {
            _device.ResetOptimizer();
        }
        _model.OnEpochStart(epoch);
        _state.Phase = EpochPhase.InBatches;
    }

    /// <summary>Gradients of one batch on the device, then one optimiser step unless the policy stops the run first.</summary>
    private StopReason RunBatch(int epoch, int batch)
    {
        if (_orderEpoch != epoch)
        {
            FillOrder(epoch);
            _orderEpoch = epoch;
        }
        int offset = batch * _options.BatchSize;
        int count = Math.Min(_options.BatchSize, _order.Length - offset);
        double learningRate = _schedule.GetLearningRate(epoch, batch, _batchesPerEpoch, BudgetUsed);
        double lossSum;
        try
        {
            lossSum = _device.ComputeLossAndGradients(_order.AsMemory(offset, count), CancellationToken);
        }
        catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested)
        {
            return StopReason.Cancelled;
        }
        StopReason stop = StopPolicy.AfterGradients(lossSum);
        if (stop != StopReason.None)
        {
            TrainerLog.NonFiniteLoss(_logger, epoch, batch);
            return stop;
        }
        _device.Step(learningRate);
        _state.LastLearningRate = learningRate;
        _state.EpochLossSum += lossSum;
        _state.EpochRows += count;
        _state.NextBatch = batch + 1;
        _batchesThisRun++;
        _lastBatchLoss = lossSum / count;
        TrainerLog.BatchCompleted(_logger, epoch, batch, _lastBatchLoss, learningRate);
        long remainingBatches = ((long)(_options.MaxEpochs - epoch - 1) * _batchesPerEpoch) + (_batchesPerEpoch - batch - 1);
        TimeSpan elapsed = Elapsed;
        Report(TrainingPhase.BatchCompleted, epoch, batch, _lastBatchLoss, learningRate, elapsed, Estimate(remainingBatches, elapsed));
        return StopReason.None;
    }

    /// <summary>The model's end-of-epoch hook on the host copy, which it may edit (e.g. dead-codeword resets).</summary>
    private void EndBatches(int epoch)
    {
        _device.CopyParametersToHost();
        _model.OnEpochEnd(epoch);
        _device.CopyParametersFromHost();
        _state.Phase = EpochPhase.BatchesDone;
    }

    /// <summary>Validation, the stop decision, the epoch's record, its report and checkpoint; the host copy is current here.</summary>
    private StopReason CompleteEpoch(int epoch)
    {
        double? metric = null;
        if (_options.ValidateEveryEpoch)
        {
            StopReason stop = StopPolicy.BeforeValidation(CancellationToken);
            if (stop != StopReason.None)
            {
                return stop;
            }
            try
            {
                metric = _model.Validate(CancellationToken);
            }
            catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested)
            {
                return StopReason.Cancelled;
            }
            RecordValidation(epoch, metric.Value);
        }
        double trainLoss = _state.EpochTrainLoss;
        StopReason decision = _stopPolicy.AfterEpoch(_state, epoch, metric);
        _state.History.Add(new EpochRecord { Epoch = epoch, TrainLoss = trainLoss, ValidationMetric = metric, LearningRate = _state.LastLearningRate });
        _state.NextEpoch = epoch + 1;
        _state.NextBatch = 0;
        _state.Phase = EpochPhase.NotStarted;

        double nextRate = _schedule.GetLearningRate(epoch + 1, 0, _batchesPerEpoch, BudgetUsed);
        TimeSpan elapsed = Elapsed;
        TrainerLog.EpochCompleted(_logger, epoch, trainLoss, metric, _state.BestValidationMetric, nextRate, elapsed);
        TimeSpan? remaining = decision != StopReason.None ? TimeSpan.Zero : Estimate((long)(_options.MaxEpochs - epoch - 1) * _batchesPerEpoch, elapsed);
        Report(TrainingPhase.EpochCompleted, epoch, _batchesPerEpoch, trainLoss, nextRate, elapsed, remaining, metric);
        if (CheckpointSink is { } sink && _options.CheckpointIntervalEpochs > 0 && _state.NextEpoch % _options.CheckpointIntervalEpochs == 0)
        {
            sink(Capture(Elapsed));
        }
        return decision;
    }

    /// <summary>Asks the policy whether <paramref name="metric"/> is a new best and, if so, snapshots the host parameters.</summary>
    private void RecordValidation(int epoch, double metric)
    {
        if (_stopPolicy.RecordValidation(_state, epoch, metric) && _options.RestoreBestParameters)
        {
            _state.BestSnapshot ??= new float[_model.Parameters.TotalElementCount];
            _model.Parameters.CopyValuesTo(_state.BestSnapshot);
        }
    }

    private TrainingResult Finish(StopReason stop, double? initialMetric)
    {
        if (stop == StopReason.Cancelled)
        {
            TrainerLog.TrainingCancelled(_logger, _state.NextEpoch, _state.NextBatch);
        }
        TimeSpan total = Elapsed;
        TrainingCheckpoint checkpoint = Capture(total);
        bool restored = false;
        if (_options.RestoreBestParameters && _state.BestSnapshot is { } best)
        {
            _model.Parameters.CopyValuesFrom(best);
            restored = true;
            TrainerLog.BestRestored(_logger, _state.BestEpoch, _state.BestMetric);
        }
        TrainerLog.TrainingStopped(_logger, stop, _state.History.Count, _state.BestEpochOrNull, _state.BestValidationMetric, total);
        double trainLoss = _state.History.Count > 0 ? _state.History[^1].TrainLoss : _lastBatchLoss;
        Report(TrainingPhase.Stopped, _state.NextEpoch, _state.NextBatch, trainLoss, _state.LastLearningRate, total, TimeSpan.Zero, stop: stop);
        return new TrainingResult(_state.History.Count, _state.BestEpochOrNull, _state.BestValidationMetric, stop, _state.History.ToArray(), total, restored, checkpoint)
        {
            InitialValidationMetric = initialMetric,
        };
    }

    /// <summary>A checkpoint of the run now (between optimiser steps), with the device's parameters copied to the host first.</summary>
    private TrainingCheckpoint Capture(TimeSpan elapsed)
    {
        _state.ElapsedTicks = elapsed.Ticks;
        _device.CopyParametersToHost();
        return TrainingCheckpoint.Capture(_state, _options, _model.Parameters, _device.ExportOptimizerState(), _schedule.ExportState());
    }

    private void Report(TrainingPhase phase, int epoch, int batch, double trainLoss, double learningRate, TimeSpan elapsed, TimeSpan? remaining, double? metric = null, StopReason stop = StopReason.None) =>
        Progress?.Report(new TrainingProgress
        {
            Phase = phase,
            Epoch = epoch,
            Batch = batch,
            BatchesPerEpoch = _batchesPerEpoch,
            TrainLoss = trainLoss,
            ValidationMetric = metric,
            BestValidationMetric = _state.BestValidationMetric,
            LearningRate = learningRate,
            Elapsed = elapsed,
            EstimatedRemaining = remaining,
            StopReason = stop,
        });

    /// <summary>Time left at this run's pace, capped by what remains of <see cref="TrainingOptions.MaxDuration"/>; null before the first step.</summary>
    private TimeSpan? Estimate(long remainingBatches, TimeSpan totalElapsed)
    {
        if (_batchesThisRun == 0)
        {
            return null;
        }
        double ticks = _clock.Elapsed.Ticks / (double)_batchesThisRun * Math.Max(remainingBatches, 0);
        var estimate = TimeSpan.FromTicks((long)Math.Min(ticks, TimeSpan.MaxValue.Ticks / 2));
        if (_options.MaxDuration is TimeSpan max)
        {
            TimeSpan left = max - totalElapsed;
            estimate = left < estimate ? (left < TimeSpan.Zero ? TimeSpan.Zero : left) : estimate;
        }
        return estimate;
    }

    private void FillOrder(int epoch)
    {
        long seed = (long)_options.Seed + epoch;
        if (_options.ShuffleEachEpoch && _options.NumpyCompatibleShuffle)
        {
            NumpyLegacyPermutation.Fill(seed, _order);
        }
        else if (_options.ShuffleEachEpoch)
        {
            new SplitMix64(unchecked((ulong)seed)).FillPermutation(_order);
        }
        else
        {
            for (int i = 0; i < _order.Length; i++)
            {
                _order[i] = i;
            }
        }
    }
}
