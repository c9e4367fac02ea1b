using System;
using Microsoft.Extensions.Logging;

namespace Qinco.Training;

/// <summary>Source-generated log messages of the <see cref="Trainer"/>.</summary>
internal static partial class TrainerLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Training started at epoch {Epoch} batch {Batch}: {Rows} rows, {BatchesPerEpoch} batches per epoch, {Workers} worker(s), {ParameterCount} parameters.")]
    public static partial void TrainingStarted(ILogger logger, int epoch, int batch, int rows, int batchesPerEpoch, int workers, long parameterCount);

    [LoggerMessage(EventId = 2, Level = LogLevel.Trace, Message = "Epoch {Epoch} batch {Batch}: loss {Loss}, lr {LearningRate}.")]
    public static partial void BatchCompleted(ILogger logger, int epoch, int batch, double loss, double learningRate);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Epoch {Epoch}: train loss {TrainLoss}, validation {Validation}, best {Best}, lr {LearningRate}, elapsed {Elapsed}.")]
    public static partial void EpochCompleted(ILogger logger, int epoch, double trainLoss, double? validation, double? best, double learningRate, TimeSpan elapsed);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Training stopped ({Reason}) after {Epochs} epoch(s), best epoch {BestEpoch}, best validation {Best}, elapsed {Elapsed}.")]
    public static partial void TrainingStopped(ILogger logger, StopReason reason, int epochs, int? bestEpoch, double? best, TimeSpan elapsed);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Training cancelled at epoch {Epoch} batch {Batch}; the best parameters so far are kept.")]
    public static partial void TrainingCancelled(ILogger logger, int epoch, int batch);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "Restored the parameters of epoch {Epoch} (validation {Metric}).")]
    public static partial void BestRestored(ILogger logger, int epoch, double metric);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "Non-finite training loss at epoch {Epoch} batch {Batch}; the step was not applied and training stops.")]
    public static partial void NonFiniteLoss(ILogger logger, int epoch, int batch);
}
