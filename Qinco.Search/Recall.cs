using System;
using System.Numerics;
using Qinco.Core;

namespace Qinco.Search;

/// <summary>1-recall@k: how often the true nearest neighbour is found among the first k results.</summary>
public static class Recall
{
    /// <summary>
    /// The share (0..1) of queries whose ground-truth nearest neighbour (column 0 of <paramref name="groundTruth"/>)
    /// is among the first <paramref name="k"/> ids of that query's results.
    /// </summary>
    /// <typeparam name="TId">The ground truth's id type: <see cref="int"/> (e.g. an <c>.ivecs</c> file) or <see cref="long"/>.</typeparam>
    /// <param name="results">Shape: [queries, at least k]; 64-bit result ids per query, best first.</param>
    /// <param name="groundTruth">Shape: [queries, at least 1]; true neighbour ids, nearest first, in the same id space as the results.</param>
    /// <param name="k">Results considered per query, 1 to <c>results.Columns</c>.</param>
    /// <returns>The share of queries counted as found; 0 when there are no queries.</returns>
    /// <exception cref="ArgumentNullException">A matrix is null.</exception>
    /// <exception cref="ArgumentException">The row counts differ, or the ground truth has no column.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is below 1 or above the result columns.</exception>
    public static double AtK<TId>(Matrix<long> results, Matrix<TId> groundTruth, int k)
        where TId : unmanaged, IBinaryInteger<TId>
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(groundTruth);
        if (results.Rows != groundTruth.Rows)
        {
            throw new ArgumentException($"There are results for {results.Rows} queries but ground truth for {groundTruth.Rows}.", nameof(groundTruth));
        }
        if (groundTruth.Rows > 0 && groundTruth.Columns < 1)
        {
            throw new ArgumentException("The ground truth has no column: it needs each query's nearest neighbour in column 0.", nameof(groundTruth));
        }
        if (k < 1 || k > results.Columns)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be in 1..{results.Columns} (the results hold {results.Columns} ids per query).");
        }
        if (results.Rows == 0)
        {
            return 0;
        }
        int found = 0;
        for (int q = 0; q < results.Rows; q++)
        {
            long truth = long.CreateSaturating(groundTruth[q, 0]);
            if (results.Row(q)[..k].Contains(truth))
            {
                found++;
            }
        }
        return (double)found / results.Rows;
    }

    /// <summary>1-recall@k of a <see cref="SearchResult"/>; see <see cref="AtK{TId}(Matrix{long}, Matrix{TId}, int)"/>.</summary>
    /// <typeparam name="TId">The ground truth's id type: <see cref="int"/> or <see cref="long"/>.</typeparam>
    /// <param name="results">The search results.</param>
    /// <param name="groundTruth">Shape: [queries, at least 1]; true neighbour ids, nearest first.</param>
    /// <param name="k">Results considered per query, 1 to <see cref="SearchResult.K"/>.</param>
    /// <returns>The share (0..1) of queries whose true nearest neighbour is found.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="results"/> is null.</exception>
    public static double AtK<TId>(SearchResult results, Matrix<TId> groundTruth, int k)
        where TId : unmanaged, IBinaryInteger<TId>
    {
        ArgumentNullException.ThrowIfNull(results);
        return AtK(results.Ids, groundTruth, k);
    }
}
