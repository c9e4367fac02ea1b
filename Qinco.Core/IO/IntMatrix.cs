using System;

namespace Qinco.Core.IO;

/// <summary>
/// A row-major matrix of 32-bit integers (e.g. the neighbour ids of an .ivecs ground-truth file): <see cref="Rows"/> x <see cref="Columns"/> values in one array.
/// </summary>
/// <remarks><see cref="FromArray"/> wraps the caller's array without copying.</remarks>
public sealed class IntMatrix
{
    private readonly int[] _data;

    /// <summary>Creates a zero-filled matrix.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative rows, fewer than one column, or more values than an array holds.</exception>
    public IntMatrix(int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        long total = (long)rows * columns;
        if (total > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), $"{rows} x {columns} values exceed the largest array .NET can allocate.");
        }
        _data = new int[total];
        Rows = rows;
        Columns = columns;
    }

    private IntMatrix(int[] data, int rows, int columns)
    {
        _data = data;
        Rows = rows;
        Columns = columns;
    }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>Number of values per row.</summary>
    public int Columns { get; }

    /// <summary>The backing row-major array, <c>Rows * Columns</c> values long.</summary>
    public int[] Data => _data;

    /// <summary>The value at <paramref name="row"/>, <paramref name="column"/>.</summary>
    public int this[int row, int column]
    {
        get => Row(row)[CheckColumn(column)];
        set => RowSpan(row)[CheckColumn(column)] = value;
    }

    /// <summary>The values of one row, read-only.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="row"/> is not a row of the matrix.</exception>
    public ReadOnlySpan<int> Row(int row) => RowSpan(row);

    /// <summary>The values of one row, writable.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="row"/> is not a row of the matrix.</exception>
    public Span<int> RowSpan(int row)
    {
        if ((uint)row >= (uint)Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(row), $"Row {row} is outside the matrix of {Rows} rows.");
        }
        return _data.AsSpan(row * Columns, Columns);
    }

    /// <summary>Wraps (without copying) a row-major array as a matrix of <paramref name="columns"/> columns.</summary>
    /// <exception cref="ArgumentException">The array length is not a multiple of <paramref name="columns"/>.</exception>
    public static IntMatrix FromArray(int[] data, int columns)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        if (data.Length % columns != 0)
        {
            throw new ArgumentException($"The array holds {data.Length} values, which is not a multiple of {columns} columns.", nameof(data));
        }
        return new IntMatrix(data, data.Length / columns, columns);
    }

    private int CheckColumn(int column)
    {
        if ((uint)column >= (uint)Columns)
        {
            throw new ArgumentOutOfRangeException(nameof(column), $"Column {column} is outside the matrix of {Columns} columns.");
        }
        return column;
    }
}
