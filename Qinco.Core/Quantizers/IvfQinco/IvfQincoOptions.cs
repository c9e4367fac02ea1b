using System;

namespace Qinco.Core;

/// <summary>
/// Settings of an <see cref="IvfQincoQuantizer"/>: those of QINCo (<see cref="QincoOptions"/>, for the M neural steps
/// after the list number) and of the inverted file in front of them. Create through <see cref="Quantizer.IvfQinco(int)"/>.
/// </summary>
public sealed record IvfQincoOptions : QincoOptions
{
    /// <summary>The most lists: 2^<see cref="CodeLayout.MaxListBits"/>.</summary>
    public const int MaxLists = 1 << CodeLayout.MaxListBits;

    /// <summary>Number of inverted lists N (coarse centroids), 1..<see cref="MaxLists"/>; null (default) chooses <see cref="DefaultLists"/> of the training-set size when fitting.</summary>
    public int? Lists { get; init; }

    /// <summary>Lloyd iterations of the coarse k-means (default 10, as QINCo1's <c>--kmeans_iter</c>).</summary>
    public int CoarseIterations { get; init; } = 10;

    /// <summary>
    /// Lists whose centroids start the encoder's beams (default 1: the exact nearest centroid, as the reference;
    /// more lets the beam search pick another list when its code is better, at the cost of more candidates).
    /// </summary>
    public int ProbedLists { get; init; } = 1;

    /// <summary>
    /// The list count chosen for <paramref name="trainingVectors"/> vectors when <see cref="Lists"/> is null: about 4·√n
    /// rounded to a power of two, within 16..65,536, and never more than n (halved until it fits).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="trainingVectors"/> is below 1.</exception>
    public static int DefaultLists(int trainingVectors)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trainingVectors, 1);
        int lists = 1 << (int)Math.Clamp(Math.Round(Math.Log2(4 * Math.Sqrt(trainingVectors))), 4, 16);
        while (lists > trainingVectors)
        {
            lists /= 2;
        }
        return lists;
    }

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        QuantizerLimits.Require(Lists is null or >= 1 and <= MaxLists, nameof(Lists), Lists ?? 0, $"must be in 1..{MaxLists} (or null to choose from the training size)");
        QuantizerLimits.Require(CoarseIterations >= 1, nameof(CoarseIterations), CoarseIterations, "must be at least 1");
        QuantizerLimits.Require(ProbedLists >= 1 && ProbedLists <= QuantizerLimits.MaxBeamWidth, nameof(ProbedLists), ProbedLists, $"must be in 1..{QuantizerLimits.MaxBeamWidth}");
        QuantizerLimits.Require(Lists is null || ProbedLists <= Lists, nameof(ProbedLists), ProbedLists, $"must not exceed Lists ({Lists})");
    }
}
