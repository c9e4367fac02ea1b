using System;
using System.Collections.Generic;
using System.Linq;

namespace Qinco.Core;

/// <summary>
/// An in-memory set of vectors: <see cref="Count"/> rows of <see cref="Dimension"/> floats, stored row-major in one
/// contiguous array. This is the type every quantizer, trainer and search structure of the library takes: the float
/// face of <see cref="Matrix{T}"/>, whose <see cref="Matrix{T}.Rows"/> and <see cref="Matrix{T}.Columns"/> it names
/// <see cref="Count"/> and <see cref="Dimension"/>.
/// </summary>
/// <remarks>
/// The set does not copy on <see cref="FromArray(float[], int)"/>: it wraps the caller's array, so later writes to
/// that array are visible through the set. Use <see cref="Clone"/> for an independent copy.
/// </remarks>
public sealed class VectorSet : Matrix<float>, IVectorSource
{
    /// <summary>Creates a zero-filled set of <paramref name="count"/> vectors of <paramref name="dimension"/> floats.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative count, a dimension below 1, or more than 2^31-1 floats in all.</exception>
    public VectorSet(int count, int dimension)
        : base(Allocate(count, dimension, "floats"), dimension)
    {
    }

    private VectorSet(float[] data, int dimension)
        : base(data, dimension)
    {
    }

    /// <summary>Number of vectors (rows).</summary>
    public int Count => Rows;

    /// <summary>Number of floats per vector (columns).</summary>
    public int Dimension => Columns;

    /// <inheritdoc/>
    public void ReadRange(int first, int count, Span<float> destination)
    {
        VectorSources.CheckRange(this, first, count, destination);
        AsSpan(first, count).CopyTo(destination);
    }

    /// <inheritdoc/>
    public void ReadRows(ReadOnlySpan<int> rows, Span<float> destination)
    {
        VectorSources.CheckRows(this, rows, destination, "the set");
        int d = Dimension;
        for (int i = 0; i < rows.Length; i++)
        {
            Row(rows[i]).CopyTo(destination.Slice(i * d, d));
        }
    }

    /// <summary>Wraps (without copying) a row-major array as a set of vectors of <paramref name="dimension"/> floats.</summary>
    /// <exception cref="ArgumentException">The array length is not a multiple of the dimension.</exception>
    public static new VectorSet FromArray(float[] data, int dimension)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new(CheckWholeRows(data, data.Length, dimension, $"The array holds {data.Length} floats", $"the dimension {dimension}"), dimension);
    }

    /// <summary>Copies a span of row-major values into a new set.</summary>
    /// <exception cref="ArgumentException">The span length is not a multiple of the dimension.</exception>
    public static VectorSet FromSpan(ReadOnlySpan<float> data, int dimension) =>
        new(CheckWholeRows(data, data.Length, dimension, $"The span holds {data.Length} floats", $"the dimension {dimension}").ToArray(), dimension);

    /// <summary>Copies jagged rows into a new set; every row must have the same length.</summary>
    /// <exception cref="ArgumentException">No rows, or rows of different lengths (the first offending row is named).</exception>
    public static VectorSet FromRows(IReadOnlyList<float[]> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        int dimension = rows.Count == 0
            ? throw new ArgumentException("At least one row is needed to know the dimension.", nameof(rows))
            : rows[0]?.Length ?? throw new ArgumentException("Row 0 is null.", nameof(rows));
        if (dimension == 0)
        {
            throw new ArgumentException("Rows are empty: the dimension must be at least 1.", nameof(rows));
        }
        var set = new VectorSet(rows.Count, dimension);
        for (int i = 0; i < rows.Count; i++)
        {
            float[]? row = rows[i];
            if (row is null || row.Length != dimension)
            {
                throw new ArgumentException($"Row {i} has {(row is null ? "no values (null)" : row.Length + " values")}, but row 0 has {dimension}.", nameof(rows));
            }
            row.CopyTo(set.Data, i * dimension);
        }
        return set;
    }

    /// <summary>Copies rows <c>[start, start + count)</c> into a new set.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The rows are not all in the set.</exception>
    public new VectorSet Slice(int start, int count) => (VectorSet)base.Slice(start, count);

    /// <summary>A deep copy of the set.</summary>
    public new VectorSet Clone() => (VectorSet)base.Clone();

    /// <summary>Copies the rows into a new jagged array.</summary>
    public float[][] ToRows() => [.. Enumerable.Range(0, Count).Select(i => Row(i).ToArray())];

    /// <summary>Throws <see cref="ArgumentException"/> naming the first row and column that hold NaN or an infinity.</summary>
    /// <param name="parameterName">The argument name the exception reports.</param>
    public void ThrowIfNotFinite(string parameterName)
    {
        ReadOnlySpan<float> values = Data;
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new ArgumentException($"Vector {i / Dimension}, component {i % Dimension} is {values[i]}: every value must be finite.", parameterName);
            }
        }
    }

    private protected override string Extent => $"the set of {Count} vectors";

    private protected override Matrix<float> Wrap(float[] data) => new VectorSet(data, Dimension);
}
