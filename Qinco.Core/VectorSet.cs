using System;
using System.Collections.Generic;

namespace Qinco.Core;

/// <summary>
/// An in-memory set of vectors: <see cref="Count"/> rows of <see cref="Dimension"/> floats, stored row-major in one
/// contiguous array. This is the type every quantizer, trainer and search structure of the library takes.
/// </summary>
/// <remarks>
/// The set does not copy on <see cref="FromArray(float[], int)"/>: it wraps the caller's array, so later writes to
/// that array are visible through the set. Use <see cref="Clone"/> for an independent copy.
/// </remarks>
public sealed class VectorSet
{
    private readonly float[] _data;

    /// <summary>Creates a zero-filled set of <paramref name="count"/> vectors of <paramref name="dimension"/> floats.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative count, a dimension below 1, or more than 2^31-1 floats in all.</exception>
    public VectorSet(int count, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        long total = (long)count * dimension;
        if (total > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"{count} x {dimension} floats exceed the largest array .NET can allocate.");
        }
        _data = new float[total];
        Count = count;
        Dimension = dimension;
    }

    private VectorSet(float[] data, int count, int dimension)
    {
        _data = data;
        Count = count;
        Dimension = dimension;
    }

    /// <summary>Number of vectors (rows).</summary>
    public int Count { get; }

    /// <summary>Number of floats per vector (columns).</summary>
    public int Dimension { get; }

    /// <summary>The backing row-major array, <c>Count * Dimension</c> floats long.</summary>
    public float[] Data => _data;

    /// <summary>All values, row-major.</summary>
    public Span<float> AsSpan() => _data;

    /// <summary>The values of rows <c>[start, start + count)</c>, row-major.</summary>
    public Span<float> AsSpan(int start, int count)
    {
        CheckRange(start, count);
        return _data.AsSpan(start * Dimension, count * Dimension);
    }

    /// <summary>The values of one vector.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not a row of the set.</exception>
    public Span<float> this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(index), $"Row {index} is outside the set of {Count} vectors.");
            }
            return _data.AsSpan(index * Dimension, Dimension);
        }
    }

    /// <summary>The values of one vector, read-only.</summary>
    public ReadOnlySpan<float> Row(int index) => this[index];

    /// <summary>Wraps (without copying) a row-major array as a set of vectors of <paramref name="dimension"/> floats.</summary>
    /// <exception cref="ArgumentException">The array length is not a multiple of the dimension.</exception>
    public static VectorSet FromArray(float[] data, int dimension)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (data.Length % dimension != 0)
        {
            throw new ArgumentException($"The array holds {data.Length} floats, which is not a multiple of the dimension {dimension}.", nameof(data));
        }
        return new VectorSet(data, data.Length / dimension, dimension);
    }

    /// <summary>Copies a span of row-major values into a new set.</summary>
    public static VectorSet FromSpan(ReadOnlySpan<float> data, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (data.Length % dimension != 0)
        {
            throw new ArgumentException($"The span holds {data.Length} floats, which is not a multiple of the dimension {dimension}.", nameof(data));
        }
        return new VectorSet(data.ToArray(), data.Length / dimension, dimension);
    }

    /// <summary>Copies jagged rows into a new set; every row must have the same length.</summary>
    /// <exception cref="ArgumentException">No rows, or rows of different lengths (the first offending row is named).</exception>
    public static VectorSet FromRows(IReadOnlyList<float[]> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            throw new ArgumentException("At least one row is needed to know the dimension.", nameof(rows));
        }
        int dimension = rows[0]?.Length ?? throw new ArgumentException("Row 0 is null.", nameof(rows));
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
            row.CopyTo(set._data, i * dimension);
        }
        return set;
    }

    /// <summary>Copies rows <c>[start, start + count)</c> into a new set.</summary>
    public VectorSet Slice(int start, int count)
    {
        CheckRange(start, count);
        return new VectorSet(_data.AsSpan(start * Dimension, count * Dimension).ToArray(), count, Dimension);
    }

    /// <summary>A deep copy of the set.</summary>
    public VectorSet Clone() => new((float[])_data.Clone(), Count, Dimension);

    /// <summary>Copies the rows into a new jagged array.</summary>
    public float[][] ToRows()
    {
        var rows = new float[Count][];
        for (int i = 0; i < Count; i++)
        {
            rows[i] = _data.AsSpan(i * Dimension, Dimension).ToArray();
        }
        return rows;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first row and column that hold NaN or an infinity.</summary>
    /// <param name="parameterName">The argument name the exception reports.</param>
    public void ThrowIfNotFinite(string parameterName)
    {
        ReadOnlySpan<float> values = _data;
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new ArgumentException($"Vector {i / Dimension}, component {i % Dimension} is {values[i]}: every value must be finite.", parameterName);
            }
        }
    }

    private void CheckRange(int start, int count)
    {
        if (start < 0 || count < 0 || start > Count - count)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"Rows [{start}, {(long)start + count}) are outside the set of {Count} vectors.");
        }
    }
}
