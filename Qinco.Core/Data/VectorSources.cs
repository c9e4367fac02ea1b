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
        int d = source.Dimension;
        if (source is VectorSet set)
        {
            for (int first = 0; first < rows; first += RowsPerChunk(d))
            {
                int count = Math.Min(RowsPerChunk(d), rows - first);
                visit(first, set.Data.AsSpan(first * d, count * d));
            }
            return;
        }
        var buffer = new float[(long)Math.Min(RowsPerChunk(d), rows) * d];
        for (int first = 0; first < rows; first += RowsPerChunk(d))
        {
            int count = Math.Min(RowsPerChunk(d), rows - first);
            source.ReadRange(first, count, buffer);
            visit(first, buffer.AsSpan(0, count * d));
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
