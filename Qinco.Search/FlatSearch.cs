using System;
using System.Threading.Tasks;
using Qinco.Core;
using Qinco.Core.Numerics;

namespace Qinco.Search;

/// <summary>
/// Exact (brute-force) L2 k-nearest-neighbour search of queries against a database held in memory.
/// </summary>
/// <remarks>
/// <para>Queries are processed in blocks: the block's squared distances to every database vector are computed with
/// <see cref="Distances.SquaredL2(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, int, Span{float}, int)"/> (the
/// GEMM form <c>||q||^2 - 2 q.x + ||x||^2</c> for large shapes), then each row's <c>k</c> best are selected with
/// <see cref="RowSelection.TopK"/>. Results are sorted by smallest distance, ties to the smallest database id, and
/// do not depend on the number of threads (blocks run in parallel, each row is computed by one thread).</para>
/// </remarks>
public static class FlatSearch
{
    /// <summary>Upper bound on the floats of one block's distance matrix (4 Mi floats = 16 MiB).</summary>
    private const long MaxBlockFloats = 1L << 22;

    /// <summary>Largest number of queries in one block.</summary>
    private const int MaxBlockRows = 128;

    /// <summary>Finds the <paramref name="k"/> nearest database vectors of every query.</summary>
    /// <param name="database">The vectors searched; their row indices are the result ids.</param>
    /// <param name="queries">The query vectors, of the database's dimension.</param>
    /// <param name="k">Neighbours per query, 1 to <see cref="RowSelection.MaxTopK"/> and at most <c>database.Count</c>.</param>
    /// <param name="maxDegreeOfParallelism">Threads to use; -1 uses all processors.</param>
    /// <returns>The ids (64-bit database row indices) and squared distances of each query's neighbours, nearest first;
    /// every query has <paramref name="k"/>, since <paramref name="k"/> is at most the database size.</returns>
    /// <exception cref="ArgumentNullException">A set is null.</exception>
    /// <exception cref="ArgumentException">The dimensions differ, the database is empty, or a set holds NaN/Inf.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is out of range, or the degree of parallelism is neither -1 nor positive.</exception>
    public static SearchResult Search(VectorSet database, VectorSet queries, int k, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(queries);
        if (database.Count == 0)
        {
            throw new ArgumentException("The database is empty: there is nothing to search.", nameof(database));
        }
        if (queries.Dimension != database.Dimension)
        {
            throw new ArgumentException($"The queries have dimension {queries.Dimension}, but the database has dimension {database.Dimension}.", nameof(queries));
        }
        if (k < 1 || k > RowSelection.MaxTopK || k > database.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be in 1..{Math.Min(RowSelection.MaxTopK, database.Count)} (at most {RowSelection.MaxTopK} and at most the {database.Count} database vectors).");
        }
        if (maxDegreeOfParallelism != -1 && maxDegreeOfParallelism < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxDegreeOfParallelism), maxDegreeOfParallelism, "The degree of parallelism must be -1 (all processors) or at least 1.");
        }
        database.ThrowIfNotFinite(nameof(database));
        queries.ThrowIfNotFinite(nameof(queries));

        int nq = queries.Count, n = database.Count, d = database.Dimension;
        var ids = new long[(long)nq * k];
        var distances = new float[(long)nq * k];
        if (nq == 0)
        {
            return new SearchResult(Matrix<long>.FromArray(ids, k), distances, k);
        }

        int blockRows = (int)Math.Clamp(MaxBlockFloats / n, 1, MaxBlockRows);
        int blocks = (nq + blockRows - 1) / blockRows;
        float[] databaseData = database.Data;
        float[] queryData = queries.Data;
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        // Top-k selects 32-bit column indices (a block's distance row is one array); they widen into the 64-bit ids.
        Parallel.For(0, blocks, options, () => (Distances: new float[(long)blockRows * n], Columns: new int[blockRows * k]), (block, _, scratch) =>
        {
            int start = block * blockRows;
            int rows = Math.Min(blockRows, nq - start);
            Span<float> dist = scratch.Distances.AsSpan(0, rows * n);
            Span<int> columns = scratch.Columns.AsSpan(0, rows * k);
            Distances.SquaredL2(queryData.AsSpan(start * d, rows * d), databaseData, rows, n, d, dist, maxDegreeOfParallelism: 1);
            RowSelection.TopK(dist, rows, n, k, columns, distances.AsSpan(start * k, rows * k));
            Span<long> blockIds = ids.AsSpan(start * k, rows * k);
            for (int i = 0; i < columns.Length; i++)
            {
                blockIds[i] = columns[i];
            }
            return scratch;
        }, _ => { });
        return new SearchResult(Matrix<long>.FromArray(ids, k), distances, k);
    }
}

/// <summary>The neighbours found for a batch of queries: <see cref="K"/> per query, nearest first.</summary>
public sealed class SearchResult
{
    private readonly float[] _distances;

    /// <summary>Wraps search results.</summary>
    /// <param name="ids">Shape: [queries, k]; 64-bit database ids, nearest first.</param>
    /// <param name="distances">Shape: [queries, k]; the matching squared L2 distances.</param>
    /// <param name="k">Neighbours per query.</param>
    /// <exception cref="ArgumentException">The shapes do not agree.</exception>
    public SearchResult(Matrix<long> ids, float[] distances, int k)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(distances);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (ids.Columns != k)
        {
            throw new ArgumentException($"The id matrix has {ids.Columns} columns; expected k = {k}.", nameof(ids));
        }
        if (distances.Length != (long)ids.Rows * k)
        {
            throw new ArgumentException($"The distances hold {distances.Length} values; expected {ids.Rows} x {k}.", nameof(distances));
        }
        Ids = ids;
        _distances = distances;
        K = k;
    }

    /// <summary>Neighbours per query.</summary>
    public int K { get; }

    /// <summary>Number of queries.</summary>
    public int QueryCount => Ids.Rows;

    /// <summary>Shape: [queries, k]; the 64-bit database ids of each query's neighbours, nearest first.</summary>
    public Matrix<long> Ids { get; }

    /// <summary>Shape: [queries, k], row-major; the squared L2 distances matching <see cref="Ids"/>.</summary>
    public ReadOnlySpan<float> Distances => _distances;

    /// <summary>The ids of query <paramref name="query"/>'s neighbours, nearest first.</summary>
    public ReadOnlySpan<long> NeighborsOf(int query) => Ids.Row(query);

    /// <summary>The squared distances of query <paramref name="query"/>'s neighbours, ascending.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="query"/> is out of range.</exception>
    public ReadOnlySpan<float> DistancesOf(int query)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(query);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(query, QueryCount);
        return _distances.AsSpan(query * K, K);
    }
}
