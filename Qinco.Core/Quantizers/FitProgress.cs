using System;

namespace Qinco.Core;

/// <summary>Progress of <see cref="IQuantizer.Fit"/>.</summary>
/// <param name="Phase">What is running, e.g. "k-means step 3/8" or "training".</param>
/// <param name="Completed">Units of work done in the whole fit.</param>
/// <param name="Total">Units of work in the whole fit (an estimate for early-stopped training).</param>
/// <param name="Elapsed">Time since <see cref="IQuantizer.Fit"/> started.</param>
/// <param name="Detail">A one-line human-readable detail (loss, MSE, learning rate), or null.</param>
/// <param name="Training">The training loop's own report while a neural quantizer trains, or null.</param>
public sealed record FitProgress(string Phase, int Completed, int Total, TimeSpan Elapsed, string? Detail = null, Qinco.Training.TrainingProgress? Training = null);

/// <summary>
/// Forwards reports to a callback on the reporting thread, in order, before <c>Report</c> returns — unlike
/// <see cref="Progress{T}"/>, which posts them to the thread pool where they can arrive after the fit has returned.
/// </summary>
internal sealed class ForwardingProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
