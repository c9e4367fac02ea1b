using System;

namespace Qinco.Search;

/// <summary>How <see cref="IvfIndex.Search"/> trades speed for recall (ALGORITHM.md §4.3b, §4.5).</summary>
public sealed record IvfSearchParameters
{
    /// <summary>A <see cref="Shortlist"/> that keeps every scanned code.</summary>
    public const int Unlimited = int.MaxValue;

    /// <summary>
    /// Inverted lists scanned per query, the nearest centroids first (default: 16). A value above the index's list
    /// count is clamped to it (every list is scanned); it must be at least 1.
    /// </summary>
    public int NProbe { get; init; } = 16;

    /// <summary>
    /// Codes the look-up-table stage keeps per query, by approximate (additive-decoder) distance, for the exact
    /// re-ranking (default: 100; <see cref="Unlimited"/> keeps all). Only these can be returned: a query gets
    /// min(k, shortlist, scanned codes) results.
    /// </summary>
    public int Shortlist { get; init; } = 100;

    /// <summary>
    /// The optional middle stage (ALGORITHM.md §4.4–4.5): when above <see cref="Shortlist"/> and the index has a
    /// <see cref="IvfIndex.Pairwise"/> decoder, the table stage keeps this many codes, the pairwise decoder re-ranks
    /// them by exact L2 to its reconstructions and passes the best <see cref="Shortlist"/> to the full decode
    /// (default: 0, no middle stage). Ignored without a pairwise decoder.
    /// </summary>
    public int MiddleShortlist { get; init; }

    /// <summary>
    /// Whether the shortlist is decoded by the quantizer and re-ranked by exact L2 (default: true). False returns the
    /// look-up-table distances. Re-ranking is skipped anyway where the additive decoder is the quantizer's exact
    /// decoder and norms are stored as float (RQ), since the two distances then agree.
    /// </summary>
    public bool Rerank { get; init; } = true;

    /// <summary>Threads over queries; -1 (default) uses all processors. Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid parameter.</summary>
    public void Validate()
    {
        if (NProbe < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(NProbe), NProbe, $"NProbe = {NProbe} must be at least 1 (values above the list count scan every list).");
        }
        if (Shortlist < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Shortlist), Shortlist, $"Shortlist = {Shortlist} must be at least 1.");
        }
        Checks.InRange(MiddleShortlist, 0, int.MaxValue, nameof(MiddleShortlist));
        Checks.Parallelism(MaxDegreeOfParallelism, nameof(MaxDegreeOfParallelism));
    }
}

/// <summary>How an <see cref="IvfIndex"/> stores the squared norm of each code's additive reconstruction (ALGORITHM.md §4.2).</summary>
public enum NormStorage
{
    /// <summary>
    /// 4 bytes: <c>||c + r̂||²</c> as float32 (the distance terms that do not depend on the query), so one
    /// look-up table per query serves every probed list.
    /// </summary>
    Float = 0,

    /// <summary>
    /// 1 byte: <c>||r̂||²</c> uniformly quantised to 8 bits over the [min, max] of the training set's <c>||r̂||²</c>
    /// (ALGORITHM.md §4.2 (4.4) with its [REC] range); the cross term comes from a per-list table
    /// <c>2⟨c, A_m[k]⟩</c> ([lists, M·K] floats) added to the query's table for each probed list.
    /// </summary>
    Byte = 1,
}
