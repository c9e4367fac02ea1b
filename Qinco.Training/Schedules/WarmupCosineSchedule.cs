using System;

namespace Qinco.Training;

/// <summary>
/// QINCo2's schedule (ALGORITHM.md (5.8)): <c>lr(t) = lr₀ · max(g(t), MinFactor)</c> with
/// <c>g(t) = t / W</c> for <c>t &lt; W</c> and <c>g(t) = cos(min((t − W)/C, 1) · π/2)</c> otherwise, where W =
/// <see cref="WarmupEpochs"/> (3) and C = <see cref="CosineEpochs"/> (60). The fractional epoch of batch i of
/// epoch e is <c>t = e + (i + 1)/batchesPerEpoch</c>, as set right before that batch's optimiser step.
/// </summary>
/// <remarks>
/// The reference passes <c>lr₀·1e-3</c> where a factor is expected, so its effective floor factor is 8e-7 for
/// lr₀ = 8e-4; this class takes the factor directly (<see cref="MinFactor"/>, default 1e-3, the evident intent).
/// Pass <c>1e-3·lr₀</c> to reproduce the reference bit for bit. The schedule never stops training itself.
/// </remarks>
public sealed class WarmupCosineSchedule : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="learningRate">Peak learning rate lr₀ (QINCo2: 8e-4).</param>
    /// <param name="warmupEpochs">Length of the linear warm-up in epochs (default 3; 0 = none).</param>
    /// <param name="cosineEpochs">Length of the quarter cosine in epochs (default 60).</param>
    /// <param name="minFactor">Floor of the factor g(t) (default 1e-3).</param>
    /// <param name="followBudget">Whether t also advances with the share of the time budget spent (see <see cref="FollowsBudget"/>; default false).</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range (named in the exception).</exception>
    public WarmupCosineSchedule(double learningRate, double warmupEpochs = 3, double cosineEpochs = 60, double minFactor = 1e-3, bool followBudget = false)
    {
        FollowsBudget = followBudget;
        Require.PositiveFinite(learningRate);
        Require.NonNegativeFinite(warmupEpochs);
        Require.PositiveFinite(cosineEpochs);
        Require.That(minFactor >= 0 && minFactor <= 1, minFactor, "Must be in [0, 1].");
        BaseLearningRate = learningRate;
        WarmupEpochs = warmupEpochs;
        CosineEpochs = cosineEpochs;
        MinFactor = minFactor;
    }

    /// <inheritdoc />
    public override ScheduleKind Kind => ScheduleKind.WarmupCosine;

    /// <summary>Peak learning rate lr₀.</summary>
    public double BaseLearningRate { get; }

    /// <summary>Warm-up length in epochs.</summary>
    public double WarmupEpochs { get; }

    /// <summary>Cosine length in epochs.</summary>
    public double CosineEpochs { get; }

    /// <summary>Floor of the multiplicative factor.</summary>
    public double MinFactor { get; }

    /// <summary>
    /// When true, the schedule's clock is the later of the fractional epoch and the share u of the time budget spent,
    /// mapped onto the whole schedule: <c>t = max(e + (i + 1)/n, u·(W + C))</c>. A run that the budget ends after a few
    /// epochs (500,000 vectors in 30 minutes) then still warms up and decays to the floor by the end of its budget,
    /// instead of stopping inside the warm-up. Without a budget it is the epoch schedule. The rate then depends on the
    /// machine's speed, so two runs repeat exactly only without a budget.
    /// </summary>
    public bool FollowsBudget { get; }

    /// <summary>The learning rate at fractional epoch <paramref name="t"/>.</summary>
    public double LearningRateAt(double t)
    {
        double g = t < WarmupEpochs
            ? t / WarmupEpochs
            : Math.Cos(Math.Min((t - WarmupEpochs) / CosineEpochs, 1.0) * Math.PI / 2);
        return BaseLearningRate * Math.Max(g, MinFactor);
    }

    /// <inheritdoc />
    public override double GetLearningRate(int epoch, int batch, int batchesPerEpoch) =>
        LearningRateAt(epoch + ((batch + 1) / (double)batchesPerEpoch));

    /// <inheritdoc />
    public override double GetLearningRate(int epoch, int batch, int batchesPerEpoch, double budgetUsed)
    {
        double t = epoch + ((batch + 1) / (double)batchesPerEpoch);
        return LearningRateAt(FollowsBudget ? Math.Max(t, Math.Clamp(budgetUsed, 0, 1) * (WarmupEpochs + CosineEpochs)) : t);
    }

    /// <inheritdoc />
    public override StopReason OnEpochCompleted(int epoch, double? validationMetric) => StopReason.None;

    /// <inheritdoc />
    /// <remarks>The schedule is a pure function of (epoch, batch): no state.</remarks>
    public override double[] ExportState() => [];

    /// <inheritdoc />
    public override void ImportState(ReadOnlySpan<double> state)
    {
        if (state.Length != 0)
        {
            throw new ArgumentException("A warm-up cosine schedule has no state.", nameof(state));
        }
    }
}
