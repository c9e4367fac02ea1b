using System;
using System.Runtime.CompilerServices;

namespace Qinco.Core;

/// <summary>
/// A row-major matrix: <see cref="Rows"/> x <see cref="Columns"/> values in one contiguous array. The library holds
/// vectors as <c>Matrix&lt;float&gt;</c> (<see cref="VectorSet"/>), packed codes as <c>Matrix&lt;byte&gt;</c>
/// (<see cref="CodeSet"/>) and neighbour ids as <c>Matrix&lt;int&gt;</c> or <c>Matrix&lt;long&gt;</c>.
/// </summary>
/// <typeparam name="T">The element type; the vector files (<see cref="IO.VectorFile"/>) hold <see cref="float"/>,
/// <see cref="byte"/>, <see cref="int"/> and <see cref="long"/>.</typeparam>
/// <remarks>
/// <see cref="FromArray(T[], int)"/> wraps the caller's array without copying, so later writes to that array are visible
/// through the matrix; <see cref="Slice"/> and <see cref="Clone"/> copy. A matrix has at least one column, so a matrix of
/// zero rows still knows its row length.
/// </remarks>
public class Matrix<T>
    where T : unmanaged
{
    private readonly T[] _data;

    /// <summary>Creates a zero-filled matrix of <paramref name="rows"/> x <paramref name="columns"/> values.</summary>
    /// <param name="rows">Number of rows, 0 or more.</param>
    /// <param name="columns">Values per row, 1 or more.</param>
    /// <exception cref="ArgumentOutOfRangeException">Negative rows, fewer than one column, or more values than an array
    /// holds (the message names both sizes).</exception>
    public Matrix(int rows, int columns)
        : this(Allocate(rows, columns, "values"), columns)
    {
    }

    /// <summary>Wraps <paramref name="data"/>, already checked to hold whole rows of <paramref name="columns"/> values.</summary>
    private protected Matrix(T[] data, int columns)
    {
        _data = data;
        Rows = data.Length / columns;
        Columns = columns;
    }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>Number of values per row.</summary>
    public int Columns { get; }

    /// <summary>The backing row-major array, <c>Rows * Columns</c> values long (not a copy).</summary>
    public T[] Data => _data;

    /// <summary>The value at <paramref name="row"/>, <paramref name="column"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The row or the column is outside the matrix.</exception>
    public T this[int row, int column]
    {
        get => this[row][CheckColumn(column)];
        set => this[row][CheckColumn(column)] = value;
    }

    /// <summary>The values of one row, writable.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="row"/> is not a row of the matrix.</exception>
    public Span<T> this[int row]
    {
        get
        {
            if ((uint)row >= (uint)Rows)
            {
                throw new ArgumentOutOfRangeException(nameof(row), $"Row {row} is outside {Extent}.");
            }
            return _data.AsSpan(row * Columns, Columns);
        }
    }

    /// <summary>The values of one row, read-only.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="row"/> is not a row of the matrix.</exception>
    public ReadOnlySpan<T> Row(int row) => this[row];

    /// <summary>All values, row-major.</summary>
    public Span<T> AsSpan() => _data;

    /// <summary>The values of rows <c>[start, start + count)</c>, row-major.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The rows are not all in the matrix.</exception>
    public Span<T> AsSpan(int start, int count)
    {
        if (start < 0 || count < 0 || start > Rows - count)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"Rows [{start}, {(long)start + count}) are outside {Extent}.");
        }
        return _data.AsSpan(start * Columns, count * Columns);
    }

    /// <summary>Wraps (without copying) a row-major array as a matrix of <paramref name="columns"/> columns.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="columns"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The array length is not a multiple of <paramref name="columns"/>.</exception>
    public static Matrix<T> FromArray(T[] data, int columns)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new(CheckWholeRows(data, data.Length, columns, $"The array holds {data.Length} values", $"{columns} columns"), columns);
    }

    /// <summary>Copies rows <c>[start, start + count)</c> into a new matrix of the same type.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The rows are not all in the matrix.</exception>
    public Matrix<T> Slice(int start, int count) => Wrap(AsSpan(start, count).ToArray());

    /// <summary>A deep copy of the matrix, of the same type.</summary>
    public Matrix<T> Clone() => Wrap((T[])_data.Clone());

    /// <summary>Names the matrix in messages, e.g. "the matrix of 5 rows".</summary>
    private protected virtual string Extent => $"the matrix of {Rows} rows";

    /// <summary>Wraps rows of this matrix's width in the derived type, so slices and clones keep it.</summary>
    private protected virtual Matrix<T> Wrap(T[] data) => new(data, Columns);

    /// <summary>Allocates <paramref name="rows"/> x <paramref name="columns"/> values; the messages count <paramref name="values"/> (e.g. "floats").</summary>
    private protected static T[] Allocate(int rows, int columns, string values,
        [CallerArgumentExpression(nameof(rows))] string rowsName = "", [CallerArgumentExpression(nameof(columns))] string columnsName = "")
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows, rowsName);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1, columnsName);
        long total = (long)rows * columns;
        if (total > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(rowsName, $"{rows} x {columns} {values} exceed the largest array .NET can allocate.");
        }
        return new T[total];
    }

    /// <summary>Returns <paramref name="data"/> when its <paramref name="length"/> is a whole number of rows; the message
    /// reads "<paramref name="holds"/>, which is not a multiple of <paramref name="rowLength"/>."</summary>
    private protected static TData CheckWholeRows<TData>(TData data, int length, int columns, string holds, string rowLength,
        [CallerArgumentExpression(nameof(data))] string dataName = "", [CallerArgumentExpression(nameof(columns))] string columnsName = "")
        where TData : allows ref struct
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1, columnsName);
        if (length % columns != 0)
        {
            throw new ArgumentException($"{holds}, which is not a multiple of {rowLength}.", dataName);
        }
        return data;
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
