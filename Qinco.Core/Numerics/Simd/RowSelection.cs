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
    /// <remarks>SIMD of the <see cref="Kernels.Active"/> width; the result does not depend on the width.</remarks>
    public static int ArgMin(ReadOnlySpan<float> row) => ArgMin(row, Kernels.Active);

    /// <summary><see cref="ArgMin(ReadOnlySpan{float})"/> with a variant the caller has already read.</summary>
    internal static int ArgMin(ReadOnlySpan<float> row, KernelVariant variant)
    {
        if (row.IsEmpty)
        {
            throw new ArgumentException("The row is empty: arg-min needs at least one value.", nameof(row));
        }
        return SimdDispatch.Run<ArgMinKernel, int>(new ArgMinKernel(row), variant, row.Length);
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
        // Arg-min and minimum are top-1 index and value.
        var kernel = new TopKRowsKernel(values[..(rows * columns)], columns, 1, indices[..rows], minima[..rows]);
        SimdDispatch.Run<TopKRowsKernel, bool>(kernel, Kernels.Active, columns);
    }

    /// <summary>
    /// The <paramref name="k"/> smallest values of every row with their column indices, sorted ascending by
    /// (value, index), without allocating.
    /// </summary>
    /// <remarks>
    /// k = 1 is <see cref="ArgMin(ReadOnlySpan{float})"/>. Otherwise the k best values so far are kept in the
    /// destination, as a sorted array for k up to 16 (the beam widths of beam search: short, predictable insertion
    /// loops) and as a bounded max-heap beyond (O(columns log k) per row); a SIMD comparison of the
    /// <see cref="Kernels.Active"/> width against the worst value kept skips the values that cannot enter. The result
    /// does not depend on the width or the store.
    /// </remarks>
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
        if (rows == 0)
        {
            return;
        }
        var kernel = new TopKRowsKernel(values[..(rows * columns)], columns, k, indices[..(rows * k)], topValues[..(rows * k)]);
        SimdDispatch.Run<TopKRowsKernel, bool>(kernel, Kernels.Active, columns);
    }

    /// <summary>Whether (a, any larger index) ranks strictly before (b, smaller index): a &lt; b, or b is NaN and a is not.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Precedes(float a, float b) => a < b || (float.IsNaN(b) && !float.IsNaN(a));

    private readonly ref struct ArgMinKernel(ReadOnlySpan<float> row) : ISimdKernel<int>
    {
        private readonly ReadOnlySpan<float> _row = row;

        public int Run<TOps, TVec>()
            where TOps : struct, ISimdOps<TVec>
            where TVec : struct =>
            RowSelectionDriver<TOps, TVec>.ArgMin(_row);
    }

    private readonly ref struct TopKRowsKernel(ReadOnlySpan<float> values, int columns, int k, Span<int> indices, Span<float> topValues) : ISimdKernel<bool>
    {
        private readonly ReadOnlySpan<float> _values = values;
        private readonly Span<int> _indices = indices;
        private readonly Span<float> _topValues = topValues;

        public bool Run<TOps, TVec>()
            where TOps : struct, ISimdOps<TVec>
            where TVec : struct
        {
            for (int i = 0; i < _indices.Length / k; i++)
            {
                ReadOnlySpan<float> row = _values.Slice(i * columns, columns);
                Span<int> idx = _indices.Slice(i * k, k);
                Span<float> val = _topValues.Slice(i * k, k);
                if (k == 1)
                {
                    idx[0] = RowSelectionDriver<TOps, TVec>.ArgMin(row);
                    val[0] = row[idx[0]];
                    continue;
                }
                if (k <= SortedTopK.MaxK)
                {
                    RowSelectionDriver<TOps, TVec>.TopK<SortedTopK>(row, idx, val);
                }
                else
                {
                    RowSelectionDriver<TOps, TVec>.TopK<HeapTopK>(row, idx, val);
                }
            }
            return true;
        }
    }

    private static void CheckLength(int actual, long needed, string parameter)
    {
        if (actual < needed)
        {
            throw new ArgumentException($"The span holds {actual} values; its shape needs {needed}.", parameter);
        }
    }
}
