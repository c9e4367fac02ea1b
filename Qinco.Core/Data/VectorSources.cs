using System;
using Qinco.Training;

namespace Qinco.Core;

/// <summary>Receives consecutive rows of a source, starting at row <paramref name="first"/>, row-major.</summary>
internal delegate void ChunkVisitor(int first, ReadOnlySpan<float> chunk);

/// <summary>Chunked reads and seeded samples of an <see cref="IVectorSource"/>, for fits that never hold the whole source.</summary>
internal static class VectorSources
{
    /// <summary>Floats per chunk read from a source (16 MiB).</summary>
    private const int ChunkFloats = 1 << 22;

    /// <summary>
    /// The most training vectors a streamed fit holds in memory at once for the parts that need them together (RQ, the
    /// RQ initialisation of QINCo, IVF-QINCo's residuals): more are sampled down to this many (500,000, the paper's
    /// training-set size).
    /// </summary>
    public const int MaxInMemoryRows = 500_000;

    /// <summary>Rows per chunk for vectors of <paramref name="dimension"/> floats.</summary>
    public static int RowsPerChunk(int dimension) => Math.Max(1, ChunkFloats / dimension);

    /// <summary>Reads rows <c>[0, rows)</c> chunk by chunk and hands each chunk to <paramref name="visit"/>; an in-memory set is visited in place.</summary>
    public static void ForEachChunk(IVectorSource source, int rows, ChunkVisitor visit)
    {
        int d = source.Dimension, chunkRows = RowsPerChunk(d);
        VectorSet? set = source as VectorSet;
        float[] buffer = set is null ? new float[(long)Math.Min(chunkRows, rows) * d] : [];
        for (int first = 0; first < rows; first += chunkRows)
        {
            int count = Math.Min(chunkRows, rows - first);
            if (set is null)
            {
                source.ReadRange(first, count, buffer);
            }
            visit(first, set is null ? buffer.AsSpan(0, count * d) : set.Data.AsSpan(first * d, count * d));
        }
    }

    /// <summary>Checks the arguments of <see cref="IVectorSource.ReadRange"/>: the range lies in the source and the destination holds it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside 0..Count.</exception>
    /// <exception cref="ArgumentException">The destination is too short.</exception>
    public static void CheckRange(IVectorSource source, int first, int count, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, source.Count - first, nameof(count));
        CheckDestination(source, count, destination);
    }

    /// <summary>Checks the arguments of <see cref="IVectorSource.ReadRows"/>, every row number before any row is read.</summary>
    /// <param name="source">The source.</param>
    /// <param name="rows">The row numbers asked for.</param>
    /// <param name="destination">Where they go.</param>
    /// <param name="name">The source in messages, e.g. the file's path.</param>
    /// <exception cref="ArgumentOutOfRangeException">A row number is outside 0..Count.</exception>
    /// <exception cref="ArgumentException">The destination is too short.</exception>
    public static void CheckRows(IVectorSource source, ReadOnlySpan<int> rows, Span<float> destination, string name)
    {
        CheckDestination(source, rows.Length, destination);
        foreach (int row in rows)
        {
            if ((uint)row >= (uint)source.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(rows), $"Row {row} is outside the {source.Count} rows of {name}.");
            }
        }
    }

    private static void CheckDestination(IVectorSource source, int rows, Span<float> destination)
    {
        if (destination.Length < (long)rows * source.Dimension)
        {
            throw new ArgumentException($"The destination holds {destination.Length} floats; {rows} rows of {source.Dimension} need {(long)rows * source.Dimension}.", nameof(destination));
        }
    }

    /// <summary>
    /// Null when <paramref name="count"/> ≤ <paramref name="maxRows"/> (use every row); otherwise <paramref name="maxRows"/>
    /// distinct row numbers drawn uniformly from <paramref name="seed"/>, in increasing order (so a file is read forward).
    /// </summary>
    public static int[]? SampleRows(int count, int maxRows, int seed)
    {
        if (count <= maxRows)
        {
            return null;
        }
        var rows = new int[maxRows];
        new SplitMix64(unchecked((ulong)seed * 0x9E3779B97F4A7C15UL) ^ 0x5EED5A3B1E5UL).SampleWithoutReplacement(count, new int[count], rows);
        Array.Sort(rows);
        return rows;
    }

    /// <summary>The rows <paramref name="rows"/> (null: all) of <paramref name="source"/> in memory; an in-memory set is returned itself when all rows are asked.</summary>
    public static VectorSet Read(IVectorSource source, int[]? rows)
    {
        if (rows is null && source is VectorSet set)
        {
            return set;
        }
        var result = new VectorSet(rows?.Length ?? source.Count, source.Dimension);
        if (rows is null)
        {
            source.ReadRange(0, source.Count, result.AsSpan());
        }
        else
        {
            source.ReadRows(rows, result.AsSpan());
        }
        return result;
    }
}
