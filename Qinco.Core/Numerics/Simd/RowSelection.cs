using System;
using System.Runtime.CompilerServices;

namespace Qinco.Core.Numerics;

/// <summary>Per-row selection of the smallest values of a row-major matrix: arg-min and sorted top-k.</summary>
/// <remarks>
/// <para><b>Order.</b> Values are ranked by a total order: smaller value first; equal values (including <c>-0</c> and
/// <c>+0</c>) by smaller index. This is the "smallest value, then smallest index" rule of ALGORITHM.md 8.3.5, so results
/// are deterministic and independent of the memory layout or threading.</para>
/// <para><b>NaN.</b> A NaN ranks after every number, <c>+infinity</c> included (it is treated as "larger than
/// +infinity"); NaNs among themselves are ranked by index. So a NaN is returned only when a row has fewer non-NaN
/// values than requested. Nothing throws on NaN.</para>
/// </remarks>
public static class RowSelection
{
    /// <summary>Largest <c>k</c> accepted by <see cref="TopK"/>.</summary>
    public const int MaxTopK = 1024;

    /// <summary>Index of the smallest value of <paramref name="row"/> (ties: the smallest index; NaN ranks last).</summary>
    /// <param name="row">The values; at least one.</param>
    /// <returns>The index of the first minimum.</returns>
    /// <exception cref="ArgumentException"><paramref name="row"/> is empty.</exception>
    public static int ArgMin(ReadOnlySpan<float> row)
    {
        if (row.IsEmpty)
        {
            throw new ArgumentException("The row is empty: arg-min needs at least one value.", nameof(row));
        }
        int best = 0;
        float bestValue = row[0];
        for (int j = 1; j < row.Length; j++)
        {
            float v = row[j];
            if (Precedes(v, bestValue))
            {
                bestValue = v;
                best = j;
            }
        }
        return best;
    }

    /// <summary>Arg-min of every row of a <c>[rows, columns]</c> matrix, with the minimum values.</summary>
    /// <param name="values">Shape: [rows, columns].</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="columns">Row length, at least 1.</param>
    /// <param name="indices">Shape: [rows]; receives the index of each row's minimum.</param>
    /// <param name="minima">Shape: [rows]; receives each row's minimum value.</param>
    /// <exception cref="ArgumentOutOfRangeException">Negative <paramref name="rows"/> or <paramref name="columns"/> below 1.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs.</exception>
    public static void ArgMin(ReadOnlySpan<float> values, int rows, int columns, Span<int> indices, Span<float> minima)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        CheckLength(values.Length, (long)rows * columns, nameof(values));
        CheckLength(indices.Length, rows, nameof(indices));
        CheckLength(minima.Length, rows, nameof(minima));
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<float> row = values.Slice(i * columns, columns);
            int j = ArgMin(row);
            indices[i] = j;
            minima[i] = row[j];
        }
    }

    /// <summary>
    /// The <paramref name="k"/> smallest values of every row with their column indices, sorted ascending by
    /// (value, index), through a bounded max-heap (O(columns log k) per row, no allocation).
    /// </summary>
    /// <param name="values">Shape: [rows, columns].</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="columns">Row length.</param>
    /// <param name="k">Results per row, 1 to <see cref="MaxTopK"/> and at most <paramref name="columns"/> (a larger
    /// <paramref name="k"/> is an error, not clamped: the caller sizes the destinations).</param>
    /// <param name="indices">Shape: [rows, k]; receives the column indices, best first.</param>
    /// <param name="topValues">Shape: [rows, k]; receives the values, ascending.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is below 1, above <see cref="MaxTopK"/> or above <paramref name="columns"/>; or a negative size.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs.</exception>
    public static void TopK(ReadOnlySpan<float> values, int rows, int columns, int k, Span<int> indices, Span<float> topValues)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, MaxTopK);
        if (k > columns)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k = {k} exceeds the row length {columns}.");
        }
        CheckLength(values.Length, (long)rows * columns, nameof(values));
        CheckLength(indices.Length, (long)rows * k, nameof(indices));
        CheckLength(topValues.Length, (long)rows * k, nameof(topValues));
        for (int i = 0; i < rows; i++)
        {
            TopKRow(values.Slice(i * columns, columns), indices.Slice(i * k, k), topValues.Slice(i * k, k));
        }
    }

    /// <summary>Whether (a, any larger index) ranks strictly before (b, smaller index): a &lt; b, or b is NaN and a is not.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Precedes(float a, float b) => a < b || (float.IsNaN(b) && !float.IsNaN(a));

    /// <summary>Total order on (value, index): negative when (va, ia) ranks first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Before(float va, int ia, float vb, int ib)
    {
        if (va < vb)
        {
            return true;
        }
        if (vb < va)
        {
            return false;
        }
        bool naA = float.IsNaN(va), naB = float.IsNaN(vb);
        if (naA != naB)
        {
            return naB; // the non-NaN one ranks first
        }
        return ia < ib; // equal, or both NaN
    }

    /// <summary>Max-heap (root = worst kept) stored in the destination slices, then heap-sorted ascending in place.</summary>
    private static void TopKRow(ReadOnlySpan<float> row, Span<int> idx, Span<float> val)
    {
        int k = idx.Length;
        for (int j = 0; j < k; j++)
        {
            // sift up
            int pos = j;
            float v = row[j];
            while (pos > 0)
            {
                int parent = (pos - 1) >> 1;
                if (!Before(val[parent], idx[parent], v, j))
                {
                    break;
                }
                val[pos] = val[parent];
                idx[pos] = idx[parent];
                pos = parent;
            }
            val[pos] = v;
            idx[pos] = j;
        }
        for (int j = k; j < row.Length; j++)
        {
            float v = row[j];
            if (Before(v, j, val[0], idx[0]))
            {
                SiftDown(idx, val, k, v, j);
            }
        }
        // Heap sort: repeatedly move the worst to the end.
        for (int end = k - 1; end > 0; end--)
        {
            float v = val[end];
            int ix = idx[end];
            val[end] = val[0];
            idx[end] = idx[0];
            SiftDown(idx, val, end, v, ix);
        }
    }

    /// <summary>Places (v, ix) at the root of the max-heap of size <paramref name="size"/> and sifts it down.</summary>
    private static void SiftDown(Span<int> idx, Span<float> val, int size, float v, int ix)
    {
        int pos = 0;
        while (true)
        {
            int child = 2 * pos + 1;
            if (child >= size)
            {
                break;
            }
            if (child + 1 < size && Before(val[child], idx[child], val[child + 1], idx[child + 1]))
            {
                child++;
            }
            if (!Before(v, ix, val[child], idx[child]))
            {
                break;
            }
            val[pos] = val[child];
            idx[pos] = idx[child];
            pos = child;
        }
        val[pos] = v;
        idx[pos] = ix;
    }

    private static void CheckLength(int actual, long needed, string parameter)
    {
        if (actual < needed)
        {
            throw new ArgumentException($"The span holds {actual} values; its shape needs {needed}.", parameter);
        }
    }
}
