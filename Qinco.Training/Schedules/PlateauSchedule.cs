using System;
using System.Collections.Generic;

namespace Qinco.Training;

/// <summary>
/// QINCo1's plateau rule (<c>train_qinco.py::Scheduler</c>, ALGORITHM.md §1.8), evaluated after every epoch with
/// E = number of validation values seen, best = the smallest of them, last = E at the last change (initially 0):
/// <list type="number">
/// <item>if E &gt; last + <see cref="StopPatience"/> and the last <see cref="StopPatience"/> values are all &gt; best: stop;</item>
/// <item>else if E &gt; last + <see cref="Patience"/> and the last <see cref="Patience"/> values are all &gt; best:
/// lr ← lr / <see cref="DecayFactor"/>, last ← E, and stop if then lr &lt; <see cref="MinLearningRate"/>.</item>
/// </list>
/// The learning rate is constant within an epoch.
/// </summary>
public sealed class PlateauSchedule : LearningRateSchedule
{
    private readonly List<double> _values = [];
    private double _best = double.PositiveInfinity;

    /// <summary>Creates the schedule.</summary>
    /// <param name="learningRate">Initial learning rate (QINCo1: 1e-4, or 1e-3 for 500 k vectors).</param>
    /// <param name="patience">Epochs without a new best before the rate is divided (default 10).</param>
    /// <param name="stopPatience">Epochs without a new best before training stops (default 50).</param>
    /// <param name="decayFactor">Divisor applied on a plateau (default 10).</param>
    /// <param name="minLearningRate">Training stops when the rate falls below this (default 2e-6).</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range (named in the exception).</exception>
    public PlateauSchedule(double learningRate, int patience = 10, int stopPatience = 50, double decayFactor = 10, double minLearningRate = 2e-6)
    {
        Require.PositiveFinite(learningRate);
        ArgumentOutOfRangeException.ThrowIfLessThan(patience, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stopPatience, 1);
        Require.That(decayFactor > 1 && double.IsFinite(decayFactor), decayFactor, "Must be greater than 1 and finite.");
        Require.NonNegativeFinite(minLearningRate);
        InitialLearningRate = learningRate;
        LearningRate = learningRate;
        Patience = patience;
        StopPatience = stopPatience;
        DecayFactor = decayFactor;
        MinLearningRate = minLearningRate;
    }

    /// <inheritdoc />
    public override ScheduleKind Kind => ScheduleKind.Plateau;

    /// <summary>The initial learning rate.</summary>
    public double InitialLearningRate { get; }

    /// <summary>The current learning rate.</summary>
    public double LearningRate { get; private set; }

    /// <summary>Epochs without improvement before a decay (QINCo1: 10).</summary>
    public int Patience { get; }

    /// <summary>Epochs without improvement before stopping (QINCo1: 50).</summary>
    public int StopPatience { get; }

    /// <summary>Divisor applied at each decay (QINCo1: 10).</summary>
    public double DecayFactor { get; }

    /// <summary>Floor below which training stops (QINCo1: 2e-6).</summary>
    public double MinLearningRate { get; }

    /// <summary>E at the last learning-rate change (0 before any).</summary>
    public int LastChange { get; private set; }

    /// <summary>Number of validation values seen (E).</summary>
    public int ValueCount => _values.Count;

    /// <inheritdoc />
    public override double GetLearningRate(int epoch, int batch, int batchesPerEpoch) => LearningRate;

    /// <summary>Feeds one validation value and applies the rule.</summary>
    /// <param name="validationMetric">Validation value of the epoch just completed (lower is better).</param>
    /// <returns>Why to stop, or <see cref="StopReason.None"/>.</returns>
    public StopReason Append(double validationMetric)
    {
        _values.Add(validationMetric);
        if (validationMetric < _best)
        {
            _best = validationMetric;
        }
        int e = _values.Count;
        if (e > LastChange + StopPatience && AllAboveBest(StopPatience))
        {
            return StopReason.PlateauPatienceExhausted;
        }
        if (e > LastChange + Patience && AllAboveBest(Patience))
        {
            LearningRate /= DecayFactor;
            LastChange = e;
            if (LearningRate < MinLearningRate)
            {
                return StopReason.LearningRateBelowMinimum;
            }
        }
        return StopReason.None;
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException"><paramref name="validationMetric"/> is null: the plateau rule needs a value every epoch.</exception>
    public override StopReason OnEpochCompleted(int epoch, double? validationMetric) =>
        validationMetric is double value
            ? Append(value)
            : throw new InvalidOperationException("The plateau schedule needs a validation value after every epoch.");

    /// <inheritdoc />
    /// <remarks>Layout: [learning rate, last change, value count, values...].</remarks>
    public override double[] ExportState()
    {
        var state = new double[3 + _values.Count];
        state[0] = LearningRate;
        state[1] = LastChange;
        state[2] = _values.Count;
        _values.CopyTo(state, 3);
        return state;
    }

    /// <inheritdoc />
    public override void ImportState(ReadOnlySpan<double> state)
    {
        if (state.Length < 3 || state[2] != state.Length - 3 || !(state[0] > 0) || !(state[1] >= 0) || state[1] != Math.Floor(state[1]) || state[1] > state[2])
        {
            throw new ArgumentException("Malformed plateau schedule state.", nameof(state));
        }
        LearningRate = state[0];
        LastChange = (int)state[1];
        _values.Clear();
        _best = double.PositiveInfinity;
        foreach (double value in state.Slice(3))
        {
            _values.Add(value);
            if (value < _best)
            {
                _best = value;
            }
        }
    }

    private bool AllAboveBest(int window)
    {
        for (int i = _values.Count - window; i < _values.Count; i++)
        {
            if (!(_values[i] > _best))
            {
                return false;
            }
        }
        return true;
    }
}
