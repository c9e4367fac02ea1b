using System;
using Qinco.Core;

namespace Qinco.Search;

/// <summary>
/// The residuals of another source's rows to their nearest centroids, computed when the rows are read: a training set
/// for a quantizer behind a <see cref="CoarseQuantizer"/> that never holds the residuals of every row
/// (<see cref="CoarseQuantizer.ResidualsOf"/>). Safe from several threads at once, as the source is.
/// </summary>
internal sealed class ResidualVectorSource : IVectorSource
{
    private readonly IVectorSource _vectors;
    private readonly CoarseQuantizer _coarse;

    public ResidualVectorSource(IVectorSource vectors, CoarseQuantizer coarse)
    {
        if (vectors.Dimension != coarse.Dimension)
        {
            throw new ArgumentException($"The vectors have dimension {vectors.Dimension}, the centroids {coarse.Dimension}.", nameof(vectors));
        }
        _vectors = vectors;
        _coarse = coarse;
    }

    public int Count => _vectors.Count;

    public int Dimension => _vectors.Dimension;

    public void ReadRange(int first, int count, Span<float> destination)
    {
        _vectors.ReadRange(first, count, destination);
        ToResiduals(destination[..(count * Dimension)]);
    }

    public void ReadRows(ReadOnlySpan<int> rows, Span<float> destination)
    {
        _vectors.ReadRows(rows, destination);
        ToResiduals(destination[..(rows.Length * Dimension)]);
    }

    private void ToResiduals(Span<float> rows)
    {
        var lists = new int[rows.Length / Dimension];
        // One thread: the readers (training workers, chunked scans) are already the parallel part.
        _coarse.Assign(rows, lists, maxDegreeOfParallelism: 1);
        _coarse.Residuals(rows, lists, rows);
    }
}
