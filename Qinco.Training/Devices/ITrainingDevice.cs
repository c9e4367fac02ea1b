using System;
using System.Threading;

namespace Qinco.Training;

/// <summary>
/// Where a run's arithmetic happens: the device owns the working copy of the parameters, their gradients, the
/// reduction of per-shard gradients and the optimiser state, and applies the optimiser steps. The model's
/// <see cref="ITrainableModel.Parameters"/> (the host copy) is synchronised only when the <see cref="Trainer"/> asks,
/// so a device other than the CPU (e.g. a GPU device from an optional package) keeps its parameters resident and
/// copies them only then. <see cref="CpuTrainingDevice"/> is the default; <see cref="TrainingOptions.DeviceFactory"/>
/// injects another.
/// </summary>
/// <remarks>
/// <para><b>Lifetime.</b> The trainer creates one device per <see cref="Trainer.Train"/> or <see cref="Trainer.Resume"/>
/// call, after a resumed checkpoint's values were written to the host copy, and disposes it when the run ends or throws.
/// A new device starts from the host values with a reset optimiser; the trainer then imports a resumed optimiser state.</para>
/// <para><b>Threads.</b> Every member is called on the thread that called Train or Resume, one call at a time, never
/// while the model's hooks or validation run; a device may parallelise inside a call.</para>
/// <para><b>Call sequence.</b> Per epoch: <see cref="ResetOptimizer"/> (when
/// <see cref="TrainingOptions.ResetOptimizerEachEpoch"/>), then per batch <see cref="ComputeLossAndGradients"/> and,
/// when the loss is finite, <see cref="Step"/>; at the end of the batches <see cref="CopyParametersToHost"/>, the
/// model's <see cref="ITrainableModel.OnEpochEnd"/> (which may edit the host copy), <see cref="CopyParametersFromHost"/>;
/// then validation and the best-parameter snapshot read the host copy. Checkpoints call
/// <see cref="CopyParametersToHost"/> and <see cref="ExportOptimizerState"/>; a resume calls
/// <see cref="ImportOptimizerState"/>. The host copy is current from a <see cref="CopyParametersToHost"/> until the next
/// <see cref="Step"/>; a device may make a copy with no step since the last one cheap.</para>
/// <para><b>Determinism.</b> For bit-identical runs and resumes a device must give the same results for the same
/// parameters, rows and optimiser state, whatever the thread timing.</para>
/// </remarks>
public interface ITrainingDevice : IDisposable
{
    /// <summary>
    /// Computes the loss of <paramref name="rows"/> and leaves on the device the gradient of the mean per-row loss
    /// (the summed gradient divided by <c>rows.Length</c>), ready for <see cref="Step"/>.
    /// </summary>
    /// <param name="rows">Training row indices of the batch, in [0, <see cref="ITrainableModel.TrainingRowCount"/>); at least one.</param>
    /// <param name="cancellationToken">May abandon the batch by throwing <see cref="OperationCanceledException"/>; the trainer then takes no step.</param>
    /// <returns>The <b>sum</b> of the per-row losses (the trainer divides by the row count); not finite stops the run without a step.</returns>
    double ComputeLossAndGradients(ReadOnlyMemory<int> rows, CancellationToken cancellationToken);

    /// <summary>Applies one optimiser step to the device's parameters from the gradients of the last batch.</summary>
    /// <param name="learningRate">The schedule's rate for this step; non-negative and finite.</param>
    void Step(double learningRate);

    /// <summary>Zeroes the optimiser's moments and step count, as if it had just been created (QINCo1 re-creates Adam every epoch).</summary>
    void ResetOptimizer();

    /// <summary>A deep copy of the optimiser state, one moment array per parameter in <see cref="ParameterSet"/> order (for checkpoints).</summary>
    OptimizerState ExportOptimizerState();

    /// <summary>Replaces the optimiser state by a copy of <paramref name="state"/> (when resuming).</summary>
    /// <exception cref="ArgumentException">The state does not match the parameter count or lengths.</exception>
    void ImportOptimizerState(OptimizerState state);

    /// <summary>Writes the device's parameter values into the host copy (<see cref="Parameter.Value"/> arrays).</summary>
    void CopyParametersToHost();

    /// <summary>Reads the host copy's values into the device's parameters, after the host copy was edited.</summary>
    void CopyParametersFromHost();
}
